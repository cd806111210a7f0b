"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _plain_static_storage(settings) -> None:
    # The manifest storage needs collectstatic; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _cache_of_its_own(settings) -> None:
    # Each test sees an empty cache without flushing a Redis database the broker may share.
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"} for name, config in settings.CACHES.items()
    }


@pytest.fixture(autouse=True)
def _default_language() -> None:
    # A request through LocaleMiddleware leaves its language active in the thread; each test
    # starts in the portal's default language (French) whatever the previous one asked for.
    from django.utils import translation

    translation.deactivate()


def _database_url_for_subprocess() -> str:
    """The URL of the database the tests are using, for a process started by a test."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port_for_tests() -> int:
    """A local TCP port nothing listens on (for servers started by tests, or a dead broker)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """A real SMTP server (aiosmtpd) on a free local port that keeps what it receives.

    `fail_next(n, reply)` makes it answer the next n messages with an error reply such as
    "451 4.3.0 Try again later" (transient) or "550 5.1.1 No such user" (permanent).
    """

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        self._failures: list[str] = []
        self._lock = threading.Lock()
        self.port = free_port_for_tests()  # aiosmtpd cannot start on port 0
        self.url = f"smtp://127.0.0.1:{self.port}"
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd hook
        with self._lock:
            if self._failures:
                return self._failures.pop(0)
            message = message_from_bytes(envelope.content, policy=email_policy.default)
            message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
            self.messages.append(message)
        return "250 OK"

    def fail_next(self, count: int, reply: str = "451 4.3.0 Try again later") -> None:
        with self._lock:
            self._failures.extend([reply] * count)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


@pytest.fixture
def smtp_sink(settings) -> Iterator[SmtpSink]:
    """A running SMTP sink; this process and any worker started by the test send to it."""
    sink = SmtpSink()
    sink.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def start_celery_worker(request, transactional_db) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start real `celery worker` processes on the configured broker, reading the test database.

    If the test also uses `smtp_sink`, the workers send their e-mail to it.
    Every worker still running at the end of the test is stopped.
    """
    processes: list[tuple[subprocess.Popen, object]] = []
    env = {**os.environ, "DATABASE_URL": _database_url_for_subprocess(), "CELERY_TASK_ALWAYS_EAGER": "false"}
    if "smtp_sink" in request.fixturenames:
        env["EMAIL_URL"] = request.getfixturevalue("smtp_sink").url

    def start(*, concurrency: int = 1, pool: str = "solo", name: str = "worker") -> subprocess.Popen:
        log = open(Path(os.environ["VAR_DIR"]) / f"{name}.log", "w")  # noqa: SIM115 - closed at teardown
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "medicen_portal", "worker", f"--pool={pool}",
             f"--concurrency={concurrency}", f"--hostname={name}@%h", "--loglevel=INFO",
             "--without-heartbeat", "--without-mingle", "--without-gossip"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append((process, log))
        return process

    try:
        yield start
    finally:
        for process, log in processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            log.close()


@pytest.fixture
def celery_worker_process(start_celery_worker) -> subprocess.Popen:
    """One real worker process (solo pool)."""
    return start_celery_worker()


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2):
    """Poll `predicate` until it returns a truthy value or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # CI proves every test against the real services: a skipped test is a failure there.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("FAIL_ON_SKIP") and reporter and reporter.stats.get("skipped"):
        reporter.write_line(f"FAIL_ON_SKIP: {len(reporter.stats['skipped'])} test(s) were skipped.", red=True)
        session.exitstatus = 1
