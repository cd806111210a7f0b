"""Fixtures of the projects app: the scene of the root conftest's users (the proposing startup,
a consortium partner), eager Celery, media in tmp."""

from __future__ import annotations

import pytest

from members.models import Organisation
from members.tests.factories import OrganisationFactory
from projects.tests.factories import ProjectFactory, contact, eligible_consortium


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _celery_eager(request):
    """Tasks enqueued on commit run in-process, except in tests that start a real worker."""
    from medicen_portal.celery import app

    eager = request.node.get_closest_marker("worker") is None
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = eager, eager
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


# The users are the root conftest's (owner, outsider, staff...): here, the scene they act in.
@pytest.fixture
def organisation(db):
    """The owner's organisation: the proposing startup."""
    return OrganisationFactory(name="Oncox Devices SAS", category=Organisation.Category.STARTUP)


@pytest.fixture
def other_organisation(db):
    """The outsider's organisation: outside the consortium."""
    return OrganisationFactory(name="Unrelated Biotech")


@pytest.fixture
def project(owner):
    """A complete, eligible draft proposed by `owner`'s organisation."""
    project = ProjectFactory(lead_organisation=owner.person.organisation, proposer=owner)
    eligible_consortium(project)
    return project


@pytest.fixture
def partner(project):
    """A contact of another consortium partner: sees the proposal, may not edit it."""
    partner = project.partners.exclude(organisation=project.lead_organisation).first()
    return contact(partner.organisation)
