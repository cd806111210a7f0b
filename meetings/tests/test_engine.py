"""Meeting e-mails through the outbox, driven synchronously with an explicit clock (the path the
periodic tasks and `send_due_reminders` share): when each is due, skipped or enqueued, and that
the outbox's sending guarantees hold for them (the outbox's own tests prove the rest)."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import formats, timezone
from kombu.exceptions import OperationalError

from meetings import engine, services
from meetings.models import Delivery, Invitation
from meetings.schedule import PARIS, reminder_moment
from meetings.tests.factories import make_meeting, make_people, run_scan
from outbox import services as outbox
from outbox.models import Message

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


HOUR = datetime.timedelta(hours=1)


def _kinds(outbox) -> list[str]:
    """The first word(s) of each subject: Invitation, Mise à jour, Annulation, Rappel, Merci de répondre."""
    return [m.subject.split(":")[0].strip() for m in outbox]


def _ics(message) -> str:
    (part,) = [p for p in message.message().walk() if p.get_content_type() == "text/calendar"]
    return part.get_payload(decode=True).decode()


def test_invitation_goes_out_once_however_often_the_scan_and_the_task_run(now):
    people = make_people(3)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=people)

    run_scan(now)
    run_scan(now)
    engine.deliveries_enqueue(delivery_ids=Delivery.objects.values_list("pk", flat=True), now=now)
    ids = list(Message.objects.values_list("pk", flat=True))
    outbox.messages_send(message_ids=ids, now=now)  # a task delivered twice

    assert len(mail.outbox) == 3
    assert {m.to[0] for m in mail.outbox} == {p.email for p in people}
    assert all(m.subject.startswith("Invitation") for m in mail.outbox)
    assert "METHOD:REQUEST" in _ics(mail.outbox[0])
    assert (
        meeting.deliveries.with_status().filter(kind=Delivery.Kind.INVITATION, status=Delivery.Status.SENT).count() == 3
    )
    assert Message.objects.count() == 3


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
    assert (
        meeting.deliveries.with_status().filter(kind=Delivery.Kind.REMINDER, status=Delivery.Status.SENT).count() == 2
    )


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
    assert set(invitation.deliveries.with_status().filter(kind="reminder").values_list("status", "skip_reason")) == {
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
        meeting=meeting, starts_at=now + 20 * DAY, ends_at=now + 20 * DAY + datetime.timedelta(hours=2),
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
    assert meeting.deliveries.with_status().filter(kind="reminder", status="sent").count() == 2
    assert not meeting.deliveries.with_status().filter(status__in=["pending", "sending"]).exists()


def test_moving_a_meeting_earlier_skips_reminders_whose_moment_is_already_past(now):
    [person] = make_people(1)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[person])
    run_scan(now)
    mail.outbox.clear()

    services.meeting_update(meeting=meeting, starts_at=now + 3 * DAY, ends_at=now + 3 * DAY + DAY / 12, now=now)
    run_scan(now)

    assert _kinds(mail.outbox) == ["Mise à jour"]  # no burst of late reminders on top of the update
    seven = meeting.deliveries.with_status().get(kind="reminder", offset_minutes=7 * 1440)
    assert (seven.status, seven.skip_reason) == ("skipped", engine.REASON_MOVED_PAST)


def test_cancelling_sends_a_cancellation_and_no_more_reminders(now):
    people = make_people(2)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=people)
    run_scan(now)
    mail.outbox.clear()

    services.meeting_cancel(meeting=meeting, now=now + DAY)
    run_scan(now + DAY)
    run_scan(now + 9 * DAY)

    assert _kinds(mail.outbox) == ["Annulation", "Annulation"]
    ics = _ics(mail.outbox[0])
    assert "METHOD:CANCEL" in ics
    assert "STATUS:CANCELLED" in ics
    assert "SEQUENCE:1" in ics
    assert not meeting.deliveries.with_status().filter(kind="reminder", status="sent").exists()
    assert set(meeting.deliveries.filter(kind="reminder").values_list("skip_reason", flat=True)) == {
        engine.REASON_CANCELLED
    }


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
    assert meeting.deliveries.with_status().get(kind="reminder").status == "sent"


def test_a_reminder_whose_meeting_has_started_is_skipped_with_the_reason(now):
    [person] = make_people(1)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[person], reminder_offsets=[1440])
    run_scan(now)
    mail.outbox.clear()

    run_scan(now + 11 * DAY)  # down until after the meeting

    assert mail.outbox == []
    reminder = meeting.deliveries.with_status().get(kind="reminder")
    assert (reminder.status, reminder.skip_reason, reminder.message) == ("skipped", engine.REASON_STARTED, None)


def test_inviting_someone_after_a_reminders_moment_records_it_as_skipped(now):
    [person] = make_people(1)
    make_meeting(starts_at=now + 3 * DAY, now=now, people=[person])

    seven, one = Delivery.objects.with_status().filter(kind="reminder").order_by("-offset_minutes")

    assert (seven.status, seven.skip_reason) == ("skipped", engine.REASON_INVITED_LATE)
    assert one.status == "pending"


def _message(delivery: Delivery) -> Message:
    return Delivery.objects.select_related("message").get(pk=delivery.pk).message


def test_a_transient_smtp_error_is_retried_later_with_backoff_and_a_permanent_one_is_recorded(smtp_sink, now):
    good, bad = make_people(2)
    make_meeting(starts_at=now + 10 * DAY, now=now, people=[good, bad], reminder_offsets=[1440])
    smtp_sink.fail_next(1, "451 4.3.0 Try again later")

    run_scan(now)
    retried = Delivery.objects.with_status().get(kind="invitation", status="pending")
    message = _message(retried)
    assert message.attempts == 1
    assert "451" in message.last_error
    assert now + datetime.timedelta(seconds=45) <= message.next_attempt_at <= now + datetime.timedelta(seconds=60)
    assert len(smtp_sink.messages) == 1

    run_scan(now + datetime.timedelta(seconds=30))  # not yet
    assert len(smtp_sink.messages) == 1
    run_scan(now + datetime.timedelta(minutes=2))
    assert len(smtp_sink.messages) == 2
    assert Delivery.objects.with_status().get(pk=retried.pk).status == "sent"

    smtp_sink.fail_next(1, "550 5.1.1 No such user")
    run_scan(now + 9 * DAY)
    failed = Delivery.objects.with_status().get(kind="reminder", status="failed")
    assert "550" in failed.reason_text
    assert "permanent" in failed.reason_text
    assert len(smtp_sink.messages) == 3


def test_a_transient_error_that_never_clears_ends_as_failed_after_the_maximum_attempts(smtp_sink, settings, now):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    make_meeting(starts_at=now + 10 * DAY, now=now, people=make_people(1), reminder_offsets=[1440])
    smtp_sink.fail_next(5)

    for minutes in (0, 5, 30):
        run_scan(now + datetime.timedelta(minutes=minutes))

    invitation = Delivery.objects.with_status().get(kind="invitation")
    assert (invitation.status, _message(invitation).attempts) == ("failed", 3)
    assert "gave up after 3 attempts" in invitation.reason_text


def test_a_meeting_e_mail_handed_to_smtp_but_never_recorded_is_flagged_for_staff_and_not_sent_again(now):
    make_meeting(starts_at=now + 10 * DAY, now=now, people=make_people(1), reminder_offsets=[1440])
    engine.scan(now=now)
    delivery = Delivery.objects.get(kind="invitation")
    # A worker handed the message over and died before the server's answer was recorded.
    Message.objects.filter(pk=delivery.message_id).update(status="sending", claimed_at=now, handed_at=now)

    run_scan(now + datetime.timedelta(minutes=14))
    assert _message(delivery).uncertain_at is None
    run_scan(now + datetime.timedelta(minutes=16))
    run_scan(now + datetime.timedelta(minutes=30))

    assert Delivery.objects.with_status().get(pk=delivery.pk).status == "sending"
    assert _message(delivery).uncertain_at == now + datetime.timedelta(minutes=16)
    assert mail.outbox == []
    assert Message.objects.count() == 1  # the meetings scan does not enqueue it a second time


def test_a_meeting_e_mail_claimed_but_never_handed_over_is_released_after_the_lease_and_sent_once(now):
    make_meeting(starts_at=now + 10 * DAY, now=now, people=make_people(1), reminder_offsets=[1440])
    engine.scan(now=now)
    delivery = Delivery.objects.get(kind="invitation")
    # A worker claimed it and died before the message reached the SMTP server's end-of-data.
    Message.objects.filter(pk=delivery.message_id).update(status="sending", claimed_at=now, attempts=1)

    run_scan(now + outbox.lease() - datetime.timedelta(minutes=1))
    assert (Delivery.objects.with_status().get(pk=delivery.pk).status, mail.outbox) == ("sending", [])
    run_scan(now + outbox.lease() + datetime.timedelta(minutes=1))
    run_scan(now + outbox.lease() + datetime.timedelta(minutes=20))

    message = _message(delivery)
    assert (message.status, message.attempts, message.uncertain_at) == ("sent", 2, None)
    assert len(mail.outbox) == 1


def test_a_meeting_cancelled_after_a_reminder_was_enqueued_but_before_it_was_sent_sends_no_reminder(now):
    [person] = make_people(1)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[person], reminder_offsets=[1440])
    run_scan(now)
    mail.outbox.clear()
    engine.scan(now=now + 9 * DAY)  # the reminder is due: enqueued in the outbox, not sent yet
    reminder = meeting.deliveries.get(kind="reminder")
    assert _message(reminder).status == Message.Status.PENDING

    services.meeting_cancel(meeting=meeting, now=now + 9 * DAY)
    run_scan(now + 9 * DAY)

    assert _kinds(mail.outbox) == ["Annulation"]
    reminder = Delivery.objects.with_status().get(pk=reminder.pk)
    assert (reminder.status, reminder.skip_reason) == ("skipped", engine.REASON_CANCELLED)
    assert _message(reminder).status == Message.Status.CANCELLED


def test_a_reminder_a_sender_claimed_before_the_cancellation_goes_out_and_counts_as_told(now):
    [person] = make_people(1)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[person], reminder_offsets=[1440])
    engine.scan(now=now)
    invitation_message = _message(meeting.deliveries.get(kind="invitation"))
    # The invitation's sender claimed its row (it is going out) when staff cancel.
    Message.objects.filter(pk=invitation_message.pk).update(status="sending", claimed_at=now)

    services.meeting_cancel(meeting=meeting, now=now + DAY)

    assert Message.objects.get(pk=invitation_message.pk).status == "sending"  # not withdrawn under the sender
    assert meeting.deliveries.filter(kind="cancellation").count() == 1  # they are told it is off


def test_a_decline_or_a_withdrawal_after_the_reminder_was_enqueued_withdraws_it_from_the_outbox(now):
    declining, withdrawn = make_people(2)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[declining, withdrawn], reminder_offsets=[1440])
    run_scan(now)
    mail.outbox.clear()
    engine.scan(now=now + 9 * DAY)

    services.invitation_respond(
        invitation=meeting.invitations.get(person=declining), response="declined", now=now + 9 * DAY
    )
    services.invitation_remove(invitation=meeting.invitations.get(person=withdrawn), now=now + 9 * DAY)
    run_scan(now + 9 * DAY)

    assert _kinds(mail.outbox) == ["Annulation"]  # the withdrawn person is told; no reminder goes out
    reasons = set(meeting.deliveries.filter(kind="reminder").values_list("skip_reason", "message__status"))
    assert reasons == {(engine.REASON_DECLINED, "cancelled"), (engine.REASON_UNINVITED, "cancelled")}


def test_a_reminder_enqueued_then_moved_by_a_reschedule_goes_out_at_the_new_moment_with_the_new_time(now):
    [person] = make_people(1)
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=[person], reminder_offsets=[1440])
    run_scan(now)
    mail.outbox.clear()
    engine.scan(now=now + 9 * DAY)  # enqueued with the old time, not sent yet

    new_start = now + 20 * DAY
    services.meeting_update(meeting=meeting, starts_at=new_start, ends_at=new_start + HOUR, now=now + 9 * DAY)
    run_scan(now + 9 * DAY)
    assert _kinds(mail.outbox) == ["Mise à jour"]
    run_scan(now + 19 * DAY)

    assert _kinds(mail.outbox) == ["Mise à jour", "Merci de répondre"]
    when = formats.date_format(new_start.astimezone(PARIS), "DATETIME_FORMAT")
    assert when in mail.outbox[1].subject
    assert Message.objects.filter(kind="meeting.reminder", status="cancelled").count() == 1


def test_a_scan_killed_mid_batch_enqueues_nothing_and_the_next_scan_enqueues_everything_once(now, monkeypatch):
    from meetings import emails

    make_meeting(starts_at=now + 10 * DAY, now=now - DAY, people=make_people(3), reminder_offsets=[1440])
    Delivery.objects.update(message=None)  # as if the invitations were still waiting
    Message.objects.all().delete()
    real_render = emails.render
    calls = []

    def render_then_die(delivery, **kwargs):
        calls.append(delivery.pk)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the process stops in the middle of the batch
        return real_render(delivery, **kwargs)

    monkeypatch.setattr(engine, "render", render_then_die)
    with pytest.raises(KeyboardInterrupt):
        engine.scan(now=now)
    assert Message.objects.count() == 0 and not Delivery.objects.exclude(message=None).exists()
    monkeypatch.setattr(engine, "render", real_render)

    assert engine.scan(now=now).enqueued == 3
    assert engine.scan(now=now).enqueued == 0
    assert Message.objects.count() == 3


def test_when_the_broker_is_down_the_request_succeeds_and_the_next_scan_sends(
    client, staff, area, monkeypatch, django_capture_on_commit_callbacks, now
):
    from outbox.tasks import send_messages

    calls = []

    def broker_down(*args, **kwargs):
        calls.append(args)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(send_messages, "apply_async", broker_down)
    people = make_people(2)
    client.force_login(staff)
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
        sent = client.post(f"/meetings/{meeting_id}/send/")

    assert response.status_code == 302
    assert sent.status_code == 302
    assert calls  # the enqueue was attempted and failed quietly
    assert Delivery.objects.with_status().filter(kind="invitation", status="pending").count() == 1

    call_command("send_due_reminders")

    assert [m.to[0] for m in mail.outbox] == [people[0].email]


def test_the_command_runs_one_scan_synchronously(now, capsys):
    make_meeting(starts_at=now + 10 * DAY, people=make_people(2))
    Delivery.objects.update(message=None)  # invitations left waiting (e.g. created by a script)
    Message.objects.all().delete()

    call_command("send_due_reminders")

    assert len(mail.outbox) == 2
    assert "2 meeting e-mails enqueued, 0 skipped" in capsys.readouterr().out
    assert set(Invitation.objects.values_list("response", flat=True)) == {""}


def test_emails_follow_the_persons_language_when_there_is_one_and_french_otherwise(now, monkeypatch):
    from types import SimpleNamespace

    from meetings import emails

    assert emails.language_of(SimpleNamespace(language="en")) == "en"
    assert emails.language_of(SimpleNamespace(language="de")) == "fr"  # not a portal language
    assert emails.language_of(SimpleNamespace()) == "fr"

    monkeypatch.setattr(emails, "language_of", lambda person: "en")
    make_meeting(starts_at=now + 10 * DAY, now=now, people=make_people(1))
    run_scan(now)

    [message] = mail.outbox
    assert message.subject.startswith("Invitation: ")
    assert "You are invited to the meeting" in message.body
    assert Message.objects.get().language == "en"


def test_a_batch_renders_each_body_once_and_every_invitee_still_reads_their_own_name_and_answer_link(now, monkeypatch):
    from django.core import signing

    from meetings import emails

    stamp = signing.TimestampSigner().timestamp()
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: stamp)  # links signed "in one second"

    people = make_people(4)
    people[3].first_name, people[3].last_name = "Zoé", "D'Arc & Fils <test>"
    people[3].save()
    meeting = make_meeting(starts_at=now + 10 * DAY, now=now, people=people, reminder_offsets=[1440])
    services.invitation_respond(invitation=meeting.invitations.get(person=people[0]), response="accepted", now=now)
    deliveries = list(
        meeting.deliveries.select_related("meeting", "invitation", "invitation__person").order_by("kind", "pk")
    )
    for delivery in deliveries:
        answered = delivery.invitation.response != Invitation.Response.NONE
        delivery.variant = "reminder" if answered else "reply_request"

    shared: dict = {}
    batch = [emails.render(d, now=now, key=f"k{d.pk}", agenda_topics=[], shared=shared) for d in deliveries]
    alone = [emails.render(d, now=now, key=f"k{d.pk}", agenda_topics=[]) for d in deliveries]

    assert [(m.subject, m.body) for m in batch] == [(m.subject, m.body) for m in alone]
    assert len(shared) < len(deliveries)  # bodies were shared
    for delivery, mail_ in zip(deliveries, batch, strict=True):
        assert "\x00" not in mail_.body
        assert delivery.invitation.person.full_name in mail_.body
        assert emails.rsvp_url(delivery.invitation) + "?answer=accepted" in mail_.body


@pytest.mark.parametrize("name", ["meetings.scan_due_deliveries", "das.scan_due_deliveries"])
def test_the_scan_task_runs_under_its_name_and_under_the_one_it_had_in_das(now, name):
    """The beat schedules the new name; a scan queued before the move to meetings still runs."""
    from celery import current_app as app
    from django.conf import settings

    make_meeting(starts_at=now + 10 * DAY, people=make_people(2))
    Delivery.objects.update(message=None)  # invitations left waiting for the scan
    Message.objects.all().delete()

    assert app.tasks[name].apply().get() == 2

    assert Delivery.objects.waiting().count() == 4  # the two reminders of each person are not due yet
    assert Message.objects.count() == 2
    assert settings.CELERY_BEAT_SCHEDULE["meetings-scan-due-deliveries"]["task"] == "meetings.scan_due_deliveries"
