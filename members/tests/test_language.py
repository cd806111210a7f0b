"""The language preference: saved by the switch, applied at login, used for every e-mail."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from members import services
from members.tests.factories import MembershipYearFactory, OrganisationFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def test_the_language_switch_saves_the_choice_of_a_logged_in_user():
    user = UserFactory()
    client = Client()
    client.force_login(user)

    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    user.refresh_from_db()
    assert user.language == "en"


def test_an_unknown_language_is_not_saved_and_anonymous_visitors_just_get_the_cookie():
    user = UserFactory()
    client = Client()
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "de", "next": "/"})
    user.refresh_from_db()
    assert user.language == ""

    anonymous = Client().post(reverse("set_language"), {"language": "en", "next": "/"})
    assert anonymous.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_the_saved_language_follows_the_user_to_another_device_at_login():
    UserFactory(email="claire@biosense.example", language="en")
    other_device = Client()  # no language cookie: the portal speaks French
    assert "Log in" not in other_device.get(reverse("login")).content.decode()

    response = other_device.post(
        reverse("login"), {"username": "claire@biosense.example", "password": PASSWORD}, follow=True
    )

    assert response.redirect_chain
    assert other_device.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Log out" in response.content.decode()


def test_a_user_without_a_saved_language_keeps_the_browsers_choice_at_login():
    UserFactory(email="paul@biosense.example")
    client = Client()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    client.post(reverse("login"), {"username": "paul@biosense.example", "password": PASSWORD})
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def _send_due():
    from outbox import services as outbox

    outbox.scan(send=outbox.send_synchronously())


def _contact(organisation, email: str, language: str, **roles):
    user = UserFactory(email=email, language=language)
    return PersonFactory(organisation=organisation, email=email, user=user, **roles)


def test_a_renewal_reminder_goes_out_in_each_recipients_language(fee_grid, mailoutbox):
    english = OrganisationFactory(name="London Diagnostics")
    _contact(english, "finance@london.example", "en", is_billing_contact=True)
    french = OrganisationFactory(name="Diagnostic Paris")
    _contact(french, "compta@paris.example", "fr", is_billing_contact=True)
    for organisation in (english, french):
        membership = MembershipYearFactory(organisation=organisation, year=2027, status="pending")
        assert services.renewal_reminders_enqueue(membership_year_ids=[membership.pk]) == [membership.pk]
    _send_due()

    by_address = {message.to[0]: message for message in mailoutbox}
    assert by_address["finance@london.example"].subject == ("Medicen Paris Region: renewal of your membership for 2027")
    assert by_address["compta@paris.example"].subject == (
        "Medicen Paris Region : renouvellement de votre adhésion pour 2027"
    )


def test_recipients_without_an_account_or_differing_languages_get_french(fee_grid, mailoutbox):
    organisation = OrganisationFactory()
    _contact(organisation, "a@mixed.example", "en", is_billing_contact=True)
    PersonFactory(organisation=organisation, email="b@mixed.example", is_billing_contact=True)  # no account
    membership = MembershipYearFactory(organisation=organisation, year=2027, status="pending")
    services.renewal_reminders_enqueue(membership_year_ids=[membership.pk])
    _send_due()
    assert "renouvellement" in mailoutbox[0].subject


def test_an_account_invitation_goes_out_in_the_persons_language(mailoutbox):
    # An account made earlier (an expired invitation) whose holder chose English.
    user = UserFactory(email="kol@oxford.example", language="en")
    user.set_unusable_password()
    user.save()
    person = PersonFactory(email="kol@oxford.example", user=user)
    staff = UserFactory(is_staff=True)
    services.person_invite(person=person, by=staff)

    _send_due()

    assert mailoutbox[0].subject == "Your account on the Medicen Portal"


def test_the_persons_language_is_their_accounts(db):
    assert PersonFactory().language == ""
    assert PersonFactory(user=UserFactory(language="en")).language == "en"
