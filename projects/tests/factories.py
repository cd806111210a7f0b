from __future__ import annotations

import datetime
from decimal import Decimal

import factory

from das.tests.factories import MandateFactory, StrategicAreaFactory
from members.models import Organisation
from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory
from projects.models import Funder, FundingDecision, FundingScope, Partner, Project


class ProjectFactory(factory.django.DjangoModelFactory):
    """A complete collaborative proposal; add an eligible consortium with `eligible_consortium`."""

    class Meta:
        model = Project
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Point-of-care sepsis test {n}")
    acronym = factory.Sequence(lambda n: f"SEPSIS{n}")
    lead_organisation = factory.SubFactory(OrganisationFactory)
    summary = "A rapid test at the bedside."
    objectives = "Validate the prototype in two hospitals."
    primary_area = factory.SubFactory(StrategicAreaFactory)
    kind = Project.Kind.COLLABORATIVE
    trl_start = 3
    trl_target = 6
    duration_months = 36
    total_budget = Decimal("2000000")
    requested_aid = Decimal("900000")
    target_funder = Funder.BPIFRANCE
    target_programme = "i-Nov"
    target_scope = FundingScope.NATIONAL

    @factory.post_generation
    def with_areas(self, create, extracted, **kwargs):
        if create and self.primary_area_id:
            self.areas.add(self.primary_area_id)


def eligible_consortium(project: Project) -> list[Partner]:
    """The lead company (the proposing organisation) 40 %, another company 35 %, a hospital 25 %."""
    company = OrganisationFactory(name="MedTech Partner SAS", category=Organisation.Category.SME)
    hospital = OrganisationFactory(name="Hôpital Saint-Louis (AP-HP)", category=Organisation.Category.HOSPITAL)
    rows = [
        Partner(project=project, organisation=project.lead_organisation, role="lead", budget_share=40, position=0),
        Partner(project=project, organisation=company, role="partner", budget_share=35, position=1),
        Partner(project=project, organisation=hospital, role="partner", budget_share=25, position=2),
    ]
    return Partner.objects.bulk_create(rows)


def contact(organisation: Organisation | None = None, **user_kwargs):
    """A login attached to a person of `organisation` (a new startup if None)."""
    user = UserFactory(**user_kwargs)
    PersonFactory(user=user, organisation=organisation or OrganisationFactory(), email=user.email)
    return user


def reviewer_for(area, organisation: Organisation | None = None):
    """A KOL: a login whose person holds a current mandate in `area`."""
    user = UserFactory()
    person = PersonFactory(user=user, organisation=organisation, email=user.email)
    MandateFactory(person=person, area=area)
    return user


def granted_decision(project: Project, *, granted="500000", aid=None, scope=FundingScope.NATIONAL, year=2024):
    funder = {"regional": Funder.REGION_IDF, "national": Funder.BPIFRANCE, "european": Funder.HORIZON_EUROPE}[scope]
    return FundingDecision.objects.create(
        project=project,
        funder=funder,
        scope=scope,
        amount_requested=Decimal(granted) * 2,
        amount_granted=Decimal(granted),
        public_aid=Decimal(aid if aid is not None else granted),
        decision_date=datetime.date(year, 6, 1),
    )
