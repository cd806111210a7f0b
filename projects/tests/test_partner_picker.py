"""The consortium's organisation picker: a type-ahead search, not a <select> of every organisation."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from das.tests.factories import StrategicAreaFactory
from members.models import Organisation
from members.tests.factories import OrganisationFactory
from projects.models import Project
from projects.tests.test_form import full_data, partner_row

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def area(db):
    return StrategicAreaFactory(code="diagnostics")


@pytest.fixture
def homonyms(db):
    return [
        OrganisationFactory(name="Cardio Imaging SAS", city="Lyon", siren="732829320"),
        OrganisationFactory(name="Cardio Imaging SAS", city="Paris", siren="552100554"),
    ]


def search(client, user, **params):
    client.force_login(user)
    return client.get("/projects/organisations/", params)


def test_the_search_tells_homonyms_apart_by_city_and_siren(client, owner, homonyms):
    response = search(client, owner, q="cardio imag")

    assert response.status_code == 200
    results = response.json()["results"]
    assert {(r["name"], r["city"], r["siren"]) for r in results} == {
        ("Cardio Imaging SAS", "Lyon", "732829320"),
        ("Cardio Imaging SAS", "Paris", "552100554"),
    }
    assert search(client, owner, q="552100554").json()["results"][0]["city"] == "Paris"


def test_member_contacts_are_offered_listed_members_only(client, owner):
    OrganisationFactory(name="Cardio Prospect", status=Organisation.Status.PROSPECT)
    OrganisationFactory(name="Cardio Lapsed", status=Organisation.Status.LAPSED)
    OrganisationFactory(name="Cardio Unlisted", directory_opt_in=False)
    OrganisationFactory(name="Cardio Listed")

    names = [r["name"] for r in search(client, owner, q="cardio").json()["results"]]

    assert names == ["Cardio Listed"]


def test_staff_see_every_organisation_with_non_active_ones_marked(client, staff):
    OrganisationFactory(name="Cardio Lapsed", status=Organisation.Status.LAPSED)
    OrganisationFactory(name="Cardio Listed")

    results = search(client, staff, q="cardio").json()["results"]

    assert [(r["name"], r["active"]) for r in results] == [("Cardio Lapsed", False), ("Cardio Listed", True)]


def test_a_posted_organisation_the_contact_may_not_pick_is_refused(client, owner, area):
    unlisted = OrganisationFactory(name="Hidden Prospect", status=Organisation.Status.PROSPECT)
    client.force_login(owner)
    data = full_data(owner, area) | partner_row(2, unlisted, "partner", "20")

    response = client.post("/projects/new/", data)

    assert response.status_code == 200
    assert not Project.objects.exists()


def test_the_search_is_paginated_in_a_few_queries_whatever_the_size(client, owner, django_assert_max_num_queries):
    Organisation.objects.bulk_create(
        [Organisation(name=f"Biotech {n:03d}", slug=f"biotech-{n}", category="sme", status="active",
                      directory_opt_in=True, search_key=f"biotech{n:03d}|paris") for n in range(45)]
    )  # fmt: skip
    client.force_login(owner)

    with django_assert_max_num_queries(5):
        first = client.get("/projects/organisations/", {"q": "biotech"}).json()
    third = client.get("/projects/organisations/", {"q": "biotech", "page": 3}).json()

    assert len(first["results"]) == 20 and first["has_more"]
    assert len(third["results"]) == 5 and not third["has_more"]


def test_visitors_and_people_without_an_organisation_cannot_search(client, db):
    from members.tests.factories import UserFactory

    assert client.get("/projects/organisations/").status_code == 302
    client.force_login(UserFactory())
    assert client.get("/projects/organisations/").status_code == 403


def test_the_form_does_not_grow_with_the_number_of_organisations(client, owner):
    client.force_login(owner)
    before = len(client.get("/projects/new/").content)
    Organisation.objects.bulk_create(
        [Organisation(name=f"Org {n}", slug=f"org-{n}", category="sme", status="active") for n in range(300)]
    )

    after = client.get("/projects/new/").content

    assert len(after) == before
    assert b"Org 299" not in after
    assert b'<option value="' + str(owner.person.organisation.pk).encode() not in after


def test_the_chosen_organisation_is_shown_with_its_city_and_siren(client, owner, project):
    client.force_login(owner)

    page = client.get(f"/projects/{project.pk}/edit/").content.decode()

    partner = project.partners.get(role="lead").organisation
    assert f'value="{partner.pk}"' in page
    assert partner.name in page


def test_documents_chosen_in_the_form_are_attached_when_it_is_saved(client, owner, area):
    client.force_login(owner)
    data = full_data(owner, area) | {"action": "draft", "files": [SimpleUploadedFile("plan.pdf", PDF)]}

    client.post("/projects/new/", data)

    project = Project.objects.get()
    assert project.title == "Sepsis in ten minutes"
    assert [a.original_name for a in project.attachments.all()] == ["plan.pdf"]


def test_a_refused_document_does_not_lose_what_was_typed(client, owner, area):
    client.force_login(owner)
    data = full_data(owner, area) | {"action": "draft", "files": [SimpleUploadedFile("notes.pdf", b"not a pdf")]}

    response = client.post("/projects/new/", data, follow=True)

    project = Project.objects.get()
    assert (project.title, project.summary) == ("Sepsis in ten minutes", "A bedside test.")
    assert not project.attachments.exists()
    assert "notes.pdf" in response.content.decode()


def test_an_invalid_form_with_documents_keeps_the_text_and_says_the_documents_were_not_attached(client, owner, area):
    client.force_login(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    data = full_data(owner, area) | {"trl_start": 7, "trl_target": 4, "files": [SimpleUploadedFile("plan.pdf", PDF)]}

    response = client.post("/projects/new/", data)

    text = response.content.decode()
    assert not Project.objects.exists()
    assert "Sepsis in ten minutes" in text
    assert "The documents you chose were not attached: choose them again." in text
