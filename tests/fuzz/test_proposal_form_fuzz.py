"""Bad input to the proposal form (create and edit views): never a 500, never half a proposal.

The form is posted as a browser would — every field, the partner formset and its management
form — with hostile values mixed with valid ones. A 200 (the form again, with errors) must
have written nothing: no new proposal, or the edited one exactly as before with the same
consortium. A redirect must have written the whole draft: the proposal and every partner row.
"""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from das.tests.factories import StrategicAreaFactory
from members.models import Organisation
from members.tests.factories import OrganisationFactory
from projects.models import Partner, Project, ProjectEvent
from projects.tests.factories import ProjectFactory, contact, eligible_consortium
from tests.fuzz.common import FUZZ, text

pytestmark = pytest.mark.django_db


def value(*good):
    return st.one_of(st.sampled_from([*good, ""]), text)


def number(*good):
    return st.one_of(st.sampled_from([*map(str, good), "", "-1", "0", "1e6", "3.5", "1 000 000", "NaN"]), text)


@st.composite
def proposal_posts(draw, organisations: list[int], area: int) -> dict:
    data = {
        "title": draw(value("Sepsis in ten minutes", "x" * 400)),
        "acronym": draw(value("SEPSIS10", "A" * 60)),
        "summary": draw(value("A bedside test.")),
        "objectives": draw(value("Clinical validation.")),
        "primary_area": draw(number(area, 999999)),
        "kind": draw(value("collaborative", "single", "other")),
        "trl_start": draw(number(3, 9, 10)),
        "trl_target": draw(number(6, 1)),
        "duration_months": draw(number(36, 1200)),
        "total_budget": draw(number("2000000", "99999999999999999999")),
        "requested_aid": draw(number("900000", "3000000")),
        "target_funder": draw(value("bpifrance", "anr", "europe")),
        "target_programme": draw(value("i-Nov")),
        "target_scope": draw(value("national", "regional")),
        "funder_deadline": draw(value("2027-01-15", "15/01/2027", "2027-02-30")),
        "other_areas": draw(st.lists(number(area), max_size=2)),
        "action": draw(st.sampled_from(["draft", "submit", "", "delete"])),
    }
    partners = draw(st.integers(0, 4))
    data |= {
        "partners-TOTAL_FORMS": draw(st.sampled_from([str(partners), "abc", "-1", "31", ""])),
        "partners-INITIAL_FORMS": draw(st.sampled_from(["0", "0", "3", "x"])),
        "partners-MIN_NUM_FORMS": "0",
        "partners-MAX_NUM_FORMS": "1000",
    }
    for index in range(partners):
        prefix = f"partners-{index}-"
        data |= {
            prefix + "organisation": draw(number(*organisations, 999999)),
            prefix + "name": draw(value("Institut Curie")),
            prefix + "category": draw(value("sme", "hospital", "spaceship")),
            prefix + "role": draw(value("lead", "partner", "subcontractor")),
            prefix + "budget_share": draw(number(50, 30, 20, 100, 101, "33.333")),
            prefix + "contact_name": draw(value("Dr Jeanne Martin")),
            prefix + "contact_email": draw(value("jeanne.martin@example.org", "not-an-email")),
            prefix + "DELETE": draw(st.sampled_from(["", "", "on"])),
        }
    return data


@pytest.fixture
def world(db):
    area = StrategicAreaFactory(code="diagnostics")
    owner = contact(OrganisationFactory(name="Oncox Devices SAS", category=Organisation.Category.STARTUP))
    others = [
        OrganisationFactory(name="Imaging SAS", category=Organisation.Category.SME).pk,
        OrganisationFactory(name="Hôpital Beaujon", category=Organisation.Category.HOSPITAL).pk,
    ]
    client = Client()
    client.force_login(owner)
    return {"area": area, "owner": owner, "organisations": [owner.person.organisation_id, *others], "client": client}


def _has_nul(post: dict) -> bool:
    values = [v for value in post.values() for v in (value if isinstance(value, list) else [value])]
    return any("\x00" in str(v) for v in [*post, *values])


def project_state(project: Project) -> list:
    project.refresh_from_db()
    return [
        {k: v for k, v in Project.objects.filter(pk=project.pk).values()[0].items() if k != "updated_at"},
        sorted(project.areas.values_list("pk", flat=True)),
        list(project.partners.order_by("pk").values()),
        ProjectEvent.objects.filter(project=project).count(),
    ]


@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_creating_a_proposal_writes_all_or_nothing(world, data):
    post = data.draw(proposal_posts(world["organisations"], world["area"].pk))
    projects, partners = Project.objects.count(), Partner.objects.count()

    response = world["client"].post("/projects/new/", post)

    # 400: a NUL byte, refused at the edge (medicen_portal.security.RefuseNulBytesMiddleware).
    assert response.status_code in (200, 302, 400)
    assert (response.status_code == 400) == _has_nul(post)
    if response.status_code in (200, 400):
        assert (Project.objects.count(), Partner.objects.count()) == (projects, partners)
    else:
        assert Project.objects.count() == projects + 1
        created = Project.objects.order_by("-pk").first()
        assert created.title == post["title"].strip()
        assert created.partners.count() == Partner.objects.count() - partners


@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_editing_a_proposal_keeps_it_whole_on_errors(world, data):
    project = ProjectFactory(lead_organisation=world["owner"].person.organisation, proposer=world["owner"])
    eligible_consortium(project)
    before = project_state(project)
    post = data.draw(proposal_posts(world["organisations"], world["area"].pk))

    response = world["client"].post(f"/projects/{project.pk}/edit/", post)

    assert response.status_code in (200, 302, 400)  # 400: a NUL byte, refused at the edge
    assert (response.status_code == 400) == _has_nul(post)
    if response.status_code in (200, 400):
        assert project_state(project) == before
