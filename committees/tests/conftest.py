"""Fixtures of labelling committees: an area, its board, proposals under review, eager Celery."""

from __future__ import annotations

import datetime

import pytest

from committees.tests.factories import under_review
from das.tests.factories import MandateFactory
from members.tests.factories import PersonFactory, UserFactory


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
def five(area, board):
    return [under_review(area, number, board[0]) for number in range(1, 6)]
