"""Request helpers every app may use (a leaf: imports no app)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address as seen by the first trusted proxy (TRUSTED_PROXIES).

    With no trusted proxy, X-Forwarded-For is ignored: anyone can forge it. With N, each
    proxy appended the address it received from, so the N-th entry from the right is the
    last one a trusted machine wrote; entries further left are whatever the client sent.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if settings.TRUSTED_PROXIES == 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < settings.TRUSTED_PROXIES:
        return remote
    return forwarded[-settings.TRUSTED_PROXIES]


def over_limit(key: str, *, limit: int, seconds: int) -> bool:
    """Count one more hit on `key` (in the cache, a fixed window of `seconds`); True past `limit`."""
    cache.add(key, 0, seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, seconds)
        count = 1
    return count > limit
