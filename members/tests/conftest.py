"""Fixtures of the members tests (the users and the five DAS are the root conftest's)."""

from __future__ import annotations

import pytest

from members.models import FeeRate


@pytest.fixture
def fee_grid(db) -> None:
    """The default grid (a data migration loads it; transactional tests flush it, so make sure)."""
    if not FeeRate.objects.exists():
        FeeRate.objects.create(category="startup", headcount_min=0, headcount_max=9, amount="600")
        FeeRate.objects.create(category="startup", headcount_min=10, amount="900")
        FeeRate.objects.create(category="sme", headcount_min=0, headcount_max=49, amount="1500")
        FeeRate.objects.create(category="sme", headcount_min=50, amount="2500")
        FeeRate.objects.create(category="hospital", headcount_min=0, amount="3000")
