import pytest
from django.test import Client

from members.models import Organisation, organisation_name_key
from members.selectors import probable_duplicates
from members.tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_near_identical_names_share_a_normalised_key():
    assert organisation_name_key("Hôpital Saint-Louis (AP-HP)") == organisation_name_key("Hopital Saint Louis - APHP")
    assert organisation_name_key("Théra Biotech SAS") == organisation_name_key("THERA BIOTECH")
    assert organisation_name_key("SAS") == "sas"


def test_probable_duplicates_by_siren_by_name_and_by_near_name():
    same_siren = OrganisationFactory(name="Totally Different", siren="552100554")
    same_name = OrganisationFactory(name="Hopital Saint Louis - APHP", siren="")
    near_name = OrganisationFactory(name="Hôpital Saint-Louis AP-HP Paris", siren="")
    OrganisationFactory(name="Hôpital Necker", siren="")

    found = probable_duplicates(name="Hôpital Saint-Louis (AP-HP)", siren="552100554")

    assert {o.pk for o in found} >= {same_siren.pk, same_name.pk}
    assert "Hôpital Necker" not in {o.name for o in found}
    assert near_name.pk in {o.pk for o in probable_duplicates(name="Hopital Saint Louis APHP Pari")}


def test_staff_are_warned_of_a_probable_duplicate_before_creating_it(areas):
    OrganisationFactory(name="Hopital Saint Louis - APHP", siren="")
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    data = {
        "name": "Hôpital Saint-Louis (AP-HP)",
        "slug": "hopital-saint-louis-ap-hp",
        "category": "hospital",
        "status": "active",
        "people-TOTAL_FORMS": 0,
        "people-INITIAL_FORMS": 0,
        "membership_years-TOTAL_FORMS": 0,
        "membership_years-INITIAL_FORMS": 0,
    }

    warned = client.post("/admin/members/organisation/add/", data)
    assert warned.status_code == 200
    assert "Hopital Saint Louis - APHP" in warned.content.decode()
    assert Organisation.objects.count() == 1

    confirmed = client.post("/admin/members/organisation/add/", {**data, "confirm_not_duplicate": "on"})
    assert confirmed.status_code == 302
    assert Organisation.objects.count() == 2


def test_the_admin_pages_of_an_organisation_render_with_contacts_and_years(areas):
    from members.tests.factories import MembershipYearFactory, PersonFactory

    organisation = OrganisationFactory(name="BioSense")
    PersonFactory(organisation=organisation, last_name="Dubois", is_billing_contact=True)
    MembershipYearFactory(organisation=organisation, year=2026)
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    change = client.get(f"/admin/members/organisation/{organisation.pk}/change/")
    add = client.get("/admin/members/organisation/add/")

    assert change.status_code == 200 and "Dubois" in change.content.decode()
    assert "confirm_not_duplicate" not in change.content.decode()
    assert add.status_code == 200 and "confirm_not_duplicate" in add.content.decode()
    for url in ("/admin/members/membershipyear/", "/admin/members/feerate/", "/admin/members/person/",
                "/admin/members/organisation/import/", "/admin/members/organisation/export/"):  # fmt: skip
        assert client.get(url).status_code == 200, url
    export = client.get("/admin/members/organisation/export/", {"file_format": "xlsx"})
    assert export["Content-Disposition"].endswith('.xlsx"')
