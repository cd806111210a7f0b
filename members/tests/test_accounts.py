import pytest
from django.test import Client

from members.tests.factories import UserFactory
from outbox.models import Message
from outbox.services import messages_send

pytestmark = pytest.mark.django_db


def test_a_user_logs_in_with_their_email_address(client: Client):
    UserFactory(email="contact@biotech.example")

    response = client.post(
        "/accounts/login/", {"username": "contact@biotech.example", "password": "correct-horse-battery"}
    )

    assert response.status_code == 302
    assert response.wsgi_request.user.email == "contact@biotech.example"


def test_a_wrong_password_is_refused_with_a_message(client: Client):
    UserFactory(email="contact@biotech.example")

    response = client.post("/accounts/login/", {"username": "contact@biotech.example", "password": "nope"})

    assert response.status_code == 200
    assert "Saisissez une adresse e-mail et un mot de passe valides" in response.content.decode()


def test_password_reset_sends_a_link_by_email(client: Client, mailoutbox):
    UserFactory(email="contact@biotech.example")

    client.post("/accounts/password_reset/", {"email": "contact@biotech.example"})
    # The outbox's sender (a worker after commit) sends what the request queued.
    messages_send(message_ids=list(Message.objects.filter(kind="accounts.password-reset").values_list("pk", flat=True)))

    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body
