from __future__ import annotations

import datetime

from django.db.models import Prefetch, QuerySet

from das.models import Mandate, StrategicArea


def areas_with_governance(*, day: datetime.date) -> QuerySet[StrategicArea]:
    """The five DAS, each with `board`: its mandates in force on `day`, president first."""
    board = (
        Mandate.objects.as_of(day)
        .select_related("person", "person__organisation")
        .order_by("role", "person__last_name")
    )
    return StrategicArea.objects.prefetch_related(Prefetch("mandates", queryset=board, to_attr="board"))


def personal_data(person) -> dict:
    """What the das app holds about a person: mandates, meeting invitations and answers, topics, votes."""
    from das.models import CalendarFeed, Invitation, Topic, TopicVote

    mandates = Mandate.objects.filter(person=person).select_related("area").order_by("start_date")
    invitations = Invitation.objects.filter(person=person).select_related("meeting").order_by("meeting__starts_at")
    return {
        "mandates": [
            {"area": m.area.code, "role": m.role, "start_date": m.start_date, "end_date": m.end_date} for m in mandates
        ],
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
