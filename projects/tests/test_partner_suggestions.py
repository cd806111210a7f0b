"""Partner suggestions read the DAS interests members declare, and their category."""

from __future__ import annotations

import pytest

from das.tests.factories import StrategicAreaFactory
from members.models import Organisation
from members.tests.factories import OrganisationFactory
from projects.models import Partner
from projects.selectors import partner_suggestions
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db
C = Organisation.Category


@pytest.fixture
def area():
    return StrategicAreaFactory(code="imaging")


@pytest.fixture
def proposal(area):
    """Two companies, no research or clinical partner yet."""
    project = ProjectFactory(primary_area=area, lead_organisation=OrganisationFactory(category=C.SME))
    Partner.objects.create(project=project, organisation=project.lead_organisation, role="lead", budget_share=60)
    Partner.objects.create(project=project, organisation=OrganisationFactory(category=C.LARGE), budget_share=40)
    return project


def _suggested(project) -> dict[str, list[str]]:
    return {s.gap: [o.name for o in s.organisations] for s in partner_suggestions(project)}


def test_a_lab_with_no_past_project_that_declared_the_area_is_suggested(proposal, area):
    lab = OrganisationFactory(name="Laboratoire Nouveau", category=C.RESEARCH)
    lab.das_interests.add(area)

    suggested = _suggested(proposal)

    assert [names for names in suggested.values()] == [["Laboratoire Nouveau"]]


def test_suggestions_follow_the_area_the_category_and_the_directory(proposal, area):
    elsewhere = OrganisationFactory(name="Labo Ailleurs", category=C.RESEARCH)
    elsewhere.das_interests.add(StrategicAreaFactory(code="digital-health"))
    company = OrganisationFactory(name="Société Intéressée", category=C.STARTUP)
    company.das_interests.add(area)
    unlisted = OrganisationFactory(name="Labo Discret", category=C.RESEARCH, directory_opt_in=False)
    unlisted.das_interests.add(area)
    lapsed = OrganisationFactory(name="Labo Parti", category=C.HOSPITAL, status="lapsed")
    lapsed.das_interests.add(area)
    hospital = OrganisationFactory(name="Hôpital Intéressé", category=C.HOSPITAL)
    hospital.das_interests.add(area)

    names = [name for names in _suggested(proposal).values() for name in names]

    assert names == ["Hôpital Intéressé"]


def test_members_that_declared_the_area_come_before_those_only_seen_in_past_projects(proposal, area):
    past = OrganisationFactory(name="AAA Labo d'un ancien projet", category=C.RESEARCH)
    Partner.objects.create(project=ProjectFactory(primary_area=area), organisation=past, budget_share=50)
    declared = OrganisationFactory(name="ZZZ Labo déclaré", category=C.RESEARCH)
    declared.das_interests.add(area)

    assert list(_suggested(proposal).values()) == [["ZZZ Labo déclaré", "AAA Labo d'un ancien projet"]]
