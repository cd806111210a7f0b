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
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }

    assert generation("thing") == 0
    assert cached("thing:0", lambda: "computed", seconds=60) == "computed"
    changed("thing")  # outside a transaction: runs now, logs, does not raise
