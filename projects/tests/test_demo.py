import io

import pytest
from django.core.management import call_command

from projects.models import FundingDecision, Partner, Product, Project, ProjectEvent, Review
from projects.selectors import impact_figures

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_proposals_in_every_state_with_funding_and_products(settings):
    settings.DEMO_PASSWORD = "demo-password-123"
    call_command("seed_demo", members=80, projects=60, seed=7, stdout=io.StringIO())

    assert set(Project.objects.values_list("status", flat=True)) == set(Project.Status.values)
    assert Partner.objects.exists() and Review.objects.exists() and Product.objects.exists()
    assert FundingDecision.objects.filter(amount_granted__gt=0).exists()
    # Every proposal's timeline ends at its status.
    for project in Project.objects.all():
        assert project.events.order_by("at", "pk").last().to_status == project.status
    assert ProjectEvent.objects.count() >= Project.objects.count()
    assert impact_figures().overall.projects_funded == Project.objects.funded().count()


def test_the_demo_proposals_that_french_users_see_are_in_french(settings):
    settings.DEMO_PASSWORD = "demo-password-123"
    call_command("seed_demo", members=40, projects=30, seed=3, stdout=io.StringIO())

    texts = " ".join(
        [
            *(f"{p.title} {p.summary} {p.objectives}" for p in Project.objects.all()),
            *(r.comments for r in Review.objects.all()),
            *(e.comment for e in ProjectEvent.objects.all()),
            *(p.description for p in Product.objects.all()),
        ]
    )
    assert "Apprentissage fédéré sur les données hospitalières" in texts and "projet de R&D" in texts
    assert "Atteindre le TRL visé" in texts
    for english in ("Federated learning", "R&D project", "Reach the target TRL", "Demo data", "Strong clinical need",
                    "Product from", " the ", " of "):  # fmt: skip
        assert english not in texts, english


def test_no_demo_proposal_asks_more_aid_than_its_consortium_may_get(settings):
    from projects.eligibility import aid_rate_problems
    from projects.models import Project

    settings.DEMO_PASSWORD = "demo-password-123"
    call_command("seed_demo", members=80, projects=60, seed=7, stdout=io.StringIO())

    problems = {
        project.acronym: aid_rate_problems(project, list(project.partners.select_related("organisation")))
        for project in Project.objects.exclude(status=Project.Status.DRAFT)
    }
    assert {acronym: found for acronym, found in problems.items() if found} == {}


def test_the_demo_staff_login_is_nobody_s_contact_even_when_a_member_has_a_camille_martin(settings):
    from members.models import Person, User
    from members.tests.factories import OrganisationFactory, PersonFactory

    settings.DEMO_PASSWORD = "demo-password-123"
    namesake = PersonFactory(first_name="Camille", last_name="Martin", organisation=OrganisationFactory(category="sme"))
    call_command("seed_demo", members=20, projects=10, seed=3, stdout=io.StringIO())

    staff = User.objects.get(email="staff@medicen.example")
    assert staff.person.organisation is None and staff.person.affiliation == "Medicen"
    assert Person.objects.get(pk=namesake.pk).user is None
