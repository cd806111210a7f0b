"""Helpers the tests of every app share: an SMTP sink, a free port, polling, the test database's URL.

Imported by the root conftest (for its fixtures) and by tests (`from tests.support import wait_for`):
tests never import a conftest.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage


def database_url_for_subprocess() -> str:
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


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2):
    """Poll `predicate` until it returns a truthy value or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def page_text(response) -> str:
    """A response's HTML with its runs of whitespace as one space, for reading sentences in it."""
    return re.sub(r"\s+", " ", response.content.decode())
