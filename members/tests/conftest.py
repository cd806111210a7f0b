"""Fixtures of the members tests."""

from __future__ import annotations

import pytest
from django.apps import apps

from members.models import FeeRate, Organisation
from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory

DAS = [
    ("biological-diagnostics", "Diagnostic biologique", "Biological diagnostics"),
    ("imaging", "Imagerie", "Imaging"),
    ("biotherapies-molecules", "Biothérapies et molécules", "Biotherapies and molecules"),
    ("digital-health", "Santé numérique", "Digital health"),
    ("techno-therapies", "Technothérapies", "Techno-therapies"),
]


@pytest.fixture
def areas(db) -> dict:
    """The five DAS (created through the app registry: members never imports das)."""
    StrategicArea = apps.get_model("das", "StrategicArea")
    return {
        code: StrategicArea.objects.get_or_create(
            code=code, defaults={"name_fr": fr, "name_en": en, "position": position}
        )[0]
        for position, (code, fr, en) in enumerate(DAS)
    }


@pytest.fixture
def fee_grid(db) -> None:
    """The default grid (a data migration loads it; transactional tests flush it, so make sure)."""
    if not FeeRate.objects.exists():
        FeeRate.objects.create(category="startup", headcount_min=0, headcount_max=9, amount="600")
        FeeRate.objects.create(category="startup", headcount_min=10, amount="900")
        FeeRate.objects.create(category="sme", headcount_min=0, headcount_max=49, amount="1500")
        FeeRate.objects.create(category="sme", headcount_min=50, amount="2500")
        FeeRate.objects.create(category="hospital", headcount_min=0, amount="3000")


def contact(organisation: Organisation, *, email: str, **roles):
    """A person of `organisation` with a login; returns the user."""
    user = UserFactory(email=email)
    PersonFactory(organisation=organisation, user=user, email=email, **roles)
    return user


@pytest.fixture
def three_users(db):
    """Owner: primary contact of A; colleague: scientific contact of A; outsider: primary contact of B."""
    org_a = OrganisationFactory(name="BioSense Diagnostics", slug="biosense", description="Tests rapides.")
    org_b = OrganisationFactory(name="NeuroWave SAS", slug="neurowave")
    return {
        "a": org_a,
        "b": org_b,
        "owner": contact(org_a, email="owner@biosense.example", is_primary_contact=True),
        "colleague": contact(org_a, email="colleague@biosense.example", is_scientific_contact=True),
        "outsider": contact(org_b, email="outsider@neurowave.example", is_primary_contact=True),
    }


@pytest.fixture
def staff_user(db):
    return UserFactory(email="staff@medicen.example", is_staff=True, is_superuser=True)
