"""iCalendar (RFC 5545 / iTIP RFC 5546) documents for invitations, cancellations and feeds."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from email.utils import parseaddr

import icalendar
from django.conf import settings
from django.urls import reverse

from meetings.models import Invitation, Meeting
from meetings.schedule import PARIS

PRODID = "-//Medicen Paris Region//Medicen Portal//FR"
PARTSTAT = {
    Invitation.Response.NONE: "NEEDS-ACTION",
    Invitation.Response.ACCEPTED: "ACCEPTED",
    Invitation.Response.TENTATIVE: "TENTATIVE",
    Invitation.Response.DECLINED: "DECLINED",
}


def organizer_address() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "portal@medicen.example"


def meeting_uid(meeting: Meeting) -> str:
    """Stable for the meeting's whole life, so calendars update the event instead of adding one."""
    return f"{meeting.uid}@{organizer_address().partition('@')[2] or 'medicen.example'}"


def _agenda_items(meeting: Meeting):
    items = meeting.agenda_items.all()
    if "agenda_items" in getattr(meeting, "_prefetched_objects_cache", {}):
        return items  # the feed prefetched them with their topics
    return items.select_related("topic")


def _event(
    meeting: Meeting, *, attendees: Iterable[Invitation], stamp: datetime.datetime, cancel: bool
) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", meeting_uid(meeting))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", stamp.astimezone(datetime.UTC))
    # Local Paris times with TZID; the calendar carries the matching VTIMEZONE.
    event.add("dtstart", meeting.starts_at.astimezone(PARIS))
    event.add("dtend", meeting.ends_at.astimezone(PARIS))
    event.add("summary", meeting.title)
    location = ", ".join(part for part in (meeting.place, meeting.video_url) if part)
    if location:
        event.add("location", location)
    link = settings.SITE_URL + reverse("meetings:meeting_detail", args=[meeting.pk])
    # The agenda's topics are part of what invitees hold: adding one raises SEQUENCE too.
    topics = "\n".join(f"- {item.topic.title}" for item in _agenda_items(meeting))
    description = "\n\n".join(part for part in (meeting.agenda, topics, meeting.video_url, link) if part)
    event.add("description", description)
    event.add("url", link)
    event.add("status", "CANCELLED" if cancel or meeting.status == Meeting.Status.CANCELLED else "CONFIRMED")
    organizer = icalendar.vCalAddress(f"mailto:{organizer_address()}")
    organizer.params["cn"] = icalendar.vText("Medicen Paris Region")
    event.add("organizer", organizer)
    for invitation in attendees:
        attendee = icalendar.vCalAddress(f"mailto:{invitation.email}")
        attendee.params["cn"] = icalendar.vText(invitation.person.full_name)
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = icalendar.vText(PARTSTAT[invitation.response])
        attendee.params["rsvp"] = icalendar.vText("TRUE")
        event.add("attendee", attendee, encode=0)
    return event


def _add_timezone(calendar: icalendar.Calendar, moments: list[datetime.datetime]) -> None:
    """The Europe/Paris VTIMEZONE, its transitions limited to the years the events span
    (the default covers 1970-2038 and makes every invitation several kilobytes)."""
    first = min(moments).astimezone(PARIS).date().replace(month=1, day=1)
    last = max(moments).astimezone(PARIS).date().replace(month=12, day=31)
    calendar.add_missing_timezones(first_date=first, last_date=last + datetime.timedelta(days=1))


def _calendar(method: str) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    return calendar


def invitation_ics(invitation: Invitation, *, stamp: datetime.datetime, cancel: bool = False) -> bytes:
    """The .ics attached to one invitee's invitation, update (METHOD:REQUEST) or cancellation (METHOD:CANCEL)."""
    calendar = _calendar("CANCEL" if cancel else "REQUEST")
    calendar.add_component(_event(invitation.meeting, attendees=[invitation], stamp=stamp, cancel=cancel))
    _add_timezone(calendar, [invitation.meeting.starts_at])
    return calendar.to_ical()


def meeting_ics(meeting: Meeting, *, invitation: Invitation | None, stamp: datetime.datetime) -> bytes:
    """The "add to my calendar" file of one meeting (METHOD:PUBLISH), with the same UID and
    SEQUENCE as the e-mailed invitation, so calendars merge the two and later updates apply."""
    calendar = _calendar("PUBLISH")
    attendees = [invitation] if invitation is not None else []
    calendar.add_component(_event(meeting, attendees=attendees, stamp=stamp, cancel=False))
    _add_timezone(calendar, [meeting.starts_at])
    return calendar.to_ical()


def feed_ics(invitations: Iterable[Invitation], *, stamp: datetime.datetime, name: str) -> bytes:
    """A subscribable calendar (METHOD:PUBLISH) of one person's meetings."""
    calendar = _calendar("PUBLISH")
    starts: list[datetime.datetime] = []
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Paris")
    for invitation in invitations:
        calendar.add_component(_event(invitation.meeting, attendees=[invitation], stamp=stamp, cancel=False))
        starts.append(invitation.meeting.starts_at)
    _add_timezone(calendar, starts or [stamp])
    return calendar.to_ical()
