"""Benchmark: 10,000 reminders through the broker and 2 worker processes into a local SMTP
sink, next to a plain smtplib loop sending as many messages into the same sink.

    DATABASE_URL=postgres://… REDIS_URL=redis://… DEBUG=true .venv/bin/python bench/meetings_reminders.py \
        [--count N] [--only outbox|smtplib ...]

Two senders: meeting reminders through the outbox (the meetings scan renders each due
reminder and enqueues it; `outbox.services` claims 100 rows per task, one SMTP connection per
batch, one status write per message after its hand-over write), and the plain loop.

Creates a throw-away meeting and people in the configured database, removes them at the end.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import smtplib
import socket
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medicen_portal.settings")

import django  # noqa: E402

django.setup()

from aiosmtpd.controller import Controller  # noqa: E402
from django.conf import settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from medicen_portal.celery import app as celery_app  # noqa: E402
from meetings import engine, services  # noqa: E402
from meetings.models import Delivery, Meeting  # noqa: E402
from members.models import Person  # noqa: E402
from outbox.models import Message  # noqa: E402

PREFIX = "bench-reminder-"


class CountingSink:
    """An aiosmtpd server that only counts what it accepts (no parsing, to measure the senders)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            self.count += 1
        return "250 OK"


def _cleanup() -> None:
    meetings = Meeting.objects.filter(title__startswith=PREFIX)
    messages = list(
        Delivery.objects.filter(meeting__in=meetings).exclude(message=None).values_list("message_id", flat=True)
    )
    meetings.delete()
    Message.objects.filter(pk__in=messages).delete()
    Person.objects.filter(email__startswith=PREFIX).delete()


def _setup(count: int) -> Meeting:
    """A meeting two hours ahead, invited ten days ago (invitations sent), whose reminders are all due."""
    now = timezone.now()
    Person.objects.bulk_create(
        [Person(first_name="Bench", last_name=f"KOL {i:05d}", email=f"{PREFIX}{i}@example.org") for i in range(count)],
        batch_size=2000,
    )
    people = Person.objects.filter(email__startswith=PREFIX)
    # The invitations "went out" long ago: not rendered here, recorded as sent below.
    enqueue, engine.deliveries_enqueue = engine.deliveries_enqueue, lambda **kwargs: None
    try:
        meeting = services.meeting_create(
            title=f"{PREFIX}meeting",
            committee=Meeting.Committee.KOL_COMMITTEE,
            starts_at=now + datetime.timedelta(hours=2),
            ends_at=now + datetime.timedelta(hours=4),
            place="Paris",
            reminder_offsets=[1440],
            invite_default=False,
            now=now - datetime.timedelta(days=10),
        )
        services.invitations_add(meeting=meeting, people=people, now=now - datetime.timedelta(days=10))
    finally:
        engine.deliveries_enqueue = enqueue
    invitations = list(meeting.deliveries.filter(kind=Delivery.Kind.INVITATION).select_related("invitation"))
    sent = Message.objects.bulk_create(
        [
            Message(key=engine.message_key(d), kind="meeting.invitation", to=[d.email], status=Message.Status.SENT,
                    next_attempt_at=d.due_at, sent_at=d.due_at)
            for d in invitations
        ],
        batch_size=2000,
    )  # fmt: skip
    for delivery, message in zip(invitations, sent, strict=True):
        delivery.message = message
    Delivery.objects.bulk_update(invitations, ["message"], batch_size=2000)
    return meeting


def _worker(sink: CountingSink) -> subprocess.Popen:
    env = {**os.environ, "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}", "LOG_LEVEL": "WARNING"}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "medicen_portal", "worker", "--pool=prefork", "--concurrency=2",
         "--loglevel=WARNING", "--without-heartbeat", "--without-mingle", "--without-gossip"],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def bench_outbox(sink: CountingSink, count: int) -> float:
    """N due meeting reminders: the meetings scan renders and enqueues them in the outbox (batches of
    500, dispatched on commit as tasks of 100); time from the scan until the sink has them all."""
    meeting = _setup(count)
    reminders = meeting.deliveries.filter(kind=Delivery.Kind.REMINDER).with_status()
    assert reminders.filter(status=Delivery.Status.PENDING, message=None).count() == count
    celery_app.control.purge()
    worker = _worker(sink)
    try:
        time.sleep(6)  # let the worker connect before the clock starts
        started = time.perf_counter()
        engine.scan()
        while sink.count < count:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        while reminders.filter(status__in=["pending", "sending"]).exists():
            time.sleep(0.05)
        assert reminders.filter(status=Delivery.Status.SENT).count() == count
        return elapsed
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def bench_smtplib(sink: CountingSink, count: int) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
        for i in range(count):
            message = EmailMessage()
            message["From"] = "portal@medicen.example"
            message["To"] = f"{PREFIX}{i}@example.org"
            message["Subject"] = "Rappel : Comité des KOL"
            message.set_content("Nous vous rappelons la réunion du comité des KOL.\n" * 10)
            smtp.send_message(message)
    return time.perf_counter() - started


def main() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command at INFO
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--only", action="append", choices=["outbox", "smtplib"])
    args = parser.parse_args()
    count, only = args.count, set(args.only or ["outbox", "smtplib"])
    if not settings.REDIS_URL:
        sys.exit("Set REDIS_URL: the benchmark measures the Redis broker.")
    _cleanup()
    sink = CountingSink()
    sink.controller.start()
    seconds: dict[str, float] = {}
    try:
        for name, bench in (("outbox", bench_outbox), ("smtplib", bench_smtplib)):
            if name in only:
                sink.count = 0
                seconds[name] = bench(sink, count)
    finally:
        sink.controller.stop()
        _cleanup()
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"{count} reminders, {db}, Redis broker, 2 worker processes, local aiosmtpd sink, {os.cpu_count()} CPUs")
    labels = {
        "outbox": "meeting reminders through the outbox",
        "smtplib": "plain smtplib loop, one connection",
    }
    for name, value in seconds.items():
        print(f"  {labels[name] + ':':<42} {value:7.1f} s  {count / value:7.0f} e-mails/s")
    print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name in ("outbox",):
        if name in seconds and "smtplib" in seconds:
            print(f"  ratio {name} / plain loop: {seconds[name] / seconds['smtplib']:25.1f}x")


if __name__ == "__main__":
    main()
