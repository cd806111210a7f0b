from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils.module_loading import import_string

from das.models import Mandate, StrategicArea


def areas_with_governance(*, day: datetime.date) -> QuerySet[StrategicArea]:
    """The five DAS, each with `board`: its mandates in force on `day`, president first."""
    board = Mandate.objects.as_of(day).select_related("person", "organisation").order_by("role", "person__last_name")
    return StrategicArea.objects.prefetch_related(Prefetch("mandates", queryset=board, to_attr="board"))


def area_board(*, area: StrategicArea, day: datetime.date) -> list[Mandate]:
    """The board of one DAS on `day`, president first, with the titles of that time."""
    return list(
        Mandate.objects.as_of(day)
        .filter(area=area)
        .select_related("person", "organisation")
        .order_by("role", "person__last_name", "person__first_name")
    )


def board_change_dates(*, area: StrategicArea) -> list[datetime.date]:
    """Every day the board of `area` changed (a mandate started or ended), most recent first."""
    rows = Mandate.objects.filter(area=area).values_list("start_date", "end_date")
    return sorted({day for pair in rows for day in pair if day is not None}, reverse=True)


def interested_organisations(*, area: StrategicArea) -> QuerySet:
    """Listed members (active, in the directory) that declared an interest in `area`."""
    return area.organisations.listed().order_by("name")


def area_sections(*, request, area: StrategicArea, day: datetime.date) -> list[dict]:
    """The sections later apps add to a DAS page, in the order of settings.DAS_AREA_SECTIONS.

    das must not import the apps that come after it (meetings, projects), so each contributes a
    function `(request=, area=, day=) -> {"template": ..., **context} | None`, named in the
    settings like PERSONAL_DATA_SELECTORS; None hides the section for this visitor.
    """
    sections = []
    for path in settings.DAS_AREA_SECTIONS:
        section = import_string(path)(request=request, area=area, day=day)
        if section is not None:
            sections.append(section)
    return sections


def personal_data(person) -> dict:
    """What the das app holds about a person: their mandates (meetings.selectors.personal_data adds the rest)."""
    mandates = Mandate.objects.filter(person=person).select_related("area").order_by("start_date")
    return {
        "mandates": [
            {
                "area": m.area.code,
                "role": m.role,
                "start_date": m.start_date,
                "end_date": m.end_date,
                "job_title_fr": m.position_fr,
                "job_title_en": m.position_en,
                "affiliation": m.affiliation,
            }
            for m in mandates
        ],
    }
