"""Generational cache: a value is dropped when its writer commits, never before, and survives a cache outage."""

import pytest
from django.core.cache import cache
from django.db import transaction

from common.cache import cached, changed, generation

pytestmark = pytest.mark.django_db


def test_a_value_is_computed_once_then_served_from_the_cache():
    calls = []
    key = f"thing:{generation('thing')}"

    assert cached(key, lambda: calls.append(1) or "value", seconds=60) == "value"
    assert cached(key, lambda: calls.append(1) or "other", seconds=60) == "value"
    assert calls == [1]


def test_the_generation_moves_when_the_change_commits_not_before(django_capture_on_commit_callbacks):
    before = generation("thing")

    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        changed("thing")
        assert generation("thing") == before  # a reader now would still cache the old rows
    assert generation("thing") == before
    for callback in callbacks:
        callback()

    assert generation("thing") != before


def test_an_evicted_generation_restarts_at_a_value_never_used():
    first = generation("thing")
    cache.delete("thing:generation")

    assert generation("thing") > first


def test_the_cache_being_down_means_computing_without_it(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "common.redis_cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }

    assert generation("thing") == 0
    assert cached("thing:0", lambda: "computed", seconds=60) == "computed"
    changed("thing")  # outside a transaction: runs now, logs, does not raise


def test_the_redis_cache_keeps_one_client_and_works_like_djangos(settings):
    if not settings.REDIS_URL:
        pytest.skip("no REDIS_URL")
    from common.redis_cache import RedisCache

    backend = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "test-reused-client"})
    client = backend._cache.get_client()

    backend.set("a", {"value": 1}, 60)
    backend.set("n", 1, 60)
    assert backend.get("a") == {"value": 1}
    assert backend.get_many(["a", "missing"]) == {"a": {"value": 1}}
    assert backend.incr("n") == 2
    assert backend.add("a", "other", 60) is False
    backend.delete_many(["a", "n"])
    assert backend.get("a") is None
    assert backend._cache.get_client(write=True) is client  # one server: one client, built once
