"""Builders of the committees tests."""

from __future__ import annotations

from django.utils import timezone

from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory
from projects.models import Project, Review
from projects.tests.factories import ProjectFactory, eligible_consortium


def under_review(area, number: int, reviewer) -> Project:
    """A complete proposal of its own startup, under review in `area`, with one submitted review."""
    proposer = UserFactory(email=f"lead{number}@startup{number}.example")
    organisation = OrganisationFactory(name=f"Startup {number} SAS", city="Paris")
    PersonFactory(user=proposer, organisation=organisation, email=proposer.email, is_primary_contact=True)
    project = ProjectFactory(
        lead_organisation=organisation, proposer=proposer, primary_area=area, acronym=f"PRJ{number}",
        status=Project.Status.UNDER_REVIEW, submitted_at=timezone.now(),
    )  # fmt: skip
    eligible_consortium(project)
    Review.objects.create(
        project=project, reviewer=reviewer, state=Review.State.SUBMITTED, recommendation="label",
        comments="Solide et utile aux patients.", submitted_at=timezone.now(), **dict.fromkeys(Review.CRITERIA, 4),
    )  # fmt: skip
    return project
