"""Smaller holes of the accounts: e-mail case at login, reset rate limit, cookies, upload sizes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from members.models import User
from members.tests.factories import UserFactory
from outbox.models import Message
from outbox.services import messages_send
from projects.uploads import MAX_UPLOAD_BYTES, validate_upload

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
BASE_DIR = Path(__file__).resolve().parents[2]


def test_login_accepts_the_e_mail_in_any_case(client):
    UserFactory(email="a1@a.test")

    response = client.post("/accounts/login/", {"username": "A1@A.TEST", "password": PASSWORD})

    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_failed_logins_in_different_cases_count_against_one_account(client):
    UserFactory(email="a1@a.test")
    for variant in ["A1@A.TEST", "a1@A.test", "A1@a.TEST", "a1@a.TEST", "A1@a.test"]:
        client.post("/accounts/login/", {"username": variant, "password": "wrong"}, REMOTE_ADDR="198.51.100.4")

    response = client.post(
        "/accounts/login/", {"username": "a1@a.test", "password": PASSWORD}, REMOTE_ADDR="198.51.100.4"
    )

    assert response.status_code == 429


def test_an_e_mail_typed_in_capitals_is_stored_in_lower_case():
    user = User(email="Dr.Martin@Hopital.FR")
    user.set_password(PASSWORD)

    user.full_clean()

    assert user.email == "dr.martin@hopital.fr"


def test_a_password_reset_sends_one_e_mail_per_address_per_interval(client, mailoutbox):
    UserFactory(email="a1@a.test")

    responses = [client.post("/accounts/password_reset/", {"email": "A1@a.test"}) for _ in range(3)]

    assert [r.status_code for r in responses] == [302, 302, 302]  # the same answer: nothing revealed
    queued = Message.objects.filter(kind="accounts.password-reset")
    assert queued.count() == 1
    messages_send(message_ids=list(queued.values_list("pk", flat=True)))
    assert len(mailoutbox) == 1


def test_password_resets_from_one_client_are_limited_with_a_429(client, settings, mailoutbox):
    settings.PASSWORD_RESET_PER_CLIENT_PER_HOUR = 3

    statuses = [
        client.post("/accounts/password_reset/", {"email": f"nobody{n}@a.test"}, REMOTE_ADDR="203.0.113.9").status_code
        for n in range(5)
    ]

    assert statuses == [302, 302, 302, 429, 429]
    assert (
        Client().post("/accounts/password_reset/", {"email": "x@a.test"}, REMOTE_ADDR="203.0.113.10").status_code == 302
    )


def test_the_language_cookie_is_secure_under_https():
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update(DEBUG="false", HTTPS="true", SECRET_KEY="x" * 50, ALLOWED_HOSTS="portal.medicen.example")
    code = "from django.conf import settings; print(settings.LANGUAGE_COOKIE_SECURE, settings.LANGUAGE_COOKIE_HTTPONLY)"

    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.stdout.strip().splitlines()[-1].split() == ["True", "True"], result.stderr


def test_the_language_switch_sets_a_secure_cookie_when_asked(client, settings):
    settings.LANGUAGE_COOKIE_SECURE = True

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, secure=True)

    assert response.cookies[settings.LANGUAGE_COOKIE_NAME]["secure"]


def test_the_size_message_just_over_the_limit_reads_sensibly():
    upload = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * MAX_UPLOAD_BYTES)

    with translation.override("fr"), pytest.raises(ValidationError) as refused:
        validate_upload(upload)

    message = refused.value.messages[0]
    assert message.count("10,0") == 1, message
    assert "limite" in message


def test_a_body_over_the_cap_is_refused_before_it_is_read(client, settings):
    settings.REQUEST_MAX_BYTES = 1024 * 1024
    client.force_login(UserFactory())

    # The declared length alone decides: the body is never read (here it is not even sent).
    response = client.generic(
        "POST", "/projects/new/", b"", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(50 * 2**20)
    )

    assert response.status_code == 413
    assert 'data-portal-error="413"' in response.content.decode()


def test_the_password_reset_e_mail_goes_through_the_outbox_once(client, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory(email="reset.me@a.test")

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/accounts/password_reset/", {"email": "reset.me@a.test"})

    assert response.status_code == 302
    message = Message.objects.get(kind="accounts.password-reset")
    assert message.key.startswith(f"password-reset:{user.pk}:")
    assert message.status == Message.Status.PENDING
    assert mailoutbox == []  # not sent by the request: by the outbox's sender
    messages_send(message_ids=[message.pk])
    messages_send(message_ids=[message.pk])  # a task delivered twice sends nothing twice
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["reset.me@a.test"]
    assert "/accounts/reset/" in mailoutbox[0].body
    token = mailoutbox[0].body.split("/accounts/reset/")[1].split("/")[1]
    assert message.key.rsplit(":", 1)[1] == hashlib.sha256(token.encode()).hexdigest()[:32]  # its digest, not it
    assert token not in message.key


def test_staff_reading_the_outbox_see_neither_a_password_reset_link_nor_an_invitation_link(client, superuser):
    from members.services import person_invite
    from members.tests.factories import PersonFactory

    UserFactory(email="reset.me@a.test")
    client.post("/accounts/password_reset/", {"email": "reset.me@a.test"})
    reset = Message.objects.get(kind="accounts.password-reset")
    person_invite(person=PersonFactory(email="new.contact@a.test"), by=superuser)
    invitation = Message.objects.get(kind="members.invitation")
    client.force_login(superuser)

    for message in (reset, invitation):
        page = client.get(f"/admin/outbox/message/{message.pk}/change/").content.decode()
        link = "/accounts/reset/" if message == reset else "/members/invitation/"
        assert link in message.body  # the link is in the e-mail...
        assert link not in page  # ...not on the page staff read
        assert "Non affiché" in page
