"""One rule for every e-mail the portal sends: which errors are worth a retry."""

import smtplib
import socket

import pytest
from django.db import InterfaceError, OperationalError

from outbox.services import is_transient

CASES = [
    (smtplib.SMTPResponseException(451, b"Try again later"), True),
    (smtplib.SMTPResponseException(421, b"Closing"), True),
    (smtplib.SMTPResponseException(550, b"No such user"), False),
    (smtplib.SMTPRecipientsRefused({"a@example.org": (450, b"busy")}), True),
    (smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"unknown")}), False),
    (smtplib.SMTPServerDisconnected("gone"), True),
    (smtplib.SMTPNotSupportedError("no AUTH"), False),
    (ConnectionRefusedError(111, "refused"), True),
    (TimeoutError("timed out"), True),
    (socket.gaierror(-3, "Temporary failure in name resolution"), True),
    (OperationalError("terminating connection due to administrator command"), True),
    (InterfaceError("connection already closed"), True),
]


@pytest.mark.parametrize(
    ("error", "transient"), CASES, ids=[type(e).__name__ + str(i) for i, (e, _) in enumerate(CASES)]
)
def test_transient_errors_are_told_from_permanent_ones(error, transient):
    assert is_transient(error) is transient
