"""Reads of the meetings pages: what a user may see, in a bounded number of queries."""

from __future__ import annotations

import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from das.models import StrategicArea
from meetings.models import CalendarFeed, Delivery, Invitation, Meeting, Topic, TopicVote
from meetings.permissions import visible_meetings
from outbox.models import Message


def meetings_for_user(user) -> QuerySet[Meeting]:
    """The meetings list: the meetings the user may see (permissions.visible_meetings), with their area."""
    return (
        visible_meetings(user)
        .select_related("area")
        .annotate(invited=Count("invitations", filter=Q(invitations__withdrawn_at__isnull=True), distinct=True))
    )


def get_meeting_for_user(user, pk: int) -> Meeting:
    """The meeting if the user may see it; 404 otherwise (outsiders do not learn it exists)."""
    return get_object_or_404(visible_meetings(user).select_related("area"), pk=pk)


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


def area_meetings_section(*, request, area: StrategicArea, day: datetime.date) -> dict | None:
    """The DAS page's board meetings (settings.DAS_AREA_SECTIONS): logged-in visitors see dates
    and titles (of a draft, only if they may open it); a link where the visitor may open the
    meeting (permissions.visible_meetings)."""
    user = request.user
    if not user.is_authenticated:
        return None
    now = timezone.now()
    meetings = Meeting.objects.filter(area=area, committee=Meeting.Committee.DAS_BOARD).exclude(
        status=Meeting.Status.CANCELLED
    )
    rows = [*meetings.upcoming(now)[:5], *meetings.past(now)[:5]]
    openable = set(visible_meetings(user).filter(pk__in=[m.pk for m in rows]).values_list("pk", flat=True))
    # A meeting still in preparation is announced to nobody yet: only those who may open it see it.
    rows = [m for m in rows if m.status != Meeting.Status.DRAFT or m.pk in openable]
    return {
        "template": "meetings/_area_section.html",
        "upcoming": [(m, m.pk in openable) for m in rows if m.ends_at > now],
        "past": [(m, m.pk in openable) for m in rows if m.ends_at <= now],
    }


def personal_data(person) -> dict:
    """What the meetings app holds about a person: invitations and answers, topics, votes, calendar feed."""
    invitations = Invitation.objects.filter(person=person).select_related("meeting").order_by("meeting__starts_at")
    return {
        "meeting_invitations": [
            {
                "meeting": i.meeting.title,
                "starts_at": i.meeting.starts_at,
                "email": i.email,
                "answer": i.response,
                "answered_at": i.responded_at,
                "attended": i.attended,
            }
            for i in invitations
        ],
        "topics_proposed": [
            {"title": t.title, "created_at": t.created_at} for t in Topic.objects.filter(proposed_by=person)
        ],
        "topic_votes": [
            {"topic": v.topic.title, "at": v.created_at}
            for v in TopicVote.objects.filter(person=person).select_related("topic")
        ],
        "calendar_feed": CalendarFeed.objects.filter(person=person).exists(),
    }
