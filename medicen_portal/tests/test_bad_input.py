"""NUL bytes are refused at the edge: PostgreSQL cannot take them, and they used to answer 500."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from members.tests.factories import OrganisationFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client):
    user = UserFactory()
    PersonFactory(organisation=OrganisationFactory(), user=user, email=user.email)
    client.force_login(user)
    return user


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_a_nul_in_a_members_search_is_refused_with_400_not_a_server_error(client, member):
    response = client.get("/projects/?q=%00")

    assert response.status_code == 400
    assert "data-portal-error" in response.content.decode()


def test_a_nul_in_a_calendar_feed_path_is_refused_for_anyone(client):
    assert client.get("/meetings/calendar/%00.ics").status_code == 400


@pytest.mark.parametrize(
    "url", ["/admin/projects/project/?status=%00", "/admin/meetings/meeting/?status=%00", "/admin/?%00=x"]
)
def test_a_nul_in_an_admin_list_filter_is_refused(staff_client, url):
    assert staff_client.get(url).status_code == 400


def test_a_nul_in_a_posted_field_is_refused_before_the_view_runs(client, member):
    response = client.post("/projects/new/", {"acronym": "NUL\x00", "title": "x"})

    assert response.status_code == 400


def test_a_nul_in_a_cookie_never_reaches_the_session_table(client):
    client.cookies[django_settings.SESSION_COOKIE_NAME] = "abc\x00def"

    assert client.get("/").status_code == 400


def test_without_a_nul_the_same_pages_answer(client, member):
    assert client.get("/projects/?q=cardio").status_code == 200
