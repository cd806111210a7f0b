"""Meeting e-mails end to end through the outbox: real worker processes, the configured broker
(Redis in CI), a real SMTP server. Slow by nature; kept to what proves exactly-once delivery."""

from __future__ import annotations

import datetime
import os
import signal
import threading
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from medicen_portal.celery import app as celery_app
from meetings import engine
from meetings.emails import message_id
from meetings.models import Delivery
from meetings.tests.factories import make_meeting, make_people
from outbox import services as outbox
from outbox.models import Message
from tests.support import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _meeting_with_due_reminders(monkeypatch, *, invitees: int, offsets: list[int]):
    """A meeting two hours ahead whose invitations went out ten days ago and whose reminders
    are all due now (the system was down when they came due)."""
    now = timezone.now()
    with monkeypatch.context() as patch:
        patch.setattr(outbox, "dispatch", lambda ids: 0)  # the invitations went out long ago
        meeting = make_meeting(
            starts_at=now + datetime.timedelta(hours=2),
            now=now - datetime.timedelta(days=10),
            people=make_people(invitees),
            reminder_offsets=offsets,
        )
    Message.objects.filter(kind="meeting.invitation").update(status=Message.Status.SENT, sent_at=now)
    celery_app.control.purge()  # messages left in the broker by earlier runs
    return meeting


def _reminders(meeting):
    return meeting.deliveries.filter(kind=Delivery.Kind.REMINDER).with_status()


def _message_ids(sink) -> Counter:
    return Counter(message["Message-ID"] for message in sink.messages)


def test_three_concurrent_scans_and_every_task_delivered_twice_send_each_reminder_exactly_once(
    smtp_sink, start_celery_worker, monkeypatch
):
    meeting = _meeting_with_due_reminders(monkeypatch, invitees=1000, offsets=[7 * 1440, 1440])
    reminders = _reminders(meeting)
    assert reminders.filter(status=Delivery.Status.PENDING, message=None).count() == 2000
    start_celery_worker(concurrency=2, pool="prefork")

    results, errors = [], []

    def scan(scanner) -> None:
        try:
            results.append(scanner())
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    # Three meetings scans and two outbox scans at once (each hands its batches to the worker).
    scanners = [engine.scan] * 3 + [outbox.scan] * 2
    threads = [threading.Thread(target=scan, args=(scanner,)) for scanner in scanners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # The meetings scans split the rows: each reminder enqueued once, one outbox message each.
    assert sum(r.enqueued for r in results if isinstance(r, engine.ScanResult)) == 2000
    assert Message.objects.filter(kind="meeting.reminder").count() == 2000
    # Every task delivered a second time, as a broker may after a connection loss.
    outbox.dispatch(list(reminders.values_list("message_id", flat=True)))

    done = wait_for(
        lambda: not reminders.filter(status__in=["pending", "sending"]).exists() and len(smtp_sink.messages) >= 2000,
        timeout=240,
    )
    assert done, (list(reminders.values("status").annotate()), len(smtp_sink.messages))
    wait_for(lambda: False, timeout=2)  # any late duplicate would arrive now

    assert len(smtp_sink.messages) == 2000
    assert max(_message_ids(smtp_sink).values()) == 1
    assert reminders.filter(status=Delivery.Status.SENT).count() == 2000
    addresses = Counter(message["To"] for message in smtp_sink.messages)
    assert len(addresses) == 1000
    assert set(addresses.values()) == {2}


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(smtp_sink, start_celery_worker, monkeypatch):
    meeting = _meeting_with_due_reminders(monkeypatch, invitees=300, offsets=[1440])
    reminders = _reminders(meeting)
    doomed = start_celery_worker(name="doomed")
    engine.scan()  # enqueues the 300 reminders; their batches go to the broker on commit

    assert wait_for(lambda: reminders.filter(status=Delivery.Status.SENT).count() >= 40, timeout=120)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=30)
    sent_at_kill = reminders.filter(status=Delivery.Status.SENT).count()
    assert sent_at_kill < 300, "the worker finished before it could be killed: make the batch bigger"

    start_celery_worker(name="restarted")
    # The killed worker's batch is lost to it (unacknowledged with Redis, consumed with the
    # file broker), and the rows it had claimed stay in "sending": once the lease is over, an
    # outbox scan releases those not handed over (they did not go out) and sends them again.
    outbox.scan()  # batches the killed worker had reserved but not started
    outbox.scan(now=timezone.now() + outbox.lease() + datetime.timedelta(minutes=1))
    assert wait_for(lambda: not reminders.filter(status__in=["pending"]).exists(), timeout=120)
    assert wait_for(lambda: reminders.filter(status="sending").count() <= 1, timeout=60)
    outbox.scan(now=timezone.now() + datetime.timedelta(minutes=16))
    wait_for(lambda: False, timeout=2)  # any late duplicate would arrive now

    received = _message_ids(smtp_sink)
    assert max(received.values()) == 1  # nothing sent twice
    assert Message.objects.filter(kind="meeting.reminder").count() == 300  # the meetings scan enqueued each once
    # Only a kill after a hand-over (between marking the row and the server's answer) leaves a
    # row in "sending". Whether that one e-mail went out depends on whether the end-of-data mark
    # left before the kill, which nobody can know: the row is flagged for staff, never re-sent.
    # So every reminder either reached the sink, or is that one flagged row: nothing is lost
    # silently.
    stuck = reminders.filter(status=Delivery.Status.SENDING).select_related("message")
    assert stuck.count() <= 1
    assert all(row.message.handed_at and row.message.uncertain_at for row in stuck)
    assert reminders.filter(status=Delivery.Status.SENT).count() + stuck.count() == 300
    expected = {message_id(row) for row in reminders.select_related("meeting")}
    assert set(received) <= expected
    assert expected - set(received) <= {message_id(row) for row in stuck.select_related("meeting")}
