"""The outbox: enqueue in the domain transaction, claim, hand over, send once, recover."""

from __future__ import annotations

import datetime

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from outbox import services
from outbox.models import Message
from outbox.services import Attach, attach_file, message_enqueue, messages_send
from tests.support import wait_for

pytestmark = pytest.mark.django_db


def _enqueue(key: str = "test:1", **overrides) -> Message:
    fields = {"key": key, "kind": "test.note", "to": ["ada@example.org"], "subject": "Bonjour", "body": "Corps"}
    fields.update(overrides)
    return message_enqueue(**fields)


def _scan_and_send(now: datetime.datetime | None = None):
    return services.scan(now=now, send=services.send_synchronously(now=now))


def test_an_e_mail_is_handed_to_the_broker_only_after_the_domain_transaction_commits(
    django_capture_on_commit_callbacks, monkeypatch
):
    dispatched = []
    monkeypatch.setattr(services, "dispatch", lambda ids: dispatched.append(ids) or 0)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = _enqueue()
        assert dispatched == []
    assert dispatched == [[message.pk]]


def test_an_e_mail_enqueued_in_a_rolled_back_transaction_does_not_exist(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _enqueue()
        raise RuntimeError("the domain write failed")
    assert callbacks == []
    assert not Message.objects.exists()


def test_the_same_idempotency_key_twice_gives_one_row_and_one_e_mail(smtp_sink):
    first = _enqueue()
    second = _enqueue(subject="Autre chose")
    assert first.pk == second.pk
    messages_send(message_ids=[first.pk, first.pk])
    messages_send(message_ids=[first.pk])
    assert [m["Subject"] for m in smtp_sink.messages] == ["Bonjour"]


def test_a_batch_goes_out_over_one_connection_with_html_reply_to_language_and_attachments(smtp_sink):
    ids = [
        _enqueue(
            f"test:{i}",
            to=[f"p{i}@example.org"],
            html="<p>Corps</p>",
            reply_to=["compta@medicen.example"],
            language="fr",
            attachments=[
                Attach("a.txt", content=b"octets", mimetype="text/plain"),
                attach_file("facture.pdf", b"%PDF-1.4 facture", "application/pdf"),
            ],
        ).pk
        for i in range(3)
    ]
    result = messages_send(message_ids=ids)
    assert result.sent == 3
    assert sorted(m["X-Envelope-To"] for m in smtp_sink.messages) == [
        "p0@example.org",
        "p1@example.org",
        "p2@example.org",
    ]
    mail = smtp_sink.messages[0]
    assert mail["Reply-To"] == "compta@medicen.example"
    assert mail["Content-Language"] == "fr"
    parts = {part.get_content_type(): part for part in mail.walk()}
    assert "text/html" in parts
    assert parts["application/pdf"].get_content() == b"%PDF-1.4 facture"
    assert parts["application/pdf"].get_filename() == "facture.pdf"
    rows = Message.objects.filter(pk__in=ids)
    assert set(rows.values_list("status", flat=True)) == {"sent"}
    assert all(row.message_id.startswith("<outbox-") for row in rows)


def test_a_task_delivered_twice_sends_the_batch_once(smtp_sink):
    ids = [_enqueue(f"test:{i}").pk for i in range(5)]
    messages_send(message_ids=ids)
    again = messages_send(message_ids=ids)
    assert again.not_ours == 5
    assert len(smtp_sink.messages) == 5


def test_a_message_not_yet_due_waits_for_its_moment(smtp_sink):
    now = timezone.now()
    message = _enqueue(not_before=now + datetime.timedelta(hours=1))
    _scan_and_send(now)
    assert smtp_sink.messages == []
    _scan_and_send(now + datetime.timedelta(hours=1, minutes=1))
    assert len(smtp_sink.messages) == 1
    message.refresh_from_db()
    assert message.status == "sent"


def test_a_451_is_retried_by_a_later_scan_and_sent_once(smtp_sink):
    message = _enqueue()
    now = timezone.now()
    smtp_sink.fail_next(1, "451 4.3.0 Try again later")
    _scan_and_send(now)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert "451" in message.last_error
    assert message.next_attempt_at > now
    _scan_and_send(now)  # too early
    assert smtp_sink.messages == []
    _scan_and_send(now + datetime.timedelta(minutes=2))
    message.refresh_from_db()
    assert (message.status, message.attempts, len(smtp_sink.messages)) == ("sent", 2, 1)


def test_a_421_after_the_greeting_is_transient_too(smtp_sink):
    message = _enqueue()
    smtp_sink.fail_next(1, "421 4.7.0 Too busy, closing")
    messages_send(message_ids=[message.pk])
    message.refresh_from_db()
    assert message.status == "pending"


def test_a_permanent_550_fails_the_message_with_its_reason(smtp_sink):
    message = _enqueue()
    smtp_sink.fail_next(1, "550 5.1.1 No such user")
    messages_send(message_ids=[message.pk])
    message.refresh_from_db()
    assert message.status == "failed"
    assert "550" in message.last_error
    assert Message.objects.needs_staff().get() == message


def test_transient_errors_give_up_after_the_last_attempt(smtp_sink, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    message = _enqueue()
    now = timezone.now()
    smtp_sink.fail_next(2)
    _scan_and_send(now)
    _scan_and_send(now + datetime.timedelta(hours=1))
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 2)
    assert "gave up after 2 attempts" in message.last_error


def test_a_message_that_cannot_be_built_is_failed_with_its_reason_and_the_batch_goes_on(smtp_sink):
    broken = _enqueue("test:broken", subject="ACRO\r\nBcc: everyone@example.org")
    fine = _enqueue("test:fine")
    messages_send(message_ids=[broken.pk, fine.pk])
    broken.refresh_from_db()
    assert broken.status == "failed"
    assert broken.last_error.startswith("Could not be built: BadHeaderError")
    assert [m["Subject"] for m in smtp_sink.messages] == ["Bonjour"]


def test_a_row_abandoned_before_the_hand_over_is_released_after_the_lease_and_sent_once(smtp_sink):
    now = timezone.now()
    message = _enqueue()
    # A sender claimed it and was killed before talking to SMTP.
    Message.objects.filter(pk=message.pk).update(status="sending", claimed_at=now, claim_token="dead", attempts=1)
    _scan_and_send(now + services.lease() - datetime.timedelta(minutes=1))
    assert smtp_sink.messages == []
    result = _scan_and_send(now + services.lease() + datetime.timedelta(minutes=1))
    _scan_and_send(now + services.lease() + datetime.timedelta(minutes=20))
    assert result.released == 1
    message.refresh_from_db()
    assert (message.status, len(smtp_sink.messages)) == ("sent", 1)


def test_a_row_handed_over_and_never_recorded_is_flagged_for_staff_not_resent(smtp_sink, admin_client):
    now = timezone.now()
    message = _enqueue()
    Message.objects.filter(pk=message.pk).update(
        status="sending", claimed_at=now, claim_token="dead", handed_at=now, attempts=1
    )
    _scan_and_send(now + datetime.timedelta(minutes=16))
    _scan_and_send(now + datetime.timedelta(hours=2))
    message.refresh_from_db()
    assert (message.status, smtp_sink.messages) == ("sending", [])
    assert message.is_uncertain
    assert "check before re-sending" in message.last_error
    page = admin_client.get("/admin/outbox/message/?attention=uncertain")
    assert page.status_code == 200
    assert "ada@example.org" in page.content.decode()


def test_staff_requeue_a_failed_e_mail_from_the_admin_and_it_goes_out(smtp_sink, admin_client):
    message = _enqueue()
    sent = _enqueue("test:sent")
    messages_send(message_ids=[sent.pk])
    Message.objects.filter(pk=message.pk).update(status="failed", last_error="SMTP error (permanent): 550")
    with transaction.atomic():
        response = admin_client.post(
            "/admin/outbox/message/", {"action": "requeue", "_selected_action": [message.pk, sent.pk]}
        )
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 0)
    _scan_and_send()
    message.refresh_from_db()
    assert message.status == "sent"
    assert len(smtp_sink.messages) == 2  # the sent one was not sent again


def test_a_released_sender_abandons_its_message_mid_data_and_the_new_owner_sends_it_once(smtp_sink, monkeypatch):
    message = _enqueue()
    now = timezone.now()
    real_build = services.build
    inner = []
    calls = []

    def build_then_get_released(row):
        email = real_build(row)
        calls.append(row.pk)
        if len(calls) == 1:
            # While the first sender builds, the lease expires and another sender takes over.
            Message.objects.filter(pk=row.pk).update(status="pending", claim_token="", claimed_at=None)
            inner.append(messages_send(message_ids=[row.pk], now=now).outcomes)
        return email

    monkeypatch.setattr(services, "build", build_then_get_released)
    outcome = messages_send(message_ids=[message.pk], now=now)
    assert outcome.outcomes == {message.pk: "not_ours"}
    assert inner == [{message.pk: "sent"}]
    # The first sender's body reached the server without its end-of-data mark: discarded.
    wait_for(lambda: len(smtp_sink.messages) > 1, timeout=2)
    assert len(smtp_sink.messages) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("moment", ["before the hand-over", "after the hand-over"])
def test_the_sender_s_database_connection_terminated_while_sending_still_delivers_exactly_once(smtp_sink, moment):
    message = _enqueue()
    killer = psycopg.connect(_dsn(), autocommit=True)
    hooks = {"before the hand-over": "build", "after the hand-over": "_send_one"}
    real = getattr(services, hooks[moment])

    def terminate_then(*args, **kwargs):
        value = real(*args, **kwargs)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        assert Message.objects.get(pk=message.pk).status == "sending"
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])
        return value

    patch = pytest.MonkeyPatch()
    patch.setattr(services, hooks[moment], terminate_then)
    try:
        messages_send(message_ids=[message.pk])
    finally:
        patch.undo()
        killer.close()
    _scan_and_send(timezone.now() + services.lease() + datetime.timedelta(minutes=1))
    message.refresh_from_db()
    assert (message.status, len(smtp_sink.messages)) == ("sent", 1)


def _dsn() -> str:
    db = settings.DATABASES["default"]
    return f"host={db['HOST']} port={db['PORT'] or 5432} user={db['USER']} dbname={db['NAME']}"


def test_a_batch_costs_one_database_write_per_message(smtp_sink):
    from django.test.utils import CaptureQueriesContext

    def queries_to_send(count: int, prefix: str) -> int:
        ids = [_enqueue(f"{prefix}:{i}").pk for i in range(count)]
        with CaptureQueriesContext(connection) as queries:
            assert messages_send(message_ids=ids).sent == count
        return len(queries)

    small, large = queries_to_send(10, "small"), queries_to_send(30, "large")
    # Per message one statement: its hand-over, carrying the previous message's "sent" mark.
    assert large - small == 20
    assert small <= 10 + 10  # the claim, the read-back, the attachments, the last mark (with savepoints)
    assert Message.objects.filter(status="sent").count() == 40


def test_a_sender_killed_after_the_server_accepted_a_message_never_sends_it_twice(smtp_sink, monkeypatch):
    first, second = _enqueue("test:first"), _enqueue("test:second")
    real_send = services._send_one
    calls = []

    def accepted_then_killed(email, *, hand_over):
        calls.append(email)
        if len(calls) == 2:
            raise SystemExit("killed")  # after the first was accepted, before its "sent" mark was written
        return real_send(email, hand_over=hand_over)

    monkeypatch.setattr(services, "_send_one", accepted_then_killed)
    with pytest.raises(SystemExit):
        messages_send(message_ids=[first.pk, second.pk])
    monkeypatch.undo()
    later = timezone.now() + datetime.timedelta(hours=1)
    _scan_and_send(later)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_uncertain  # accepted by the server, outcome unrecorded: staff check it
    assert second.status == "sent"  # never handed over: released and sent
    assert sorted(m["Message-ID"] for m in smtp_sink.messages) == sorted(
        [first.message_id or services.message_id_for(first), second.message_id]
    )


def test_staff_read_an_e_mail_once_as_it_was_sent_marked_as_data_not_prose(admin_client):
    from outbox.services import attach_file

    message = _enqueue(
        body="Ordre du jour: vote",
        language="en",
        attachments=[attach_file("invite.ics", b"BEGIN:VCALENDAR", "text/calendar; method=REQUEST")],
    )

    page = admin_client.get(f"/admin/outbox/message/{message.pk}/change/").content.decode()

    assert page.count("Ordre du jour: vote") == 1
    assert '<div class="outbox-data" lang="en" translate="no">Ordre du jour: vote</div>' in page
    assert '<code translate="no">text/calendar; method=REQUEST</code>' in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="synchronous_commit is PostgreSQL's")
@pytest.mark.django_db(transaction=True)  # as in a worker: no transaction around the sender
@pytest.mark.parametrize("synchronous", [False, True])
def test_the_senders_commits_wait_for_the_disk_only_when_configured_and_the_session_keeps_its_setting(
    smtp_sink, settings, synchronous
):
    from django.test.utils import CaptureQueriesContext

    settings.OUTBOX_SYNCHRONOUS_COMMIT = synchronous
    ids = [_enqueue(f"test:{i}", to=[f"p{i}@example.org"]).pk for i in range(3)]
    with CaptureQueriesContext(connection) as queries:
        result = messages_send(message_ids=ids)
    assert result.sent == 3
    assert Message.objects.filter(pk__in=ids, status="sent", handed_at__isnull=False).count() == 3
    hand_overs = [q["sql"] for q in queries if "SET handed_at" in q["sql"]]
    assert len(hand_overs) == 3  # one statement per message, each carrying the previous "sent" mark
    asynchronous = [sql for sql in hand_overs if "CASE WHEN true THEN 'off'" in sql]
    assert len(asynchronous) == (0 if synchronous else 3)
    with connection.cursor() as cursor:  # a domain write later on this connection is durable as before
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
