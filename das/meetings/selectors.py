"""Reads of the meetings pages: what a user may see, in a bounded number of queries."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from das.models import Delivery, Invitation, Mandate, Meeting, Topic, TopicVote
from das.permissions import _person, can_manage_meetings, can_view_meeting
from outbox.models import Message


def meetings_for_user(user) -> QuerySet[Meeting]:
    """Meetings the user may see (see can_view_meeting), with their area."""
    meetings = Meeting.objects.select_related("area").annotate(
        invited=Count("invitations", filter=Q(invitations__withdrawn_at__isnull=True), distinct=True)
    )
    if can_manage_meetings(user):
        return meetings
    person = _person(user)
    if person is None:
        return meetings.none()
    seats = Mandate.objects.current().filter(person=person)
    mine = Invitation.objects.filter(person=person)
    visible = Q(pk__in=mine.active().values("meeting_id"))
    if seats.exists():
        visible |= Q(committee=Meeting.Committee.KOL_COMMITTEE) | Q(area_id__in=seats.values("area_id"))
    # Drafts are for staff; a withdrawn invitation hides the meeting even from a KOL's seat.
    revoked = mine.filter(withdrawn_at__isnull=False).values("meeting_id")
    return meetings.filter(visible).exclude(status=Meeting.Status.DRAFT).exclude(pk__in=revoked)


def get_meeting_for_user(user, pk: int) -> Meeting:
    """The meeting if the user may see it; 404 otherwise (outsiders do not learn it exists)."""
    meeting = get_object_or_404(Meeting.objects.select_related("area"), pk=pk)
    if not can_view_meeting(user, meeting):
        raise Http404
    return meeting


def delivery_counts(meeting: Meeting) -> dict[str, dict[str, int]]:
    """{kind: {status: count}} for the staff view of a meeting (status: skipped, else the outbox's)."""
    counts: dict[str, dict[str, int]] = {}
    rows = meeting.deliveries.with_status().values("kind", "status").annotate(n=Count("pk")).order_by()
    for row in rows:
        counts.setdefault(row["kind"], {})[row["status"]] = row["n"]
    return counts


def deliveries_needing_attention(meeting: Meeting) -> QuerySet[Delivery]:
    """Deliveries whose outgoing e-mail failed, or was handed to the SMTP server without an answer (uncertain)."""
    return (
        meeting.deliveries.with_status()
        .filter(
            Q(message__status=Message.Status.FAILED)
            | Q(message__status=Message.Status.SENDING, message__uncertain_at__isnull=False)
        )
        .select_related("invitation__person", "message")
        .order_by("-message__updated_at")
    )


def topics_with_votes(person) -> QuerySet[Topic]:
    voted = TopicVote.objects.filter(topic=OuterRef("pk"), person=person) if person else None
    topics = (
        Topic.objects.filter(status=Topic.Status.PROPOSED)
        .annotate(vote_count=Count("votes", distinct=True))
        .select_related("proposed_by")
        .prefetch_related("areas")
        .order_by("-vote_count", "-created_at")
    )
    if voted is not None:
        topics = topics.annotate(voted=Exists(voted))
    return topics


def selected_topics() -> QuerySet[Topic]:
    """Topics the committees selected, most recent meeting first."""
    return (
        Topic.objects.filter(status=Topic.Status.SELECTED, selected_at__isnull=False)
        .select_related("selected_at", "selected_at__area")
        .prefetch_related("areas")
        .order_by("-selected_at__starts_at", "title")
    )
