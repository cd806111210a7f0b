from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from das.forms import BoardDateForm
from das.models import StrategicArea
from das.selectors import (
    area_board,
    area_sections,
    areas_with_governance,
    board_change_dates,
    interested_organisations,
)

INTERESTED_SHOWN = 30


def home(request: HttpRequest) -> HttpResponse:
    areas = areas_with_governance(day=timezone.localdate())
    return render(request, "das/home.html", {"areas": areas})


def area_list(request: HttpRequest) -> HttpResponse:
    """The five DAS, each with its current board and how many listed members take an interest."""
    listed = Q(organisations__status="active", organisations__directory_opt_in=True)
    areas = areas_with_governance(day=timezone.localdate()).annotate(
        interested=Count("organisations", filter=listed, distinct=True)
    )
    return render(request, "das/area_list.html", {"areas": areas})


def area_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One DAS: description, its board on any date (?on=YYYY-MM-DD), members, and what later apps add."""
    area = get_object_or_404(StrategicArea, code=code)
    today = timezone.localdate()
    form = BoardDateForm(request.GET or None)
    day = today
    if form.is_bound and form.is_valid() and form.cleaned_data["on"]:
        day = form.cleaned_data["on"]
    interested = interested_organisations(area=area)
    context = {
        "area": area,
        "form": form,
        "day": day,
        "is_today": day == today,
        "board": area_board(area=area, day=day),
        "change_dates": board_change_dates(area=area),
        "interested": interested[:INTERESTED_SHOWN],
        "interested_count": interested.count(),
        "sections": area_sections(request=request, area=area, day=day),
    }
    return render(request, "das/area_detail.html", context)
