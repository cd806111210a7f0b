"""The proposal form: drafts at any time, nothing lost on a validation error, submission when eligible."""

import pytest

from das.tests.factories import StrategicAreaFactory
from members.models import Organisation
from members.tests.factories import OrganisationFactory
from projects.models import Partner, Project

pytestmark = pytest.mark.django_db


def management(total):
    return {"partners-TOTAL_FORMS": str(total), "partners-INITIAL_FORMS": "0",
            "partners-MIN_NUM_FORMS": "0", "partners-MAX_NUM_FORMS": "1000"}  # fmt: skip


def partner_row(index, organisation, role, share, contact="Dr Jeanne Martin"):
    prefix = f"partners-{index}-"
    return {prefix + "organisation": organisation.pk if organisation else "", prefix + "role": role,
            prefix + "budget_share": share, prefix + "contact_name": contact,
            prefix + "contact_email": "jeanne.martin@example.org"}  # fmt: skip


@pytest.fixture
def area(db):
    return StrategicAreaFactory(code="diagnostics")


def full_data(owner, area):
    company = OrganisationFactory(name="Imaging SAS", category=Organisation.Category.SME)
    hospital = OrganisationFactory(name="Hôpital Beaujon", category=Organisation.Category.HOSPITAL)
    data = {
        "title": "Sepsis in ten minutes", "acronym": "SEPSIS10", "summary": "A bedside test.",
        "objectives": "Clinical validation.", "primary_area": area.pk, "kind": "collaborative",
        "trl_start": 3, "trl_target": 6, "duration_months": 36, "total_budget": "2000000",
        "requested_aid": "900000", "target_funder": "bpifrance", "target_programme": "i-Nov", "target_scope": "",
        **management(3),
        **partner_row(0, owner.person.organisation, "lead", "50"),
        **partner_row(1, company, "partner", "30"),
        **partner_row(2, hospital, "partner", "20"),
    }  # fmt: skip
    return data


def test_a_draft_needs_only_a_title(client, owner):
    client.force_login(owner)

    response = client.post("/projects/new/", {"title": "Idea", "kind": "collaborative", **management(0)})

    project = Project.objects.get()
    assert response.status_code == 302
    assert (project.title, project.status, project.proposer) == ("Idea", Project.Status.DRAFT, owner)
    assert project.lead_organisation == owner.person.organisation


def test_a_validation_error_saves_nothing_and_keeps_every_value_typed(client, owner, area):
    client.force_login(owner)
    data = full_data(owner, area) | {"trl_start": 7, "trl_target": 4, "partners-2-contact_email": "not-an-email"}

    response = client.post("/projects/new/", data)

    assert response.status_code == 200
    assert not Project.objects.exists()
    text = response.content.decode()
    for value in ("Sepsis in ten minutes", "SEPSIS10", "A bedside test.", "Clinical validation.", "not-an-email",
                  "2000000", "i-Nov"):  # fmt: skip
        assert value in text


def test_saving_the_form_with_two_partners_stores_the_consortium(client, owner, area):
    client.force_login(owner)

    client.post("/projects/new/", full_data(owner, area) | {"action": "draft"})

    project = Project.objects.get()
    assert project.status == Project.Status.DRAFT
    assert project.target_scope == "national"  # filled from the funder
    assert list(project.partners.values_list("organisation__name", "role", "budget_share")) == [
        ("Oncox Devices SAS", "lead", 50), ("Imaging SAS", "partner", 30), ("Hôpital Beaujon", "partner", 20)
    ]  # fmt: skip
    assert list(project.areas.all()) == [area]


def test_save_and_submit_submits_an_eligible_proposal(client, owner, area, staff, mailoutbox):
    client.force_login(owner)

    response = client.post("/projects/new/", full_data(owner, area) | {"action": "submit"})

    project = Project.objects.get()
    assert response["Location"] == f"/projects/{project.pk}/"
    assert project.status == Project.Status.SUBMITTED
    assert project.events.get().to_status == Project.Status.SUBMITTED


def test_save_and_submit_keeps_the_draft_and_says_what_is_missing(client, owner, area):
    client.force_login(owner)
    data = full_data(owner, area) | {"action": "submit", "partners-2-organisation": "", "partners-2-role": ""}
    data = {k: v for k, v in data.items() if not k.startswith("partners-2-")} | management(2)

    response = client.post("/projects/new/", data, follow=True)

    project = Project.objects.get()
    assert project.status == Project.Status.DRAFT
    assert project.partners.count() == 2
    assert "alert-error" in response.content.decode() or "alert-danger" in response.content.decode()


def test_a_non_member_partner_needs_a_category(client, owner, area):
    client.force_login(owner)
    data = full_data(owner, area) | {"partners-2-organisation": "", "partners-2-name": "Labo X"}

    response = client.post("/projects/new/", data)

    assert response.status_code == 200
    assert not Project.objects.exists()
    client.post("/projects/new/", data | {"partners-2-category": "research"})
    assert Partner.objects.get(name="Labo X").category == "research"


def test_the_same_organisation_twice_is_refused(client, owner, area):
    client.force_login(owner)
    data = full_data(owner, area) | {"partners-1-organisation": owner.person.organisation.pk}

    response = client.post("/projects/new/", data)

    assert response.status_code == 200
    assert not Project.objects.exists()


def test_a_submitted_proposal_can_no_longer_be_edited(client, owner, area):
    client.force_login(owner)
    client.post("/projects/new/", full_data(owner, area) | {"action": "submit"})
    project = Project.objects.get()

    assert client.get(f"/projects/{project.pk}/edit/").status_code == 403


def test_partner_suggestions_fill_the_missing_kind_of_partner(client, owner, area):
    from projects.tests.factories import ProjectFactory

    lab = OrganisationFactory(name="Inserm U999", category=Organisation.Category.RESEARCH)
    lapsed = OrganisationFactory(name="Old Lab", category=Organisation.Category.RESEARCH, status="lapsed")
    elsewhere = OrganisationFactory(name="Far Lab", category=Organisation.Category.RESEARCH)
    for organisation in (lab, lapsed):
        other = ProjectFactory(primary_area=area)
        Partner.objects.create(project=other, organisation=organisation, role="partner", budget_share=50)
    Partner.objects.create(project=ProjectFactory(), organisation=elsewhere, role="partner", budget_share=50)
    client.force_login(owner)
    data = full_data(owner, area)
    data = {k: v for k, v in data.items() if not k.startswith("partners-2-")} | management(2)
    client.post("/projects/new/", data)
    project = Project.objects.get(acronym="SEPSIS10")

    text = client.get(f"/projects/{project.pk}/").content.decode()

    assert 'id="suggestions"' in text
    assert "Inserm U999" in text
    assert "Old Lab" not in text and "Far Lab" not in text


def test_after_more_information_is_requested_save_and_submit_resubmits(client, owner, area, staff):
    from projects import services

    client.force_login(owner)
    client.post("/projects/new/", full_data(owner, area) | {"action": "submit"})
    project = Project.objects.get()
    services.project_transition(project=project, to=Project.Status.UNDER_REVIEW, by=staff)
    services.project_transition(project=project, to=Project.Status.INFO_REQUESTED, by=staff, comment="Budget?")
    data = full_data(owner, area) | {"action": "submit", "summary": "A bedside test, with the budget detailed."}
    data = {k: v for k, v in data.items() if not k.startswith("partners-")}
    data |= management(3) | {
        **partner_row(0, owner.person.organisation, "lead", "50"),
        **partner_row(1, project.partners.all()[1].organisation, "partner", "30"),
        **partner_row(2, project.partners.all()[2].organisation, "partner", "20"),
    }

    client.post(f"/projects/{project.pk}/edit/", data)

    project.refresh_from_db()
    assert project.status == Project.Status.RESUBMITTED
    assert project.summary == "A bedside test, with the budget detailed."
