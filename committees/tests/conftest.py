"""Fixtures of labelling committees: an area, its board, proposals under review, eager Celery."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from das.tests.factories import MandateFactory, StrategicAreaFactory
from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory
from projects.models import Project, Review
from projects.tests.factories import ProjectFactory, eligible_consortium


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _celery_eager():
    from medicen_portal.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def area(db):
    return StrategicAreaFactory(code="imaging")


@pytest.fixture
def board(area):
    """The area's board: a president and a vice-president, each with a login."""
    people = []
    for email in ("president@board.example", "vice@board.example"):
        user = UserFactory(email=email)
        person = PersonFactory(user=user, organisation=None, email=email)
        MandateFactory(person=person, area=area, start_date=datetime.date(2019, 10, 10))
        people.append(person)
    return people


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, email="staff@medicen.example")


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


@pytest.fixture
def five(area, board):
    return [under_review(area, number, board[0]) for number in range(1, 6)]
