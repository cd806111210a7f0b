"""Django's Redis cache, with one Redis client per server kept for the process instead of one per call.

Django's RedisCacheClient.get_client() builds a new `redis.Redis` for every cache operation;
each one fills a dict of some 170 response callbacks (case-insensitive: `str.upper()` on each
key). For the directory with its page cache off (five cache reads a page) that was about a
tenth of the page's CPU. A `redis.Redis` is safe to share between threads (every command
takes a connection from the pool), and the pools themselves are the same as Django's.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusedRedisCacheClient
