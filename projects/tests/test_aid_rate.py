"""Aid-rate ceilings by funder and partner category: a table staff edit, checked at submission."""

from decimal import Decimal

import pytest
from django.utils import translation

from members.models import Organisation
from members.tests.factories import OrganisationFactory
from projects import services
from projects.eligibility import aid_rate_problems, submission_problems
from projects.models import AidRateCeiling, Funder, Partner, Project
from projects.tests.factories import ProjectFactory
from projects.workflow import TransitionRefused

pytestmark = pytest.mark.django_db
C = Organisation.Category


def _proposal(owner, *, funder=Funder.BPIFRANCE, budget="1000000", aid, shares) -> Project:
    """A collaborative proposal led by `owner`'s startup; `shares`: [(category, share)] of the other partners."""
    project = ProjectFactory(
        lead_organisation=owner.person.organisation,
        proposer=owner,
        target_funder=funder,
        target_scope="",
        total_budget=Decimal(budget),
        requested_aid=Decimal(aid),
    )
    project.full_clean()
    project.save()
    lead_share = 100 - sum(share for _, share in shares)
    Partner.objects.create(
        project=project, organisation=project.lead_organisation, role="lead", budget_share=lead_share
    )
    for category, share in shares:
        Partner.objects.create(project=project, organisation=OrganisationFactory(category=category), budget_share=share)
    return project


def test_the_usual_ceilings_are_loaded_and_editable_by_funder_and_category():
    assert AidRateCeiling.objects.get(funder=Funder.BPIFRANCE, category=C.SME).max_rate == Decimal(45)
    assert AidRateCeiling.objects.get(funder=Funder.BPIFRANCE, category=C.LARGE).max_rate == Decimal(25)
    assert AidRateCeiling.objects.get(funder=Funder.HORIZON_EUROPE, category=C.LARGE).max_rate == Decimal(70)
    assert AidRateCeiling.objects.get(funder=Funder.ANR, category=C.RESEARCH).max_rate == Decimal(100)


def test_aid_within_the_ceilings_of_the_consortium_may_be_submitted(owner):
    # startup 40 % at 45 %, large company 35 % at 25 %, hospital 25 % at 100 %: at most 51.75 % of 1 M€.
    project = _proposal(owner, aid="517500", shares=[(C.LARGE, 35), (C.HOSPITAL, 25)])

    assert aid_rate_problems(project, list(project.partners.select_related("organisation"))) == []
    assert submission_problems(project) == []


def test_aid_above_the_ceilings_is_refused_at_submission_with_what_is_allowed(owner):
    project = _proposal(owner, aid="600000", shares=[(C.LARGE, 35), (C.HOSPITAL, 25)])

    with translation.override("fr"):
        problems = submission_problems(project)
        with pytest.raises(TransitionRefused):
            services.project_transition(project=project, to=Project.Status.SUBMITTED, by=owner)

    assert problems == [
        "L\u2019aide demandée (600\u202f000 €) dépasse ce que Bpifrance accorde à ce consortium\u202f: "
        "au plus 517\u202f500 € "
        "(51,8 % du budget, selon la part de chaque partenaire et le plafond de sa catégorie\u202f: "
        "hôpital ou centre clinique 100 %, grand groupe 25 %, start-up 45 %)."
    ]
    project.refresh_from_db()
    assert project.status == Project.Status.DRAFT


def test_staff_changing_a_ceiling_changes_the_check(owner):
    project = _proposal(owner, aid="600000", shares=[(C.LARGE, 35), (C.HOSPITAL, 25)])
    AidRateCeiling.objects.filter(funder=Funder.BPIFRANCE, category=C.LARGE).update(max_rate=50)

    assert aid_rate_problems(project, list(project.partners.select_related("organisation"))) == []


def test_a_funder_without_ceilings_sets_no_limit(owner):
    project = _proposal(owner, funder=Funder.OTHER, aid="900000", shares=[(C.LARGE, 35), (C.HOSPITAL, 25)])

    assert aid_rate_problems(project, list(project.partners.select_related("organisation"))) == []
