"""SMTP with a hand-over point: the end-of-data mark is sent only once the row agrees.

An SMTP server delivers a message only after the final "<CRLF>.<CRLF>" of DATA; a session
that ends before it (the worker was killed, the socket closed) leaves nothing behind
(RFC 5321, 4.1.1.4 and 3.8). So the engine records "handed over" in the database between
the body and that mark: a row that never got the mark recorded certainly did not go out and
can be sent again, and only the round trip of the mark itself stays uncertain.
"""

from __future__ import annotations

import re
import smtplib
import socket
from collections.abc import Callable

from django.core.mail.backends.smtp import EmailBackend


class HandoverRefused(Exception):
    """The row is no longer this sender's (released meanwhile): the message is abandoned unsent."""


class _HandoverMixin:
    # Called after the body and before the end-of-data mark; raises HandoverRefused to abandon.
    before_end_of_data: Callable[[], None] | None = None

    def connect(self, *args, **kwargs):
        reply = super().connect(*args, **kwargs)
        # The mark goes out as its own small segment right after a database round trip:
        # without this, Nagle's algorithm holds it until the body is acknowledged.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return reply

    def data(self, msg: bytes):
        """smtplib.SMTP.data, with `before_end_of_data` between the body and the final mark."""
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        body = re.sub(rb"(?m)^\.", b"..", msg)  # dot-stuffing, as smtplib does
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.send(body)
        if self.before_end_of_data is not None:
            self.before_end_of_data()
        self.send(b".\r\n")
        return self.getreply()


class _SMTP(_HandoverMixin, smtplib.SMTP):
    pass


class _SMTP_SSL(_HandoverMixin, smtplib.SMTP_SSL):
    pass


class HandoverEmailBackend(EmailBackend):
    """Django's SMTP backend on the sockets above. Set `connection.before_end_of_data` per message."""

    @property
    def connection_class(self):
        return _SMTP_SSL if self.use_ssl else _SMTP

    def abandon(self) -> None:
        """Close the socket without QUIT: mid-DATA, the server then discards the message."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None
