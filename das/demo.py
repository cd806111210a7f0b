"""Deterministic demo data of the das app beyond the governance (used by seed_demo)."""

from __future__ import annotations

import random

from faker import Faker


def seed_das_demo(*, rng: random.Random, fake: Faker) -> None:
    """Create demo committee meetings and topics (filled in by the meetings work)."""
