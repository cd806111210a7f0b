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
