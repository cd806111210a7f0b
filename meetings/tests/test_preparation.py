"""A meeting is prepared, then sent; changes reach those invited once; withdrawn invitations
are revoked; reminders follow the meeting's current time; the pages say it in French."""

from __future__ import annotations

import datetime

import icalendar
import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from meetings import engine, services
from meetings.emails import rsvp_token
from meetings.models import CalendarFeed, Delivery, Invitation, Meeting, Topic
from meetings.schedule import reminder_moment
from meetings.tests.factories import make_meeting, make_people, run_scan
from members.tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
NNBSP = "\u202f"
APOSTROPHE = "\u2019"


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _draft(*, now, people=(), **kwargs) -> Meeting:
    fields = {
        "title": "Comité des KOL",
        "committee": Meeting.Committee.KOL_COMMITTEE,
        "starts_at": now + 10 * DAY,
        "ends_at": now + 10 * DAY + 2 * HOUR,
        "place": "Medicen, Paris",
        "invite_default": False,
        "draft": True,
        "now": now,
    }
    fields.update(kwargs)
    meeting = services.meeting_create(**fields)
    if people:
        services.invitations_add(meeting=meeting, people=people, now=now)
    return meeting


def _topic(title: str) -> Topic:
    return Topic.objects.create(title=title)


def _sequence(message) -> int:
    (part,) = [p for p in message.message().walk() if p.get_content_type() == "text/calendar"]
    return int(icalendar.Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")[0]["SEQUENCE"])


# --- Issue 11, item 7: prepare, then send -----------------------------------------------


def test_a_prepared_meeting_emails_nobody_until_staff_send_its_invitations_with_the_topics(now):
    people = make_people(2)
    meeting = _draft(now=now, people=people)
    services.agenda_add_topic(meeting=meeting, topic=_topic("Réinventer le bloc opératoire"), now=now)

    run_scan(now + HOUR)
    assert mail.outbox == []
    assert not meeting.deliveries.exists()

    assert services.meeting_send_invitations(meeting=meeting, now=now + 2 * HOUR) == 2
    run_scan(now + 2 * HOUR)

    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert all("Réinventer le bloc opératoire" in m.body for m in mail.outbox)
    assert all(m.subject.startswith("Invitation") for m in mail.outbox)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED
    assert meeting.deliveries.with_status().filter(kind="reminder", status="pending").count() == 4


def test_sending_twice_sends_the_invitations_once(now):
    meeting = _draft(now=now, people=make_people(1))
    services.meeting_send_invitations(meeting=meeting, now=now)

    with pytest.raises(services.MeetingError):
        services.meeting_send_invitations(meeting=meeting, now=now)

    assert meeting.deliveries.filter(kind="invitation").count() == 1


def test_a_prepared_meeting_with_nobody_on_the_list_cannot_be_sent(now):
    meeting = _draft(now=now)

    with pytest.raises(services.MeetingError, match="Personne"):
        services.meeting_send_invitations(meeting=meeting, now=now)


def test_a_change_of_place_sends_each_invitee_one_update_with_a_higher_sequence(now):
    people = make_people(2)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=people)
    run_scan(now)
    mail.outbox.clear()

    services.meeting_update(meeting=meeting, place="Hôpital Cochin, Paris", now=now + HOUR)
    run_scan(now + HOUR)
    run_scan(now + 2 * HOUR)

    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert all("Hôpital Cochin" in m.body and _sequence(m) == 1 for m in mail.outbox)


def test_a_new_agenda_item_after_the_invitations_sends_one_update_a_day_at_most(now):
    people = make_people(2)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=people)
    run_scan(now)
    mail.outbox.clear()

    services.agenda_add_topic(meeting=meeting, topic=_topic("Biopsie liquide"), now=now + HOUR)
    services.agenda_add_topic(meeting=meeting, topic=_topic("Télésurveillance"), now=now + 2 * HOUR)
    run_scan(now + 3 * HOUR)
    assert mail.outbox == []  # the invitation went out less than a day ago

    run_scan(now + DAY)
    run_scan(now + DAY + HOUR)

    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    for message in mail.outbox:
        assert "Biopsie liquide" in message.body and "Télésurveillance" in message.body
        assert _sequence(message) == 2
    # The topics reach calendars too.
    ics = mail.outbox[0].attachments[0].content
    assert "Télésurveillance" in icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]["DESCRIPTION"]


def test_an_agenda_update_never_waits_past_the_meeting(now):
    meeting = make_meeting(starts_at=now + 10 * HOUR, now=now, people=make_people(1))
    run_scan(now)
    mail.outbox.clear()

    services.agenda_add_topic(meeting=meeting, topic=_topic("Biopsie liquide"), now=now + HOUR)
    run_scan(now + 8 * HOUR)

    assert len(mail.outbox) == 1 and "Biopsie liquide" in mail.outbox[0].body


def test_a_change_of_time_goes_out_at_once_even_after_an_agenda_update_today(now):
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=make_people(1))
    run_scan(now)
    services.agenda_add_topic(meeting=meeting, topic=_topic("Biopsie liquide"), now=now + HOUR)
    mail.outbox.clear()

    new_start = meeting.starts_at + DAY
    services.meeting_update(meeting=meeting, starts_at=new_start, ends_at=new_start + 2 * HOUR, now=now + 2 * HOUR)
    run_scan(now + 2 * HOUR)
    run_scan(now + DAY + HOUR)  # the superseded agenda update does not follow

    assert len(mail.outbox) == 1
    assert "Biopsie liquide" in mail.outbox[0].body and _sequence(mail.outbox[0]) == 2


def test_a_meeting_in_preparation_is_seen_by_staff_only(staff, kol, now):
    meeting = _draft(now=now, people=[kol.person])

    assert _as(staff).get(f"/meetings/{meeting.pk}/").status_code == 200
    assert _as(kol).get(f"/meetings/{meeting.pk}/").status_code == 404
    assert meeting.title not in _as(kol).get("/meetings/").content.decode()


def test_staff_see_the_draft_panel_and_the_send_button_asks_first(staff, now):
    meeting = _draft(now=now, people=make_people(3))

    page = _as(staff).get(f"/meetings/{meeting.pk}/").content.decode()

    assert "En préparation" in page
    assert f'action="/meetings/{meeting.pk}/send/"' in page
    assert 'data-confirm="Envoyer les invitations maintenant' in page


# --- Issue 12, item 4: a withdrawn invitation is revoked ------------------------------------


@pytest.fixture
def withdrawn(now):
    """A member contact (no seat) invited to a meeting with a video link, then withdrawn."""
    user = UserFactory()
    person = PersonFactory(user=user, email=user.email)
    meeting = make_meeting(
        starts_at=now + 10 * DAY, now=now, people=[person], video_url="https://visio.example/secret-room"
    )
    invitation = meeting.invitations.get()
    return user, meeting, invitation


def test_an_invitee_sees_the_meeting_until_the_invitation_is_withdrawn(withdrawn):
    user, meeting, invitation = withdrawn
    client = _as(user)
    assert "secret-room" in client.get(f"/meetings/{meeting.pk}/").content.decode()

    services.invitation_remove(invitation=invitation)

    assert client.get(f"/meetings/{meeting.pk}/").status_code == 404
    assert client.get(f"/meetings/{meeting.pk}/calendar.ics").status_code == 404
    assert client.post(f"/meetings/{meeting.pk}/respond/", {"answer": "accepted"}).status_code == 404
    feed = services.calendar_feed_for(person=user.person)
    assert b"secret-room" not in client.get(f"/meetings/calendar/{feed.token}.ics").content
    invitation.refresh_from_db()
    assert invitation.response == ""


def test_the_emailed_link_of_a_withdrawn_invitation_is_refused_and_records_nothing(withdrawn):
    _user, meeting, invitation = withdrawn
    url = f"/meetings/rsvp/{rsvp_token(invitation)}/"
    services.invitation_remove(invitation=invitation)

    shown = Client().get(url + "?answer=accepted")
    posted = Client().post(url, {"answer": "accepted"})
    ics = Client().get(url + "calendar.ics")

    assert shown.status_code == posted.status_code == ics.status_code == 410
    text = posted.content.decode()
    assert "Invitation retirée" in text and f"rien n{APOSTROPHE}a été enregistré" in text
    assert "secret-room" not in text and meeting.place not in text
    invitation.refresh_from_db()
    assert invitation.response == "" and invitation.responded_at is None
    with pytest.raises(services.MeetingError):
        services.invitation_respond(invitation=invitation, response="accepted")


def test_a_withdrawn_kol_no_longer_sees_the_meeting_through_the_seat(kol, area, now):
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[kol.person])
    services.invitation_remove(invitation=meeting.invitations.get())

    assert _as(kol).get(f"/meetings/{meeting.pk}/").status_code == 404
    assert meeting.title not in _as(kol).get("/meetings/").content.decode()


def test_a_withdrawn_invitee_gets_a_cancellation_and_no_later_update(now):
    kept, gone = make_people(2)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[kept, gone])
    run_scan(now)
    services.invitation_remove(invitation=meeting.invitations.get(person=gone), now=now + HOUR)
    services.meeting_update(meeting=meeting, place="Hôpital Cochin", now=now + 2 * HOUR)
    services.meeting_update(meeting=meeting, reminder_offsets=[3 * 1440], now=now + 2 * HOUR)
    mail.outbox.clear()

    run_scan(now + 3 * HOUR)
    run_scan(meeting.starts_at - HOUR)

    to_gone = [m.subject for m in mail.outbox if m.to == [gone.email]]
    assert len(to_gone) == 1 and to_gone[0].startswith("Annulation")
    assert len([m for m in mail.outbox if m.to == [kept.email]]) == 2  # the update, the 3-day reminder


# --- Issue 12, item 16: reminders follow the meeting's current time --------------------------


def test_decline_then_reschedule_then_accept_brings_the_reminders_back_at_the_new_times(now):
    person = make_people(1)[0]
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[person])
    run_scan(now)
    invitation = meeting.invitations.get()
    services.invitation_respond(invitation=invitation, response="declined", now=now + HOUR)
    new_start = meeting.starts_at + 3 * DAY
    services.meeting_update(meeting=meeting, starts_at=new_start, ends_at=new_start + 2 * HOUR, now=now + 2 * HOUR)

    services.invitation_respond(invitation=invitation, response="accepted", now=now + 3 * HOUR)

    reminders = meeting.deliveries.with_status().filter(kind="reminder", status="pending").order_by("-offset_minutes")
    assert [(r.offset_minutes, r.due_at) for r in reminders] == [
        (7 * 1440, reminder_moment(new_start, 7 * 1440)),
        (1440, reminder_moment(new_start, 1440)),
    ]
    run_scan(reminder_moment(new_start, 7 * 1440))
    mail.outbox.clear()
    run_scan(reminder_moment(new_start - 3 * DAY, 1440))  # the old "1 day before"
    assert mail.outbox == []
    run_scan(reminder_moment(new_start, 1440))
    assert len(mail.outbox) == 1 and mail.outbox[0].subject.startswith("Rappel")


# --- Issue 11, item 8: add to my calendar; the answer page says it all ----------------------


def test_the_meeting_page_offers_the_meeting_as_ics_with_the_invitation_uid_and_sequence(kol, now):
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[kol.person])
    services.meeting_update(meeting=meeting, place="Hôpital Cochin", now=now)
    client = _as(kol)

    assert f'href="/meetings/{meeting.pk}/calendar.ics"' in client.get(f"/meetings/{meeting.pk}/").content.decode()
    response = client.get(f"/meetings/{meeting.pk}/calendar.ics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    event = icalendar.Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert str(event["UID"]).startswith(str(meeting.uid))
    assert int(event["SEQUENCE"]) == 1
    assert "Cochin" in str(event["LOCATION"])


def test_the_answer_page_shows_the_end_time_the_agenda_the_video_link_and_the_ics(now):
    meeting = _draft(
        now=now,
        people=make_people(1),
        starts_at=timezone.make_aware(datetime.datetime(2031, 3, 4, 14, 0)),
        ends_at=timezone.make_aware(datetime.datetime(2031, 3, 4, 16, 30)),
        video_url="https://visio.example/comite",
        agenda="Tour de table des DAS.",
    )
    services.agenda_add_topic(meeting=meeting, topic=_topic("Biopsie liquide"), now=now)
    services.meeting_send_invitations(meeting=meeting, now=now)
    token = rsvp_token(meeting.invitations.get())

    page = Client().get(f"/meetings/rsvp/{token}/").content.decode()
    ics = Client().get(f"/meetings/rsvp/{token}/calendar.ics")

    assert "14:00" in page and "16:30" in page
    assert "Tour de table des DAS." in page and "Biopsie liquide" in page
    assert "https://visio.example/comite" in page
    assert f'href="/meetings/rsvp/{token}/calendar.ics"' in page
    assert ics.status_code == 200
    assert icalendar.Calendar.from_ical(ics.content).walk("VEVENT")[0]["SUMMARY"] == meeting.title


# --- Issue 11, item 9: the invite box finds people by either address or by name ------------


@pytest.fixture
def committee(now):
    return _draft(now=now)


def test_staff_invite_someone_by_their_login_address(staff, committee):
    user = UserFactory(email="contact@medicen.example")
    person = PersonFactory(user=user, email="")

    _as(staff).post(f"/meetings/{committee.pk}/invite/", {"email": "Contact@Medicen.example"})

    assert list(committee.invitations.values_list("person_id", "email")) == [(person.pk, "contact@medicen.example")]


def test_staff_invite_someone_by_name(staff, committee):
    person = PersonFactory(first_name="Valérie", last_name="Vilgrain", email="v.vilgrain@example.org")
    PersonFactory(first_name="Valérie", last_name="Martin", email="v.martin@example.org")

    ambiguous = _as(staff).post(f"/meetings/{committee.pk}/invite/", {"email": "Valérie"}, follow=True)
    assert not committee.invitations.exists()
    assert "Plusieurs personnes" in ambiguous.content.decode() and "Valérie Martin" in ambiguous.content.decode()

    _as(staff).post(f"/meetings/{committee.pk}/invite/", {"email": "valérie vilgrain"})

    assert list(committee.invitations.values_list("person_id", flat=True)) == [person.pk]


# --- Issue 11, items 6 and 14: confirmation and French ---------------------------------------


def test_cancelling_and_withdrawing_ask_for_confirmation(staff, now):
    meeting = make_meeting(starts_at=now + 10 * DAY, people=make_people(1))

    page = _as(staff).get(f"/meetings/{meeting.pk}/").content.decode()

    assert 'data-confirm="Annuler cette réunion' in page
    assert f'data-confirm="Retirer l{APOSTROPHE}invitation de' in page


def test_the_meeting_page_is_in_french_typography(staff, now):
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=make_people(1))
    run_scan(now)

    page = _as(staff).get(f"/meetings/{meeting.pk}/").content.decode()

    assert f"Accepté{NNBSP}: 0" in page and f"Pas encore de réponse{NNBSP}: 1" in page
    assert "<th>Réponse</th>" in page and "Répondre" not in page
    assert "<td>Invitation</td>" in page and "<td>Rappel</td>" in page
    assert "<td>invitation</td>" not in page and "reminder" not in page


def test_withdrawn_reminders_are_recorded_with_their_reason(now):
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=make_people(1))
    services.invitation_remove(invitation=meeting.invitations.get(), now=now)

    assert set(meeting.deliveries.with_status().values_list("status", "skip_reason")) >= {
        ("skipped", engine.REASON_UNINVITED)
    }
    assert Invitation.objects.get().withdrawn_at is not None
    assert not CalendarFeed.objects.exists()
    assert Delivery.objects.with_status().filter(status="pending").count() == 0
