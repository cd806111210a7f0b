"""Cached reads that an edit drops at once: values kept under a *generation* that writes move on.

A page or figure computed from many rows is cached under `f"{name}:{generation(name)}:…"`.
Each write path that changes what it shows calls `changed(name)` — explicitly, not from a
signal (no I/O in signals) — and the generation moves once the transaction commits, so no
request can cache the old rows under the new generation. The time limit only bounds what a
write outside those paths leaves visible. While the cache (Redis) is down, everything is
computed without it: a page never fails because of its cache.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)
T = TypeVar("T")


def cached(key: str, compute: Callable[[], T], *, seconds: int) -> T:
    """`compute()`'s value, kept `seconds` in the cache (0: not cached)."""
    if seconds <= 0:
        return compute()
    try:
        value = cache.get(key)
    except Exception as error:  # the cache is down: serve without it rather than fail
        logger.warning("Cache unavailable, %s computed without it: %s", key, error)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, seconds)
        except Exception as error:  # went down in between: the next request caches it
            logger.warning("Cache unavailable, %s not cached: %s", key, error)
    return value


def generation(name: str) -> int:
    """The current generation of `name`'s cached values (0 while the cache is down)."""
    key = f"{name}:generation"
    try:
        value = cache.get(key)
        if value is None:  # first use, or evicted: start from a value no earlier generation had
            cache.add(key, time.time_ns(), None)
            value = cache.get(key)
    except Exception as error:
        logger.warning("Cache unavailable: %s", error)
        return 0
    return value or 0


def changed(name: str) -> None:
    """Drop every cached value of `name`, once the current transaction commits."""
    transaction.on_commit(lambda: _next_generation(name))


def _next_generation(name: str) -> None:
    key = f"{name}:generation"
    try:
        cache.incr(key)
    except ValueError:  # not set yet, or evicted
        cache.set(key, time.time_ns(), None)
    except Exception as error:  # the cache is down: its values expire on their own
        logger.warning("Cache unavailable, %s not invalidated: %s", name, error)
