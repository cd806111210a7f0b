"""Staff invite contacts to an account; the link is signed, expires, and works once."""

import re

import pytest
from django.core import signing
from django.test import Client

from members import services
from members.models import Person, User
from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "Un-mot-de-passe-solide-42"


@pytest.fixture
def invited(mailoutbox, django_capture_on_commit_callbacks):
    from medicen_portal.celery import app

    organisation = OrganisationFactory(slug="biosense")
    person = PersonFactory(organisation=organisation, email="Claire.Dubois@BioSense.example", is_primary_contact=True)
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/admin/members/person/", {"action": "invite", "_selected_action": [person.pk]})
    finally:
        app.conf.task_always_eager = False
    assert response.status_code == 302
    (message,) = mailoutbox
    link = re.search(r"http://\S+/members/invitation/(\S+)/", message.body)
    return person, link.group(1), message


def test_staff_invite_a_contact_who_receives_a_set_password_link(invited):
    person, _token, message = invited

    assert message.to == ["claire.dubois@biosense.example"]
    person.refresh_from_db()
    assert person.user.email == "claire.dubois@biosense.example"
    assert not person.user.has_usable_password()
    assert person.invitation_sent_at is not None


def test_the_link_sets_the_password_logs_in_and_works_once(invited):
    person, token, _ = invited
    client = Client()

    assert client.get(f"/members/invitation/{token}/").status_code == 200
    response = client.post(f"/members/invitation/{token}/", {"new_password1": PASSWORD, "new_password2": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/members/biosense/membership/"
    person.refresh_from_db()
    assert User.objects.get(pk=person.user_id).check_password(PASSWORD)
    assert Client().get(f"/members/invitation/{token}/").status_code == 400


def test_an_expired_or_forged_link_is_refused(invited, monkeypatch, settings):
    _, token, _ = invited
    settings.MEMBERS_INVITATION_DAYS = 7
    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() + 8 * 86400)

    assert Client().get(f"/members/invitation/{token}/").status_code == 400
    monkeypatch.setattr(signing.time, "time", real_time)
    assert Client().get(f"/members/invitation/{token}x/").status_code == 400


def test_a_person_with_an_account_or_without_email_is_not_invited():
    with_account = PersonFactory(user=UserFactory(email="has@account.example"))
    without_email = PersonFactory(email="")
    staff = UserFactory(is_staff=True)

    for person in (with_account, without_email):
        with pytest.raises(services.ValidationError):
            services.person_invite(person=person, by=staff)
    assert Person.objects.filter(invited_at__isnull=False).count() == 0


def test_there_is_no_open_self_registration():
    assert Client().get("/accounts/signup/").status_code == 404
    assert Client().get("/members/register/").status_code == 404
