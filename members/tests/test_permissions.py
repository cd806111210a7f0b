import pytest
from django.test import Client

from members.models import Organisation

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.usefixtures("colleague", "outsider")
def test_a_primary_contact_edits_their_organisations_public_profile(owner, areas):
    client = logged_in(owner)

    response = client.post(
        "/members/biosense/edit/",
        {
            "description": "Diagnostic rapide au lit du patient.",
            "website": "https://biosense.example",
            "das_interests": [areas["biological-diagnostics"].pk, areas["digital-health"].pk],
            "directory_opt_in": "on",
        },
    )

    assert response.status_code == 302
    organisation = Organisation.objects.get(slug="biosense")
    assert organisation.description == "Diagnostic rapide au lit du patient."
    assert organisation.website == "https://biosense.example"
    assert sorted(organisation.das_interests.values_list("code", flat=True)) == [
        "biological-diagnostics",
        "digital-health",
    ]


@pytest.mark.usefixtures("colleague", "outsider")
def test_name_siren_and_category_cannot_be_changed_by_a_member_contact(owner):
    client = logged_in(owner)
    before = Organisation.objects.get(slug="biosense")

    client.post(
        "/members/biosense/edit/",
        {"description": "x", "name": "Renamed", "siren": "552100554", "category": "large", "directory_opt_in": "on"},
    )

    after = Organisation.objects.get(slug="biosense")
    assert (after.name, after.siren, after.category) == (before.name, before.siren, before.category)
    assert after.description == "x"


@pytest.mark.usefixtures("owner", "outsider")
def test_a_colleague_with_another_role_sees_the_membership_but_may_not_edit_the_profile(colleague):
    client = logged_in(colleague)

    assert client.get("/members/biosense/membership/").status_code == 200
    assert client.get("/members/biosense/edit/").status_code == 403
    response = client.post("/members/biosense/edit/", {"description": "hijacked"})
    assert response.status_code == 403
    assert Organisation.objects.get(slug="biosense").description == "Tests rapides."


@pytest.mark.usefixtures("owner", "colleague")
def test_a_contact_of_another_organisation_gets_404_on_the_private_pages(outsider):
    client = logged_in(outsider)

    assert client.get("/members/biosense/edit/").status_code == 404
    assert client.post("/members/biosense/edit/", {"description": "hijacked"}).status_code == 404
    assert client.get("/members/biosense/membership/").status_code == 404
    assert Organisation.objects.get(slug="biosense").description == "Tests rapides."


@pytest.mark.usefixtures("owner", "colleague", "outsider")
def test_anonymous_visitors_are_sent_to_the_login_page():
    response = Client().get("/members/biosense/edit/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.usefixtures("colleague", "outsider")
def test_the_membership_page_lists_colleagues_but_the_public_page_shows_no_email(owner):
    owner = logged_in(owner)

    private = owner.get("/members/biosense/membership/").content.decode()
    public = Client().get("/members/biosense/").content.decode()

    assert "colleague@biosense.example" in private
    assert "@biosense.example" not in public
    assert "BioSense Diagnostics" in public


@pytest.mark.usefixtures("owner")
def test_an_unlisted_organisation_page_is_hidden_from_the_public_but_not_from_its_contacts(outsider, colleague):
    Organisation.objects.filter(slug="biosense").update(directory_opt_in=False)

    assert Client().get("/members/biosense/").status_code == 404
    assert logged_in(outsider).get("/members/biosense/").status_code == 404
    assert logged_in(colleague).get("/members/biosense/").status_code == 200


@pytest.mark.usefixtures("owner", "colleague", "outsider")
def test_staff_edit_any_profile(superuser):
    response = logged_in(superuser).post("/members/neurowave/edit/", {"description": "Ondes."})

    assert response.status_code == 302
    assert Organisation.objects.get(slug="neurowave").description == "Ondes."


@pytest.mark.usefixtures("owner", "outsider")
def test_my_organisation_leads_a_contact_to_their_own_membership_page(colleague):
    response = logged_in(colleague).get("/members/mine/")

    assert response.status_code == 302
    assert response["Location"] == "/members/biosense/membership/"
