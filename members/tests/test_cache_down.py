"""The directory works while the cache (Redis) is down: found by bench/faults.py (Redis stopped 60 s)."""

import socket

import pytest
from django.test import Client

from members.selectors import membership_mix
from members.tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_down(settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {"BACKEND": "common.redis_cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}
    }


def test_the_directory_is_served_while_the_cache_is_unreachable(areas, cache_down):
    OrganisationFactory(name="Théra Biotech SAS", category="startup")

    response = Client().get("/members/")

    assert response.status_code == 200
    assert "Théra Biotech SAS" in response.content.decode()
    assert membership_mix()["total"] == 1
