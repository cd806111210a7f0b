"""Daylight-saving time, the .ics invitations, the signed answer links and the private feed."""

from __future__ import annotations

import datetime

import icalendar
import pytest
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from meetings import services
from meetings.calendar import invitation_ics
from meetings.emails import rsvp_token
from meetings.models import CalendarFeed, Delivery
from meetings.schedule import PARIS, reminder_moment
from meetings.tests.factories import make_meeting, make_people, run_scan

pytestmark = pytest.mark.django_db

QUARTER = datetime.timedelta(minutes=15)


@pytest.mark.parametrize(
    ("meeting_start", "one_day_before", "seven_days_before"),
    [
        # Clocks go forward on Sunday 29 March 2026 at 02:00 (that day lasts 23 hours).
        (
            datetime.datetime(2026, 3, 29, 10, 0, tzinfo=PARIS),
            datetime.datetime(2026, 3, 28, 10, 0, tzinfo=PARIS),
            datetime.datetime(2026, 3, 22, 10, 0, tzinfo=PARIS),
        ),
        (
            datetime.datetime(2026, 3, 30, 9, 30, tzinfo=PARIS),
            datetime.datetime(2026, 3, 29, 9, 30, tzinfo=PARIS),
            datetime.datetime(2026, 3, 23, 9, 30, tzinfo=PARIS),
        ),
        # Clocks go back on Sunday 25 October 2026 at 03:00.
        (
            datetime.datetime(2026, 10, 25, 10, 0, tzinfo=PARIS),
            datetime.datetime(2026, 10, 24, 10, 0, tzinfo=PARIS),
            datetime.datetime(2026, 10, 18, 10, 0, tzinfo=PARIS),
        ),
        (
            datetime.datetime(2026, 10, 26, 14, 0, tzinfo=PARIS),
            datetime.datetime(2026, 10, 25, 14, 0, tzinfo=PARIS),
            datetime.datetime(2026, 10, 19, 14, 0, tzinfo=PARIS),
        ),
    ],
)
def test_a_meeting_just_after_a_dst_change_gets_each_reminder_once_at_the_same_local_time(
    meeting_start, one_day_before, seven_days_before
):
    created = meeting_start - datetime.timedelta(days=10)
    meeting = make_meeting(starts_at=meeting_start, now=created, people=make_people(1))
    run_scan(created)
    mail.outbox.clear()

    # The scheduler ticks every minute; every quarter of an hour is enough to tell 09:00 from 10:00.
    tick = created
    while tick < meeting_start + QUARTER:
        run_scan(tick)
        tick += QUARTER

    reminders = {
        d.offset_minutes: d
        for d in meeting.deliveries.with_status().select_related("message").filter(kind=Delivery.Kind.REMINDER)
    }
    assert len(mail.outbox) == 2
    assert reminders[1440].status == reminders[7 * 1440].status == "sent"
    # Handed to the outbox and claimed by its sender at the scan of that moment (the test's clock).
    assert reminders[1440].message.claimed_at == one_day_before
    assert reminders[7 * 1440].message.claimed_at == seven_days_before
    assert reminders[1440].message.claimed_at.astimezone(PARIS).time() == meeting_start.time()


def test_the_reminder_moment_in_the_spring_gap_is_an_hour_later_and_in_the_autumn_overlap_the_first():
    # 02:30 does not exist on 29 March 2026; it exists twice on 25 October 2026.
    spring = reminder_moment(datetime.datetime(2026, 3, 30, 2, 30, tzinfo=PARIS), 1440)
    autumn = reminder_moment(datetime.datetime(2026, 10, 26, 2, 30, tzinfo=PARIS), 1440)

    assert spring.astimezone(PARIS).strftime("%d %H:%M") == "29 03:30"
    assert autumn == datetime.datetime(2026, 10, 25, 0, 30, tzinfo=datetime.UTC)  # 02:30 CEST


def test_the_ics_parses_with_icalendar_and_shows_the_local_time_uid_sequence_organizer_and_attendee(now):
    start = datetime.datetime(2030, 7, 4, 14, 30, tzinfo=PARIS)
    meeting = make_meeting(starts_at=start, people=make_people(1), video_url="https://visio.example/kol")
    invitation = meeting.invitations.get()

    calendar = icalendar.Calendar.from_ical(invitation_ics(invitation, stamp=now))

    assert calendar["METHOD"] == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert event["UID"] == f"{meeting.uid}@medicen.example"
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTSTART").astimezone(PARIS).strftime("%H:%M") == "14:30"
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert str(event["ORGANIZER"]) == "mailto:portal@medicen.example"
    assert str(event["ATTENDEE"]) == f"mailto:{invitation.email}"
    assert event["ATTENDEE"].params["PARTSTAT"] == "NEEDS-ACTION"
    assert "https://visio.example/kol" in event["LOCATION"]

    services.meeting_update(meeting=meeting, place="Hôpital Beaujon, Clichy")
    services.invitation_respond(invitation=invitation, response="accepted")
    invitation.refresh_from_db()
    [updated] = icalendar.Calendar.from_ical(invitation_ics(invitation, stamp=now)).walk("VEVENT")

    assert updated["UID"] == event["UID"]
    assert updated["SEQUENCE"] == 1
    assert updated["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"


def test_the_invitation_email_carries_a_calendar_part_with_method_request(smtp_sink):
    start = datetime.datetime(2030, 1, 10, 9, 0, tzinfo=PARIS)
    make_meeting(starts_at=start, people=make_people(1))

    run_scan(start - datetime.timedelta(days=20))

    [message] = smtp_sink.messages
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    assert part.get_filename() == "invite.ics"
    [event] = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
    assert event.decoded("DTSTART").astimezone(PARIS).hour == 9
    assert "10/01/2030 09:00" in message["Subject"]  # French short date (medicen_portal/formats)


def _link(invitation) -> str:
    return f"/meetings/rsvp/{rsvp_token(invitation)}/"


def test_an_answer_link_works_without_login_and_a_get_changes_nothing(client: Client, now):
    meeting = make_meeting(starts_at=now + datetime.timedelta(days=10), people=make_people(1))
    invitation = meeting.invitations.get()

    page = client.get(_link(invitation) + "?answer=declined")
    invitation.refresh_from_db()
    assert page.status_code == 200
    assert invitation.response == ""  # mail scanners follow links: only a POST records

    client.post(_link(invitation), {"answer": "declined"})

    invitation.refresh_from_db()
    assert invitation.response == "declined"
    assert not invitation.deliveries.with_status().filter(kind="reminder", status="pending").exists()


@pytest.mark.parametrize("tamper", ["flip_id", "flip_signature", "truncate", "other_meeting"])
def test_a_tampered_answer_link_is_refused(client: Client, now, tamper):
    people = make_people(2)
    meeting = make_meeting(starts_at=now + datetime.timedelta(days=10), people=people[:1])
    other = make_meeting(starts_at=now + datetime.timedelta(days=12), people=people[1:])
    token = rsvp_token(meeting.invitations.get())
    if tamper == "flip_id":
        payload, _, rest = token.partition(":")
        import base64
        import json

        raw = json.loads(base64.urlsafe_b64decode(payload + "==="))
        raw[0] = other.invitations.get().pk
        token = (
            base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode().rstrip("=") + ":" + rest
        )
    elif tamper == "flip_signature":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif tamper == "truncate":
        token = token[: len(token) // 2]
    else:
        # A well-signed token whose meeting fingerprint does not match the invitation's meeting.
        token = signing.dumps([other.invitations.get().pk, meeting.uid.hex[:12]], salt="das.meetings.rsvp")

    response = client.post(f"/meetings/rsvp/{token}/", {"answer": "accepted"})

    assert response.status_code == 400
    assert "Lien non valide" in response.content.decode()
    assert set(meeting.invitations.values_list("response", flat=True)) == {""}
    assert set(other.invitations.values_list("response", flat=True)) == {""}


def test_an_answer_link_is_refused_after_the_meeting_and_for_a_cancelled_meeting(client: Client, now):
    people = make_people(2)
    past = make_meeting(
        starts_at=now + datetime.timedelta(days=1), now=now - datetime.timedelta(days=5), people=people[:1]
    )
    cancelled = make_meeting(starts_at=now + datetime.timedelta(days=10), people=people[1:])
    services.meeting_cancel(meeting=cancelled)
    link = _link(past.invitations.get())

    # Two days later the meeting is over.
    later = timezone.now() + datetime.timedelta(days=2)
    past_invitation = past.invitations.get()
    with pytest.raises(services.MeetingError):
        services.invitation_respond(invitation=past_invitation, response="accepted", now=later)
    past.__class__.objects.filter(pk=past.pk).update(
        starts_at=now - datetime.timedelta(days=1), ends_at=now - datetime.timedelta(days=1, hours=-2)
    )

    expired = client.post(link, {"answer": "accepted"})
    refused = client.get(_link(cancelled.invitations.get()))

    assert expired.status_code == 410
    assert refused.status_code == 410
    assert "Les réponses sont closes" in expired.content.decode()
    assert past.invitations.get().response == ""


def test_the_private_calendar_feed_lists_the_persons_meetings_and_a_reset_revokes_the_old_url(client: Client, now):
    [person] = make_people(1)
    meeting = make_meeting(starts_at=now + datetime.timedelta(days=10), people=[person])
    feed = services.calendar_feed_for(person=person)

    response = client.get(f"/meetings/calendar/{feed.token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    [event] = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert event["UID"] == f"{meeting.uid}@medicen.example"

    old = feed.token
    services.calendar_feed_for(person=person, reset=True)

    assert client.get(f"/meetings/calendar/{old}.ics").status_code == 404
    assert client.get(f"/meetings/calendar/{CalendarFeed.objects.get().token}.ics").status_code == 200
    assert client.get("/meetings/calendar/not-a-token.ics").status_code == 404
