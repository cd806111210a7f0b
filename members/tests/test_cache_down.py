"""The directory works while the cache (Redis) is down: found by bench/faults.py (Redis stopped 60 s)."""

import pytest
from django.test import Client

from members.selectors import membership_mix
from members.tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_the_directory_is_served_while_the_cache_is_unreachable(areas, cache_down):
    OrganisationFactory(name="Théra Biotech SAS", category="startup")

    response = Client().get("/members/")

    assert response.status_code == 200
    assert "Théra Biotech SAS" in response.content.decode()
    assert membership_mix()["total"] == 1


def test_a_filtered_directory_page_is_counted_by_the_database_while_the_cache_is_unreachable(
    areas, cache_down, django_assert_max_num_queries
):
    for _ in range(3):
        OrganisationFactory(category="sme", postcode="92100").das_interests.set([areas["imaging"]])
    OrganisationFactory(category="sme", postcode="75013").das_interests.set([areas["imaging"]])

    # The facts (3 queries), the COUNT and the page: not the directory's grouped counts, each time.
    with django_assert_max_num_queries(5):
        page = Client().get("/members/", {"das": "imaging", "departement": "92", "category": "sme"})

    assert "3 organisations trouvées" in page.content.decode()
