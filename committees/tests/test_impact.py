"""The impact dashboard's table of committee sessions (committees.selectors.impact_sessions, wired
into projects' dashboard by settings.IMPACT_OUTCOME_TABLES): figures, invalidation, queries."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from calls.tests.factories import CallFactory
from committees import services
from committees.tests.factories import under_review
from projects.models import Project
from projects.selectors import impact_figures

pytestmark = pytest.mark.django_db
S = Project.Status


def _sessions(impact):
    return next(table for table in impact.outcomes if table.key == "committee_session")


@pytest.fixture
def decided(area, board, staff, five, django_capture_on_commit_callbacks):
    """A session of five: three labelled (one funded since), one not labelled, one still to decide."""
    held_at = timezone.make_aware(datetime.datetime(2027, 3, 9, 14, 0))
    session = services.session_create(area=area, held_at=held_at, by=staff)
    items = services.agenda_add(session=session, projects=five, by=staff)
    decisions = {item.pk: ("labelled", "") for item in items[:3]} | {items[3].pk: ("not_labelled", "Hors du champ.")}
    with django_capture_on_commit_callbacks(execute=True):
        services.session_decide(session=session, decisions=decisions, by=staff)
    Project.objects.filter(pk=five[0].pk).update(status=S.FUNDED)  # the funder's answer, later
    return session


def test_a_session_shows_its_proposals_labelled_funded_and_those_awaiting_a_decision(decided, settings):
    settings.PROJECTS_IMPACT_CACHE_SECONDS = 0
    with translation.override("fr"):
        [row] = _sessions(impact_figures()).rows

    assert row.label == f"{decided.area.name} — 09/03/2027"
    assert (row.proposals, row.labelled, row.not_labelled, row.funded, row.awaiting) == (5, 3, 1, 1, 1)
    assert (row.labelled_rate, row.funded_rate) == (75, 33)  # labelled ÷ decided on, funded ÷ labelled
    assert row.staff_url == f"/committees/{decided.pk}/" and not row.url


def test_the_public_sees_the_figures_and_staff_also_the_link_to_the_session(client, decided, staff):
    public = client.get("/impact/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="outcomes-committee_session"' in public and "By labelling committee session" in public
    assert "1 proposal awaiting a decision" in public and "75%" in public
    assert f"/committees/{decided.pk}/" not in public  # the session's page is for staff and its members

    client.force_login(staff)
    assert f'href="/committees/{decided.pk}/"' in client.get("/impact/").content.decode()


def test_the_agenda_and_the_decisions_show_at_once_on_the_cached_dashboard(
    area, board, staff, five, django_capture_on_commit_callbacks
):
    assert not [table for table in impact_figures().outcomes if table.key == "committee_session"]
    session = services.session_create(area=area, held_at=timezone.now(), by=staff)
    with django_capture_on_commit_callbacks(execute=True):
        [item] = services.agenda_add(session=session, projects=five[:1], by=staff)
    assert _sessions(impact_figures()).rows[0].proposals == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.session_decide(session=session, decisions={item.pk: ("labelled", "")}, by=staff)
    assert _sessions(impact_figures()).rows[0].labelled == 1


def test_the_csv_export_holds_a_row_per_session(client, decided):
    rows = [line.split(";") for line in client.get("/impact/export.csv").content.decode("utf-8-sig").splitlines()]

    [session_row] = [row for row in rows if row[0] == "committee_session"]
    assert session_row[2:] == ["5", "3", "1", "1", "0.75", "0.33"]


def _grow(area, board, staff, start: int, sessions: int):
    """`sessions` sessions of two proposals (one labelled), each answering its own call."""
    for number in range(start, start + sessions):
        call = CallFactory()
        projects = [under_review(area, 100 * number + k, board[0]) for k in (1, 2)]
        Project.objects.filter(pk__in=[p.pk for p in projects]).update(call=call)
        session = services.session_create(area=area, held_at=timezone.now(), by=staff)
        items = services.agenda_add(session=session, projects=projects, by=staff)
        services.session_decide(session=session, decisions={items[0].pk: ("labelled", "")}, by=staff)


@pytest.mark.parametrize("as_staff", [False, True])
def test_the_dashboard_runs_as_many_queries_with_ten_sessions_and_calls_as_with_one(
    client, area, board, staff, settings, as_staff, django_assert_max_num_queries
):
    settings.PROJECTS_IMPACT_CACHE_SECONDS = 0  # count the figures computed, not read from the cache
    if as_staff:
        client.force_login(staff)
    _grow(area, board, staff, 1, 1)
    with CaptureQueriesContext(connection) as small:
        text = client.get("/impact/").content.decode()
    assert text.count('data-figure="proposals"') == 2  # one call, one session

    _grow(area, board, staff, 2, 9)
    with django_assert_max_num_queries(len(small)):
        text = client.get("/impact/").content.decode()
    assert text.count('data-figure="proposals"') == 20
