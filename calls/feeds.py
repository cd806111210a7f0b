"""The public feeds of calls: JSON of the calls taking proposals, and an iCalendar of their deadlines.

The JSON fields are documented in docs/calls.md; times are ISO 8601 with the Paris offset.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

import icalendar
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from calls.models import Call

PRODID = "-//Medicen Paris Region//Medicen Portal calls//FR"
FEED_VERSION = 1


def _iso(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).isoformat()


def call_json(call: Call) -> dict:
    return {
        "id": call.pk,
        "url": settings.SITE_URL + reverse("calls:detail", args=[call.pk]),
        "funder": call.funder,
        "funder_name": str(call.get_funder_display()),
        "programme": call.programme,
        "title": {"fr": call.title_fr, "en": call.title_en},
        "description": {"fr": call.description_fr, "en": call.description_en},
        "areas": [area.code for area in call.areas.all()],
        "opens_on": call.opens_on.isoformat(),
        "internal_deadline": _iso(call.internal_deadline),
        "funder_deadline": _iso(call.funder_deadline),
        "kinds": call.kinds,
        "max_aid_rate": str(call.max_aid_rate) if call.max_aid_rate is not None else None,
        "documents_required": call.documents,
        "funder_url": call.url or None,
    }


def calls_json(calls: Iterable[Call], *, now: datetime.datetime) -> dict:
    return {"version": FEED_VERSION, "generated_at": _iso(now), "calls": [call_json(call) for call in calls]}


def deadlines_ics(calls: Iterable[Call], *, now: datetime.datetime, name: str) -> bytes:
    """One event per deadline (the cluster's and the funder's), each an instant in Paris time."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Paris")
    domain = settings.SITE_URL.split("//")[-1].split("/")[0].split(":")[0] or "medicen.example"
    moments = [now]
    for call in calls:
        link = settings.SITE_URL + reverse("calls:detail", args=[call.pk])
        for kind, moment, label in (
            ("internal", call.internal_deadline, "Medicen"),
            ("funder", call.funder_deadline, str(call.get_funder_display())),
        ):
            event = icalendar.Event()
            event.add("uid", f"call-{call.pk}-{kind}@{domain}")
            event.add("dtstamp", now.astimezone(datetime.UTC))
            # An instant: DTSTART with neither DTEND nor DURATION (RFC 5545 §3.6.1).
            event.add("dtstart", timezone.localtime(moment))
            event.add("summary", f"{label} · {call.programme} · {call.title}")
            event.add("description", link)
            event.add("url", link)
            calendar.add_component(event)
            moments.append(moment)
    first = timezone.localtime(min(moments)).date().replace(month=1, day=1)
    last = timezone.localtime(max(moments)).date().replace(month=12, day=31)
    calendar.add_missing_timezones(first_date=first, last_date=last + datetime.timedelta(days=1))
    return calendar.to_ical()
