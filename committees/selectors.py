"""Reads of labelling committees that other pages show."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from committees.models import Item, Session
from projects.selectors import FUNDED, Outcomes, OutcomeTable


def impact_sessions() -> OutcomeTable | None:
    """The impact dashboard's table of committee sessions (settings.IMPACT_OUTCOME_TABLES).

    Every session with a proposal on its agenda, latest first, in one query: proposals on the
    agenda, labelled and not labelled by this session (the others await a decision: not decided
    yet, or more information requested), and of the labelled ones those funded since. None when
    there is none.
    """
    labelled = Q(items__decision=Item.Decision.LABELLED)
    sessions = (
        Session.objects.select_related("area")
        .annotate(
            proposals=Count("items", distinct=True),
            not_labelled=Count("items", filter=Q(items__decision=Item.Decision.NOT_LABELLED), distinct=True),
            labelled=Count("items", filter=labelled, distinct=True),
            funded=Count("items", filter=labelled & Q(items__project__status__in=FUNDED), distinct=True),
        )
        .filter(proposals__gt=0)
        .order_by("-held_at", "-pk")
    )
    rows = [
        Outcomes(
            label=f"{session.area.name} — {timezone.localtime(session.held_at):%d/%m/%Y}",
            proposals=session.proposals,
            labelled=session.labelled,
            not_labelled=session.not_labelled,
            funded=session.funded,
            staff_url=reverse("committees:detail", args=[session.pk]),
        )
        for session in sessions
    ]
    if not rows:
        return None
    return OutcomeTable(
        key="committee_session", title=_("By labelling committee session"), rows=rows, first_column=_("Session")
    )
