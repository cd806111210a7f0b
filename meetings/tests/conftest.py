"""Fixtures of the meetings tests: a clock (the users and the area are the root conftest's; makers: factories.py)."""

from __future__ import annotations

import pytest
from django.utils import timezone


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)
