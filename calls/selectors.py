"""Reads of calls: the lists members see and the public feeds."""

from __future__ import annotations

import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from calls.models import Call

# Proposals counted on a call's page: those sent to the cluster (drafts are their authors' own).
SENT = ~Q(projects__status__in=["draft", "withdrawn"])


def accepting_calls(*, area_code: str = "", now: datetime.datetime | None = None) -> QuerySet[Call]:
    """Published calls still taking proposals (open or opening later), soonest deadline first,
    with the number of proposals sent for each."""
    calls = Call.objects.accepting(now or timezone.now())
    if area_code:
        calls = calls.filter(Q(areas__code=area_code) | Q(areas__isnull=True)).distinct()
    calls = calls.annotate(proposal_count=Count("projects", filter=SENT, distinct=True))
    return calls.order_by("internal_deadline", "pk").prefetch_related("areas")


def proposal_count(call: Call) -> int:
    return call.projects.exclude(status__in=["draft", "withdrawn"]).count()


def personal_data(person) -> dict:
    """What the calls app holds about a person: whether they unsubscribed from call announcements."""
    from calls.models import Unsubscription

    unsubscription = Unsubscription.objects.filter(person=person).first()
    return {"call_announcements_unsubscribed_on": unsubscription.created_at if unsubscription else None}
