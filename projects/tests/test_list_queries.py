"""List pages run the same number of queries whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.tests.factories import UserFactory
from projects.tests.factories import ProjectFactory, eligible_consortium

pytestmark = pytest.mark.django_db


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _add(organisation, n):
    for _ in range(n):
        eligible_consortium(ProjectFactory(lead_organisation=organisation))


@pytest.mark.parametrize("url", ["/projects/", "/projects/?status=draft", "/impact/"])
def test_member_list_query_count_does_not_grow_with_rows(client, owner, url, django_assert_max_num_queries, settings):
    settings.PROJECTS_IMPACT_CACHE_SECONDS = 0  # count the dashboard computed, not served from its cache
    organisation = owner.person.organisation
    _add(organisation, 2)
    client.force_login(owner)
    small = _count(client, url)
    _add(organisation, 12)

    with django_assert_max_num_queries(small):
        client.get(url)
    assert _count(client, url) == small


@pytest.mark.parametrize("url", ["/projects/", "/impact/", "/projects/reviews/"])
def test_staff_list_query_count_does_not_grow_with_rows(client, owner, url, django_assert_max_num_queries):
    client.force_login(UserFactory(is_staff=True))
    _add(owner.person.organisation, 2)
    small = _count(client, url)
    _add(owner.person.organisation, 12)

    with django_assert_max_num_queries(small):
        client.get(url)
