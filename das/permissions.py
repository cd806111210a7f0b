"""Who may do what in the DAS governance and committee pages."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ObjectDoesNotExist

from das.models import Mandate


def is_kol(user: AnonymousUser) -> bool:
    """A key opinion leader: a login whose person holds a current governance mandate."""
    if not user.is_authenticated:
        return False
    return Mandate.objects.current().filter(person__user=user).exists()


# --- Committee meetings -------------------------------------------------------------------


def _person(user):
    """The Person of a login, without importing the members app."""
    if not user.is_authenticated:
        return None
    try:
        return user.person
    except ObjectDoesNotExist:
        return None


def can_manage_meetings(user) -> bool:
    """Staff schedule meetings, invite, cancel, record minutes and see deliveries."""
    return bool(user.is_authenticated and user.is_staff)


def can_use_meetings(user) -> bool:
    """Staff and KOLs see /meetings/ and the topics."""
    return can_manage_meetings(user) or is_kol(user)


def can_view_meeting(user, meeting) -> bool:
    """Staff; anyone invited; a KOL for the committee or for the board of a DAS they sit on.

    A meeting still in preparation is for staff only, and a person whose invitation was
    withdrawn no longer sees the meeting, even through a seat.
    """
    if can_manage_meetings(user):
        return True
    person = _person(user)
    if person is None or meeting.status == "draft":
        return False
    invitation = meeting.invitations.filter(person=person).first()
    if invitation is not None:
        return invitation.withdrawn_at is None
    seats = Mandate.objects.current().filter(person=person)
    if meeting.committee == "kol_committee":
        return seats.exists()
    return seats.filter(area_id=meeting.area_id).exists()


def can_propose_topics(user) -> bool:
    return can_use_meetings(user)
