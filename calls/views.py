"""Pages and feeds of calls for projects: parse, authorise, read, respond."""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from calls import feeds, permissions, selectors, services
from das.models import StrategicArea
from members.permissions import is_member_contact

PAGE_SIZE = 20


@require_GET
def call_list(request: HttpRequest) -> HttpResponse:
    """Calls taking proposals, open now or opening later, filtered by strategic area."""
    areas = list(StrategicArea.objects.all())
    area = request.GET.get("area", "")
    if area not in {a.code for a in areas}:
        area = ""
    now = timezone.now()
    page = Paginator(selectors.accepting_calls(area_code=area, now=now), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "calls/list.html", {"page": page, "areas": areas, "area": area, "now": now})


@require_GET
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    call = permissions.get_call_for_user(request.user, pk)
    now = timezone.now()
    return render(
        request,
        "calls/detail.html",
        {
            "call": call,
            "proposal_count": selectors.proposal_count(call),
            "is_open": call.is_open(now),
            "is_closed": call.is_closed(now),
            "can_propose": call.is_published and call.is_open(now) and is_member_contact(request.user),
        },
    )


@require_GET
def calls_json(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    body = feeds.calls_json(selectors.accepting_calls(now=now), now=now)
    response = HttpResponse(json.dumps(body, ensure_ascii=False, indent=2), content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"  # public data, meant to be read by other sites
    return response


@require_GET
def deadlines_ics(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    body = feeds.deadlines_ics(selectors.accepting_calls(now=now), now=now, name=_("Medicen calls for projects"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="medicen-calls.ics"'
    return response


def calls_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The link in every call announcement: a page that asks, then a POST that unsubscribes.

    Asking first keeps mail scanners that open every link from unsubscribing people.
    """
    person = services.person_from_token(token)
    if person is None:
        return render(request, "calls/unsubscribe.html", {"invalid": True}, status=400)
    done = False
    if request.method == "POST":
        services.calls_unsubscribe(person=person)
        done = True
    return render(request, "calls/unsubscribe.html", {"person": person, "done": done})
