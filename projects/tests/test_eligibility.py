"""Eligibility of collaborative schemes: each broken rule yields a message saying what is missing."""

from decimal import Decimal

import pytest
from django.utils import translation

from members.models import Organisation
from members.tests.factories import OrganisationFactory
from projects.eligibility import consortium_problems, submission_problems
from projects.models import Partner, Project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def org(category, name):
    return OrganisationFactory(category=category, name=name)


def partner(organisation=None, role="partner", share=None, name="", category=""):
    return Partner(organisation=organisation, role=role, budget_share=Decimal(share) if share is not None else None,
                   name=name, category=category)  # fmt: skip


def collaborative():
    return Project(kind=Project.Kind.COLLABORATIVE)


def test_an_eligible_consortium_has_no_problem():
    partners = [
        partner(org("startup", "Lead SAS"), "lead", 40),
        partner(org("large", "Big Pharma"), "partner", 35),
        partner(org("hospital", "Hôpital Necker"), "partner", 25),
    ]

    assert consortium_problems(collaborative(), partners) == []


def test_one_company_is_not_enough_and_the_message_says_how_many_are_missing():
    partners = [partner(org("startup", "Lead SAS"), "lead", 60), partner(org("research", "Inserm U1"), "partner", 40)]

    problems = consortium_problems(collaborative(), partners)

    assert any("at least 2 independent companies" in p and "has 1 (Lead SAS)" in p and "add 1 more" in p
               for p in problems), problems  # fmt: skip


def test_the_same_company_twice_counts_once():
    lead = org("startup", "Lead SAS")
    partners = [partner(lead, "lead", 50), partner(lead, "partner", 30), partner(org("hospital", "CHU"), "partner", 20)]

    assert any("independent companies" in p for p in consortium_problems(collaborative(), partners))


def test_a_research_or_clinical_organisation_is_required():
    partners = [partner(org("startup", "Lead SAS"), "lead", 50), partner(org("sme", "Other SAS"), "partner", 50)]

    problems = consortium_problems(collaborative(), partners)

    assert any("public research or clinical organisation" in p and "has none" in p for p in problems), problems


def test_a_non_member_laboratory_counts_as_research():
    partners = [
        partner(org("startup", "Lead SAS"), "lead", 40),
        partner(org("sme", "Other SAS"), "partner", 35),
        partner(name="Laboratoire X", category=Organisation.Category.RESEARCH, share=25),
    ]

    assert consortium_problems(collaborative(), partners) == []


def test_the_lead_must_be_a_company_and_the_message_names_it():
    partners = [
        partner(org("hospital", "Hôpital Cochin"), "lead", 40),
        partner(org("startup", "A SAS"), "partner", 30),
        partner(org("sme", "B SAS"), "partner", 30),
    ]

    problems = consortium_problems(collaborative(), partners)

    assert any("must be a company" in p and "Hôpital Cochin is a hospital or clinical centre" in p for p in problems)


def test_no_partner_above_seventy_percent():
    partners = [
        partner(org("startup", "Lead SAS"), "lead", 75),
        partner(org("sme", "B SAS"), "partner", 15),
        partner(org("hospital", "CHU"), "partner", 10),
    ]

    problems = consortium_problems(collaborative(), partners)

    assert problems == ["No partner may hold more than 70 % of the budget; Lead SAS holds 75 %."]


def test_seventy_percent_exactly_is_allowed():
    partners = [
        partner(org("startup", "Lead SAS"), "lead", 70),
        partner(org("sme", "B SAS"), "partner", 15),
        partner(org("hospital", "CHU"), "partner", 15),
    ]

    assert consortium_problems(collaborative(), partners) == []


@pytest.mark.parametrize(
    ("shares", "expected"),
    [((40, 35, 20), "add up to 95 % instead of 100 %: 5 % is not allocated"),
     ((40, 35, 30), "add up to 105 % instead of 100 %: remove 5 %")],
)  # fmt: skip
def test_shares_must_add_up_to_one_hundred_percent(shares, expected):
    partners = [
        partner(org("startup", "Lead SAS"), "lead", shares[0]),
        partner(org("sme", "B SAS"), "partner", shares[1]),
        partner(org("hospital", "CHU"), "partner", shares[2]),
    ]

    problems = consortium_problems(collaborative(), partners)

    assert any(expected in p for p in problems), problems


def test_a_missing_share_is_named():
    partners = [partner(org("startup", "Lead SAS"), "lead", 100), partner(org("hospital", "CHU"), "partner", None)]

    assert any("Give the budget share of: CHU" in p for p in consortium_problems(collaborative(), partners))


def test_exactly_one_lead():
    none = [partner(org("startup", "A SAS"), "partner", 100)]
    two = [partner(org("startup", "A SAS"), "lead", 50), partner(org("sme", "B SAS"), "lead", 50)]

    assert any("No partner leads" in p for p in consortium_problems(Project(kind="individual"), none))
    assert any("A SAS, B SAS are all marked" in p for p in consortium_problems(collaborative(), two))


def test_an_individual_project_is_not_held_to_the_collaborative_rules():
    partners = [partner(org("startup", "Solo SAS"), "lead", 100)]

    assert consortium_problems(Project(kind=Project.Kind.INDIVIDUAL), partners) == []


def test_submission_lists_the_empty_fields(owner):
    project = Project.objects.create(title="Draft", lead_organisation=owner.person.organisation)

    problems = submission_problems(project)

    assert problems[0].startswith("Fill in before submitting: acronym, summary, objectives, primary strategic area")
    assert "The consortium is empty" in problems[1]


def test_eligibility_is_shown_on_the_draft_before_submitting(client, owner, project):
    project.partners.exclude(role="lead").delete()
    project.partners.update(budget_share=100)
    client.force_login(owner)

    text = client.get(f"/projects/{project.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Before this proposal can be submitted" in text or "Avant de pouvoir" in text
    assert 'id="eligibility"' in text
