"""The reminder engine, driven synchronously with an explicit clock (the send path the
periodic task and `send_due_reminders` share)."""

from __future__ import annotations

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from kombu.exceptions import OperationalError

from conftest import wait_for
from das.meetings import engine, services
from das.meetings.schedule import reminder_moment
from das.models import Delivery, Invitation
from das.tests.conftest import make_meeting, make_people, run_scan

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


HOUR = datetime.timedelta(hours=1)


def _kinds(outbox) -> list[str]:
    """The first word(s) of each subject: Invitation, Mise à jour, Annulation, Rappel, Merci de répondre."""
    return [m.subject.split(":")[0].strip() for m in outbox]


def _ics(message) -> str:
    part = next(a for a in message.attachments if not isinstance(a, tuple) and a.get_content_type() == "text/calendar")
    return part.get_payload(decode=True).decode()


def test_invitation_goes_out_once_however_often_the_scan_and_the_task_run(now):
    people = make_people(3)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=people)

    run_scan(now)
    run_scan(now)
    for delivery in Delivery.objects.all():
        engine.delivery_send(delivery_id=delivery.pk, now=now)

    assert len(mail.outbox) == 3
    assert {m.to[0] for m in mail.outbox} == {p.email for p in people}
    assert all(m.subject.startswith("Invitation") for m in mail.outbox)
    assert "METHOD:REQUEST" in _ics(mail.outbox[0])
    assert meeting.deliveries.filter(kind=Delivery.Kind.INVITATION, status=Delivery.Status.SENT).count() == 3


def test_reminders_are_sent_at_their_offsets_and_not_before(now):
    [person] = make_people(1)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[person])
    run_scan(now)
    mail.outbox.clear()
    moment = reminder_moment(meeting.starts_at, 7 * 1440)

    run_scan(moment - datetime.timedelta(minutes=1))
    assert mail.outbox == []
    run_scan(moment)
    run_scan(moment + datetime.timedelta(minutes=1))
    assert len(mail.outbox) == 1
    run_scan(now + 9 * DAY)

    assert len(mail.outbox) == 2
    assert meeting.deliveries.filter(kind=Delivery.Kind.REMINDER, status=Delivery.Status.SENT).count() == 2


def test_an_invitee_who_has_not_answered_gets_a_please_reply_reminder_and_one_who_accepted_a_plain_one(now):
    silent, accepting = make_people(2)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[silent, accepting], reminder_offsets=[1440])
    services.invitation_respond(invitation=meeting.invitations.get(person=accepting), response="accepted", now=now)
    run_scan(now)
    mail.outbox.clear()

    run_scan(now + 9 * DAY)

    by_address = {m.to[0]: m for m in mail.outbox}
    assert by_address[silent.email].subject.startswith("Merci de répondre")
    assert "pas encore" in by_address[silent.email].body
    assert by_address[accepting.email].subject.startswith("Rappel")
    assert meeting.deliveries.get(invitation__person=silent, kind="reminder").variant == "reply_request"


def test_an_invitee_who_declined_gets_no_reminder_until_they_change_their_mind(now):
    [person] = make_people(1)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[person])
    invitation = meeting.invitations.get()
    run_scan(now)
    mail.outbox.clear()

    services.invitation_respond(invitation=invitation, response="declined", now=now + DAY)
    run_scan(now + 3 * DAY + 2 * HOUR)
    assert mail.outbox == []
    assert set(invitation.deliveries.filter(kind="reminder").values_list("status", "reason")) == {
        ("skipped", engine.REASON_DECLINED)
    }

    services.invitation_respond(invitation=invitation, response="tentative", now=now + 4 * DAY)
    run_scan(now + 9 * DAY)
    assert _kinds(mail.outbox) == ["Rappel"]  # the 1-day one; the 7-day moment had passed


def test_rescheduling_moves_unsent_reminders_and_sends_an_updated_invitation_with_a_higher_sequence(now):
    [person] = make_people(1)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[person])
    run_scan(now)
    run_scan(now + 3 * DAY + 2 * HOUR)  # the 7-day reminder goes out
    mail.outbox.clear()

    services.meeting_update(
        meeting=meeting, by=None, starts_at=now + 20 * DAY, ends_at=now + 20 * DAY + datetime.timedelta(hours=2),
        now=now + 4 * DAY,
    )  # fmt: skip
    run_scan(now + 4 * DAY)
    assert _kinds(mail.outbox) == ["Mise à jour"]
    ics = _ics(mail.outbox[0])
    assert "SEQUENCE:1" in ics
    assert f"UID:{meeting.uid}@" in ics
    mail.outbox.clear()

    run_scan(now + 9 * DAY)  # the old 1-day moment: nothing any more
    assert mail.outbox == []
    run_scan(now + 19 * DAY)
    assert _kinds(mail.outbox) == ["Merci de répondre"]  # the new 1-day reminder; no answer yet
    # The 7-day reminder was sent before the move and is not sent a second time.
    assert meeting.deliveries.filter(kind="reminder", status="sent").count() == 2
    assert not meeting.deliveries.filter(status__in=["pending", "sending"]).exists()


def test_moving_a_meeting_earlier_skips_reminders_whose_moment_is_already_past(now):
    [person] = make_people(1)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[person])
    run_scan(now)
    mail.outbox.clear()

    services.meeting_update(
        meeting=meeting, by=None, starts_at=now + 3 * DAY, ends_at=now + 3 * DAY + DAY / 12, now=now
    )
    run_scan(now)

    assert _kinds(mail.outbox) == ["Mise à jour"]  # no burst of late reminders on top of the update
    seven = meeting.deliveries.get(kind="reminder", offset_minutes=7 * 1440)
    assert (seven.status, seven.reason) == ("skipped", engine.REASON_MOVED_PAST)


def test_cancelling_sends_a_cancellation_and_no_more_reminders(now):
    people = make_people(2)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=people)
    run_scan(now)
    mail.outbox.clear()

    services.meeting_cancel(meeting=meeting, by=None, now=now + DAY)
    run_scan(now + DAY)
    run_scan(now + 9 * DAY)

    assert _kinds(mail.outbox) == ["Annulation", "Annulation"]
    ics = _ics(mail.outbox[0])
    assert "METHOD:CANCEL" in ics
    assert "STATUS:CANCELLED" in ics
    assert "SEQUENCE:1" in ics
    assert not meeting.deliveries.filter(kind="reminder", status="sent").exists()
    assert set(meeting.deliveries.filter(kind="reminder").values_list("reason", flat=True)) == {engine.REASON_CANCELLED}


def test_one_email_per_address_even_if_two_records_share_it_or_a_person_is_invited_twice(now):
    first, second = make_people(2)
    second.email = first.email.upper()
    second.save()
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[first, second, first])
    services.invitations_add(meeting=meeting, people=[first], now=now)

    run_scan(now)

    assert meeting.invitations.count() == 1
    assert len(mail.outbox) == 1


def test_a_reminder_missed_while_the_system_was_down_is_sent_late_if_the_meeting_is_still_ahead(now):
    [person] = make_people(1)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[person], reminder_offsets=[7 * 1440])
    run_scan(now)
    mail.outbox.clear()

    run_scan(now + 5 * DAY)  # down from day 2 to day 5: the 7-day moment (day 3) passed unseen

    assert _kinds(mail.outbox) == ["Merci de répondre"]
    assert meeting.deliveries.get(kind="reminder").status == "sent"


def test_a_reminder_whose_meeting_has_started_is_skipped_with_the_reason(now):
    [person] = make_people(1)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[person], reminder_offsets=[1440])
    run_scan(now)
    mail.outbox.clear()

    run_scan(now + 11 * DAY)  # down until after the meeting

    assert mail.outbox == []
    reminder = meeting.deliveries.get(kind="reminder")
    assert (reminder.status, reminder.reason) == ("skipped", engine.REASON_STARTED)


def test_inviting_someone_after_a_reminders_moment_records_it_as_skipped(now):
    [person] = make_people(1)
    make_meeting(starts_at=now + 3 * DAY, now=now, people=[person])

    seven, one = Delivery.objects.filter(kind="reminder").order_by("-offset_minutes")

    assert (seven.status, seven.reason) == ("skipped", engine.REASON_INVITED_LATE)
    assert one.status == "pending"


def test_a_transient_smtp_error_is_retried_later_with_backoff_and_a_permanent_one_is_recorded(smtp_sink, now):
    good, bad = make_people(2)
    make_meeting(starts_at=now + 10 * DAY, now=now, people=[good, bad], reminder_offsets=[1440])
    smtp_sink.fail_next(1, "451 4.3.0 Try again later")

    run_scan(now)
    retried = Delivery.objects.get(kind="invitation", status="pending")
    assert retried.attempts == 1
    assert "451" in retried.reason
    assert now + datetime.timedelta(seconds=45) <= retried.next_attempt_at <= now + datetime.timedelta(seconds=60)
    assert len(smtp_sink.messages) == 1

    run_scan(now + datetime.timedelta(seconds=30))  # not yet
    assert len(smtp_sink.messages) == 1
    run_scan(now + datetime.timedelta(minutes=2))
    assert len(smtp_sink.messages) == 2
    assert Delivery.objects.get(pk=retried.pk).status == "sent"

    smtp_sink.fail_next(1, "550 5.1.1 No such user")
    run_scan(now + 9 * DAY)
    failed = Delivery.objects.get(kind="reminder", status="failed")
    assert "550" in failed.reason
    assert "permanent" in failed.reason
    assert len(smtp_sink.messages) == 3


def test_backoff_is_capped_below_the_broker_visibility_timeout(settings):
    assert engine.backoff(30) <= datetime.timedelta(seconds=settings.MEETINGS_RETRY_BACKOFF_CAP)
    if settings.REDIS_URL:
        assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > settings.MEETINGS_RETRY_BACKOFF_CAP


def test_a_transient_error_that_never_clears_ends_as_failed_after_the_maximum_attempts(smtp_sink, settings, now):
    settings.MEETINGS_MAX_ATTEMPTS = 3
    make_meeting(starts_at=now + 10 * DAY, now=now, people=make_people(1), reminder_offsets=[1440])
    smtp_sink.fail_next(5)

    for minutes in (0, 5, 30):
        run_scan(now + datetime.timedelta(minutes=minutes))

    invitation = Delivery.objects.get(kind="invitation")
    assert (invitation.status, invitation.attempts) == ("failed", 3)
    assert "gave up after 3 attempts" in invitation.reason


def test_a_delivery_handed_to_smtp_but_never_recorded_is_flagged_for_staff_and_not_sent_again(now):
    make_meeting(starts_at=now + 10 * DAY, now=now, people=make_people(1))
    delivery = Delivery.objects.get(kind="invitation")
    # A worker handed the message over and died before the server's answer was recorded.
    Delivery.objects.filter(pk=delivery.pk).update(status="sending", claimed_at=now, handed_at=now)

    run_scan(now + datetime.timedelta(minutes=14))
    assert Delivery.objects.get(pk=delivery.pk).stuck_flagged_at is None
    run_scan(now + datetime.timedelta(minutes=16))
    engine.delivery_send(delivery_id=delivery.pk, now=now + datetime.timedelta(minutes=17))

    delivery.refresh_from_db()
    assert delivery.status == "sending"
    assert delivery.stuck_flagged_at == now + datetime.timedelta(minutes=16)
    assert delivery.reason == engine.REASON_STUCK
    assert mail.outbox == []


def test_a_delivery_claimed_but_never_handed_over_is_released_after_the_lease_and_sent_once(now):
    make_meeting(starts_at=now + 10 * DAY, now=now, people=make_people(1))
    delivery = Delivery.objects.get(kind="invitation")
    # A worker claimed it and died before the message reached the SMTP server's end-of-data.
    Delivery.objects.filter(pk=delivery.pk).update(status="sending", claimed_at=now, attempts=1)

    run_scan(now + engine.LEASE - datetime.timedelta(minutes=1))
    assert (Delivery.objects.get(pk=delivery.pk).status, mail.outbox) == ("sending", [])
    result = run_scan(now + engine.LEASE + datetime.timedelta(minutes=1))
    run_scan(now + engine.LEASE + datetime.timedelta(minutes=20))

    delivery.refresh_from_db()
    assert result.released == 1
    assert (delivery.status, delivery.attempts, delivery.stuck_flagged_at) == ("sent", 2, None)
    assert len(mail.outbox) == 1


def test_a_sender_whose_row_was_released_meanwhile_abandons_its_message_and_only_the_new_owner_sends(
    smtp_sink, now, monkeypatch
):
    make_meeting(starts_at=now + 10 * DAY, now=now, people=make_people(1))
    delivery = Delivery.objects.get(kind="invitation")
    build_message = engine.build_message
    inner: list[str] = []

    def slow_build(row, **kwargs):
        # While this (slow) sender builds its message, a scan judges it gone and releases the
        # row, and another sender claims and sends it.
        monkeypatch.setattr(engine, "build_message", build_message)
        Delivery.objects.filter(pk=row.pk).update(status="pending")
        inner.append(engine.delivery_send(delivery_id=row.pk, now=now))
        return build_message(row, **kwargs)

    monkeypatch.setattr(engine, "build_message", slow_build)
    outcome = engine.delivery_send(delivery_id=delivery.pk, now=now)

    delivery.refresh_from_db()
    assert (inner, outcome) == (["sent"], "")
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    # The first sender's body reached the server, but without its end-of-data mark: discarded.
    wait_for(lambda: len(smtp_sink.messages) > 1, timeout=2)
    assert len(smtp_sink.messages) == 1


def test_a_connection_lost_after_the_hand_over_is_flagged_for_staff_not_retried(smtp_sink, now, monkeypatch):
    from outbox import smtp

    make_meeting(starts_at=now + 10 * DAY, now=now, people=make_people(1))
    delivery = Delivery.objects.get(kind="invitation")
    send = smtp._SMTP.send

    def drop_after_the_mark(self, data):
        send(self, data)
        if data == b".\r\n":
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(smtp._SMTP, "send", drop_after_the_mark)
    engine.delivery_send(delivery_id=delivery.pk, now=now)
    run_scan(now + engine.LEASE + datetime.timedelta(minutes=30))

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.reason) == ("sending", 1, engine.REASON_UNANSWERED)
    assert delivery.handed_at == delivery.stuck_flagged_at == now
    assert wait_for(lambda: len(smtp_sink.messages) == 1)  # it had gone out: a retry would duplicate it


def test_a_scan_enqueues_again_a_row_whose_task_was_lost_but_only_after_the_lease(now, monkeypatch):
    make_meeting(starts_at=now + 10 * DAY, now=now, people=make_people(1))
    enqueued: list[int] = []
    monkeypatch.setattr(engine, "enqueue", lambda ids: enqueued.extend(ids) or 0)

    engine.scan(now=now)
    engine.scan(now=now + datetime.timedelta(minutes=5))
    assert len(enqueued) == 1
    engine.scan(now=now + engine.LEASE + datetime.timedelta(minutes=1))

    assert len(enqueued) == 2
    assert enqueued[0] == enqueued[1]


def test_when_the_broker_is_down_the_request_succeeds_and_the_next_scan_sends(
    client, staff_user, area, monkeypatch, django_capture_on_commit_callbacks, now
):
    from das.tasks import deliver

    calls = []

    def broker_down(*args, **kwargs):
        calls.append(args)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(deliver, "apply_async", broker_down)
    people = make_people(2)
    client.force_login(staff_user)
    start = timezone.localtime(now + 10 * DAY)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/meetings/new/",
            {
                "title": "Comité des KOL de printemps",
                "committee": "kol_committee",
                "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
                "ends_at": (start + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
                "place": "Medicen, Paris",
                "reminders": "7d, 1d",
            },
        )
        meeting_id = response.headers["Location"].rstrip("/").split("/")[-1]
        client.post(f"/meetings/{meeting_id}/invite/", {"email": people[0].email})

    assert response.status_code == 302
    assert calls  # the enqueue was attempted and failed quietly
    assert Delivery.objects.filter(kind="invitation", status="pending").count() == 1

    call_command("send_due_reminders")

    assert [m.to[0] for m in mail.outbox] == [people[0].email]


def test_the_command_runs_one_scan_synchronously(now, capsys):
    make_meeting(starts_at=now + 10 * DAY, people=make_people(2))

    call_command("send_due_reminders")

    assert len(mail.outbox) == 2
    assert "2 due e-mails processed" in capsys.readouterr().out
    assert set(Invitation.objects.values_list("response", flat=True)) == {""}


def test_emails_follow_the_persons_language_when_there_is_one_and_french_otherwise(now, monkeypatch):
    from types import SimpleNamespace

    from das.meetings import emails

    assert emails.language_of(SimpleNamespace(language="en")) == "en"
    assert emails.language_of(SimpleNamespace(language="de")) == "fr"  # not a portal language
    assert emails.language_of(SimpleNamespace()) == "fr"

    monkeypatch.setattr(emails, "language_of", lambda person: "en")
    make_meeting(starts_at=now + 10 * DAY, now=now, people=make_people(1))
    run_scan(now)

    [message] = mail.outbox
    assert message.subject.startswith("Invitation: ")
    assert "You are invited to the meeting" in message.body
