"""Django's Redis cache backend, with one redis-py client per connection pool rather than one per call."""
from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django builds a new ``redis.Redis`` for every cache call; redis-py's constructor sets up its response
    callbacks and event dispatcher each time, which cost more CPU than the call itself (a third of a cached API
    read: bench/api_bench.py, docs/benchmarks.md). A client is safe to share over its pool (the pool hands each
    command a connection and starts afresh after a fork), so one per pool serves every call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ReusedClientRedisCache(RedisCache):
    """``CACHE_URL=redis://...`` (ccfi_portal.settings): Django's RedisCache with ReusedClientRedisCacheClient."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
