"""Fixtures of the meetings tests: an area, staff, a KOL, an outsider, a clock (makers: tests/factories.py)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from das.tests.factories import MandateFactory, StrategicAreaFactory
from members.tests.factories import PersonFactory, UserFactory


@pytest.fixture
def area():
    return StrategicAreaFactory(code="imaging", name_fr="Imagerie", name_en="Imaging")


@pytest.fixture
def staff_user():
    user = UserFactory(is_staff=True)
    PersonFactory(user=user, email=user.email)
    return user


@pytest.fixture
def kol_user(area):
    user = UserFactory()
    person = PersonFactory(user=user, email=user.email)
    MandateFactory(person=person, area=area, role="president")
    return user


@pytest.fixture
def contact_user():
    """A member contact with no governance seat: an outsider for meetings."""
    user = UserFactory()
    PersonFactory(user=user, email=user.email)
    return user


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)
