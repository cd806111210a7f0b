"""Who may see and do what in the meetings pages: one visibility rule, `visible_meetings`.

The object check (`can_view_meeting`), the access helper (`selectors.get_meeting_for_user`),
the lists (`selectors.meetings_for_user`) and the DAS page's section all derive from it.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, Q, QuerySet

from das.models import Mandate
from das.permissions import is_kol
from meetings.models import Invitation, Meeting


def person_of(user):
    """The Person of a login (None for anonymous users and logins without one)."""
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


def can_propose_topics(user) -> bool:
    return can_use_meetings(user)


def visible_meetings(user) -> QuerySet[Meeting]:
    """The meetings `user` may see: staff, all; anyone else, those they are invited to, and as a
    KOL, the committee's and the boards of the DAS they sit on.

    A meeting still in preparation is for staff only, and a person whose invitation was
    withdrawn no longer sees the meeting, even through a seat.
    """
    meetings = Meeting.objects.all()
    if can_manage_meetings(user):
        return meetings
    person = person_of(user)
    if person is None:
        return meetings.none()
    mine = Invitation.objects.filter(person=person)
    seats = Mandate.objects.current().filter(person=person)
    visible = (
        Q(pk__in=mine.active().values("meeting_id"))
        | (Q(committee=Meeting.Committee.KOL_COMMITTEE) & Exists(seats))
        | Q(committee=Meeting.Committee.DAS_BOARD, area_id__in=seats.values("area_id"))
    )
    revoked = mine.filter(withdrawn_at__isnull=False).values("meeting_id")
    return meetings.filter(visible).exclude(status=Meeting.Status.DRAFT).exclude(pk__in=revoked)


def can_view_meeting(user, meeting: Meeting) -> bool:
    """Whether `user` may open `meeting` (one query; see visible_meetings)."""
    return visible_meetings(user).filter(pk=meeting.pk).exists()
