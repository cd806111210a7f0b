"""The three e-mail paths classify SMTP errors alike (they live in apps that may not import each other)."""

import smtplib
import socket

import pytest

from das.meetings.engine import _is_transient as meetings_is_transient
from members.services import is_transient as members_is_transient
from projects.services import _is_transient as projects_is_transient

CLASSIFIERS = [members_is_transient, projects_is_transient, meetings_is_transient]

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
]


@pytest.mark.parametrize("classify", CLASSIFIERS, ids=["members", "projects", "meetings"])
@pytest.mark.parametrize(
    ("error", "transient"), CASES, ids=[type(e).__name__ + str(i) for i, (e, _) in enumerate(CASES)]
)
def test_every_e_mail_path_retries_the_same_errors(classify, error, transient):
    assert classify(error) is transient
