"""Joining online: the public application at /join/, its duplicates flagged for staff, approval and decline."""

from __future__ import annotations

import threading

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation
from stdnum import luhn

from members import applications
from members.models import MembershipApplication, MembershipYear, Organisation, Person, User
from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory
from outbox.models import Message

pytestmark = pytest.mark.django_db


def siren(n: int) -> str:
    body = f"{50_000_000 + n:08d}"
    return body + luhn.calc_check_digit(body)


def form_data(**overrides) -> dict:
    data = {
        "organisation_name": "Neuronove SAS",
        "siren": siren(1),
        "category": "startup",
        "headcount": "8",
        "first_name": "Léa",
        "last_name": "Moreau",
        "position": "CEO",
        "email": "Lea.Moreau@Neuronove.example",
        "phone": "",
        "consent": "on",
        "nickname": "",
    }
    data.update(overrides)
    return data


def make_application(**overrides) -> MembershipApplication:
    fields = {
        "organisation_name": "Neuronove",
        "siren": siren(1),
        "category": "startup",
        "headcount": 8,
        "first_name": "Léa",
        "last_name": "Moreau",
        "position": "CEO",
        "email": "lea.moreau@neuronove.example",
        "language": "fr",
        "consented_at": timezone.now(),
    }
    fields.update(overrides)
    return MembershipApplication.objects.create(**fields)


# --- The public page -----------------------------------------------------------------------


def test_a_visitor_applies_and_gets_a_confirmation_and_one_acknowledgement(client, areas):
    page = client.get("/join/")
    assert page.status_code == 200
    assert "SIREN" in page.content.decode()

    response = client.post("/join/", form_data(das_interests=[areas["imaging"].pk]))

    assert response.status_code == 302
    assert response["Location"] == "/join/thanks/"
    application = MembershipApplication.objects.get()
    assert application.status == MembershipApplication.Status.SUBMITTED
    assert application.email == "lea.moreau@neuronove.example"
    assert application.consented_at is not None
    assert [area.code for area in application.das_interests.all()] == ["imaging"]
    ack = Message.objects.get(key=f"join-application:{application.pk}:ack")
    assert ack.to == [application.email]
    assert "Neuronove SAS" in ack.body
    done = client.get(response["Location"]).content.decode()
    assert application.email in done


def test_a_siren_typed_with_spaces_is_accepted(client):
    number = siren(2)
    response = client.post("/join/", form_data(siren=f"{number[:3]} {number[3:6]} {number[6:]}"))

    assert response.status_code == 302
    assert MembershipApplication.objects.get().siren == number


def test_a_bad_siren_is_refused_with_a_clear_french_message_and_nothing_is_kept(client):
    bad = siren(3)[:-1] + str((int(siren(3)[-1]) + 1) % 10)

    response = client.post("/join/", form_data(siren=bad), HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 200
    page = response.content.decode()
    assert f"{bad} n" in page and "numéro SIREN valide" in page
    assert not MembershipApplication.objects.exists()
    assert not Message.objects.exists()


def test_missing_fields_and_consent_are_named(client):
    client.cookies["django_language"] = "en"
    response = client.post("/join/", form_data(organisation_name="", email="not-an-address", consent=""))

    page = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in page
    assert "Enter a valid email address." in page
    assert "Your agreement is needed to send the application." in page
    assert not MembershipApplication.objects.exists()


def test_a_robot_filling_the_hidden_field_sees_the_thanks_but_nothing_is_kept(client):
    response = client.post("/join/", form_data(nickname="Buy now"))

    assert response.status_code == 302
    assert not MembershipApplication.objects.exists()
    assert not Message.objects.exists()


def test_applications_from_one_client_are_limited_per_hour(client, settings):
    settings.JOIN_APPLICATIONS_PER_CLIENT_PER_HOUR = 2
    for n in range(2):
        assert client.post("/join/", form_data(siren=siren(10 + n))).status_code == 302

    response = client.post("/join/", form_data(siren=siren(20)))

    assert response.status_code == 429
    assert MembershipApplication.objects.count() == 2


def test_the_home_and_login_pages_link_to_the_application(client):
    for url in ("/", "/accounts/login/"):
        assert 'href="/join/"' in client.get(url).content.decode()


# --- Duplicates ------------------------------------------------------------------------------


def test_an_application_like_an_existing_organisation_or_application_is_flagged(db):
    same_siren = OrganisationFactory(name="Quite Another Name", siren=siren(30))
    similar_name = OrganisationFactory(name="Cardiologs Technologies", siren=siren(31))
    first = make_application(organisation_name="Unrelated Labs", siren=siren(30))
    second = make_application(organisation_name="Cardiologs Technologie SAS", siren=siren(32))
    third = make_application(organisation_name="Entirely New", siren=siren(33))
    fourth = make_application(organisation_name="Also New Here", siren=siren(33))

    found = applications.application_duplicates([first, second, third, fourth])

    assert found[first.pk] == [same_siren]
    assert found[second.pk] == [similar_name]
    assert found[third.pk] == [fourth] and found[fourth.pk] == [third]


def test_the_admin_list_flags_duplicates_in_a_number_of_queries_independent_of_its_size(
    client, superuser, django_assert_max_num_queries
):
    client.force_login(superuser)
    OrganisationFactory(name="Cardiologs Technologies", siren=siren(40))

    def page_queries(count: int) -> int:
        for n in range(count):
            make_application(organisation_name=f"Applicant {count}-{n}", siren=siren(1000 * count + n))
        make_application(organisation_name="Cardiologs Technologie", siren=siren(1000 * count + 999))
        with django_assert_max_num_queries(30) as captured:
            response = client.get("/admin/members/membershipapplication/")
        assert response.status_code == 200
        assert "⚠ Cardiologs Technologies" in response.content.decode()
        return len(captured.captured_queries)

    assert page_queries(3) == page_queries(40)


def test_the_duplicate_filter_and_the_change_page_link_the_matching_organisation(client, superuser):
    client.force_login(superuser)
    organisation = OrganisationFactory(name="Hôpital Saint-Louis", siren=siren(50))
    flagged = make_application(organisation_name="Hopital Saint Louis", siren=siren(51))
    clean = make_application(organisation_name="Nothing Alike", siren=siren(52))

    listed = client.get("/admin/members/membershipapplication/?duplicate=yes").content.decode()
    change = client.get(f"/admin/members/membershipapplication/{flagged.pk}/change/").content.decode()

    assert f"/admin/members/membershipapplication/{flagged.pk}/change/" in listed
    assert f"/admin/members/membershipapplication/{clean.pk}/change/" not in listed
    assert f"/admin/members/organisation/{organisation.pk}/change/" in change


# --- Approval ---------------------------------------------------------------------------------


def test_approval_creates_one_organisation_year_contact_and_invitation_even_when_run_twice(
    superuser, fee_grid, areas, django_capture_on_commit_callbacks
):
    application = make_application(language="en")
    application.das_interests.set([areas["imaging"]])
    stale = MembershipApplication.objects.get(pk=application.pk)  # a second click, with the page's old copy

    applications.application_approve(application=application, by=superuser)
    applications.application_approve(application=stale, by=superuser)

    organisation = Organisation.objects.get(siren=application.siren)
    assert organisation.status == Organisation.Status.PROSPECT
    assert [area.code for area in organisation.das_interests.all()] == ["imaging"]
    (year,) = MembershipYear.objects.filter(organisation=organisation)
    assert (year.year, year.status, year.fee) == (timezone.localdate().year, "pending", 600)
    (person,) = Person.objects.filter(organisation=organisation)
    assert person.is_primary_contact and person.email == "lea.moreau@neuronove.example"
    assert person.user.language == "en" and not person.user.has_usable_password()
    (invitation,) = Message.objects.filter(kind="members.invitation")
    assert invitation.to == ["lea.moreau@neuronove.example"] and invitation.language == "en"
    application.refresh_from_db()
    assert (application.status, application.decided_by, application.organisation) == (
        "approved",
        superuser,
        organisation,
    )
    assert LogEntry.objects.get_for_object(application).get(action=LogEntry.Action.UPDATE).actor == superuser


def test_approval_through_the_admin_confirms_first(client, superuser, fee_grid):
    client.force_login(superuser)
    application = make_application()
    url = f"/admin/members/membershipapplication/{application.pk}/approve/"

    confirmation = client.get(url)
    assert confirmation.status_code == 200
    assert MembershipApplication.objects.get().status == "submitted"

    response = client.post(url)

    assert response.status_code == 302
    assert MembershipApplication.objects.get().status == "approved"
    assert Organisation.objects.filter(siren=application.siren).count() == 1


def test_approval_is_refused_when_an_organisation_has_the_siren_and_writes_nothing(superuser, fee_grid):
    OrganisationFactory(name="Neuronove", siren=siren(1))
    application = make_application()

    with pytest.raises(ValidationError, match="already has the SIREN"), translation.override("en"):
        applications.application_approve(application=application, by=superuser)

    application.refresh_from_db()
    assert application.status == "submitted"
    assert Organisation.objects.count() == 1 and not Person.objects.exists()


def test_an_existing_login_without_organisation_becomes_the_contact_without_an_invitation(superuser, fee_grid):
    user = UserFactory(email="lea.moreau@neuronove.example")
    PersonFactory(organisation=None, user=None, email="someone@else.example")
    application = make_application()

    applications.application_approve(application=application, by=superuser)

    assert Person.objects.get(email="lea.moreau@neuronove.example").user == user
    assert not Message.objects.filter(kind="members.invitation").exists()


# --- Decline ------------------------------------------------------------------------------


def test_decline_sends_the_reason_once_in_the_applicants_language(superuser):
    application = make_application(language="en")

    applications.application_decline(application=application, by=superuser, reason="Your activity is outside health.")
    applications.application_decline(application=application, by=superuser, reason="Again")

    (message,) = Message.objects.filter(key=f"join-application:{application.pk}:declined")
    assert "Your activity is outside health." in message.body
    assert "unable to accept" in message.body
    application.refresh_from_db()
    assert (application.status, application.reason) == ("declined", "Your activity is outside health.")
    assert not Organisation.objects.exists()


def test_decline_needs_a_reason_and_a_decided_application_cannot_change(superuser, fee_grid):
    application = make_application()

    with pytest.raises(ValidationError):
        applications.application_decline(application=application, by=superuser, reason="  ")
    applications.application_approve(application=application, by=superuser)
    with pytest.raises(ValidationError), translation.override("en"):
        applications.application_decline(application=application, by=superuser, reason="Too late")

    application.refresh_from_db()
    assert application.status == "approved"


def test_decline_through_the_admin_asks_for_the_reason(client, superuser):
    client.force_login(superuser)
    application = make_application()
    url = f"/admin/members/membershipapplication/{application.pk}/decline/"

    assert client.post(url, {"reason": ""}).status_code == 200
    assert MembershipApplication.objects.get().status == "submitted"
    assert client.post(url, {"reason": "Not in Île-de-France."}).status_code == 302
    assert MembershipApplication.objects.get().status == "declined"


@pytest.mark.django_db(transaction=True)
def test_two_staff_approving_at_the_same_moment_create_one_organisation(fee_grid):
    superuser = [UserFactory(is_staff=True) for _ in range(2)]
    application = make_application()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def approve(by: User) -> None:
        try:
            copy = MembershipApplication.objects.get(pk=application.pk)  # each its own page, both "submitted"
            start.wait()
            applications.application_approve(application=copy, by=by)
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(user,)) for user in superuser]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert Organisation.objects.filter(siren=application.siren).count() == 1
    assert Person.objects.filter(email=application.email).count() == 1
    assert MembershipYear.objects.count() == 1
    assert Message.objects.filter(kind="members.invitation").count() == 1


def test_only_staff_allowed_to_change_applications_may_decide_them(client):
    application = make_application()
    approve = f"/admin/members/membershipapplication/{application.pk}/approve/"
    decline = f"/admin/members/membershipapplication/{application.pk}/decline/"
    contact = UserFactory()
    PersonFactory(organisation=OrganisationFactory(), user=contact, email=contact.email, is_primary_contact=True)
    staff_without_the_right = UserFactory(is_staff=True)

    client.force_login(contact)  # a member contact: sent to the admin's login
    assert client.post(approve).status_code == 302 and "/admin/login/" in client.post(approve)["Location"]
    client.force_login(staff_without_the_right)
    assert client.post(approve).status_code == 403
    assert client.post(decline, {"reason": "No."}).status_code == 403

    assert MembershipApplication.objects.get().status == "submitted"
    assert not Organisation.objects.filter(siren=application.siren).exists()
