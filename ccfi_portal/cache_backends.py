"""Django's Redis cache backend, with one redis-py client per connection pool rather than one per call."""
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

# A counter without an expiry (whatever made it so) would never let its client in again: it is given one.
_COUNT_IN_WINDOW = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  left = ARGV[1] * 1000
end
return {count, left}
"""


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
        self._window_scripts = {}

    def count_in_window(self, key, seconds):
        """Add one to the counter under ``key`` and return ``(count, seconds left in its window)``: the first call
        starts the counter and its window of ``seconds``, which ends when the key expires. One command (a Lua
        script: INCR, PTTL, EXPIRE on the first), where ``add`` then ``incr`` cost three round trips and a redis-py
        pipeline more CPU than they do."""
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key, write=True)
        script = self._window_scripts.get(id(client))
        if script is None:
            script = self._window_scripts[id(client)] = client.register_script(_COUNT_IN_WINDOW)
        count, milliseconds_left = script(keys=[key], args=[seconds])
        return count, milliseconds_left / 1000


def count_in_window(cache, key, seconds):
    """``(count, seconds left)`` of a counter that lives ``seconds`` from its first call (see
    ``ReusedClientRedisCache.count_in_window``); on another backend (local memory, the embedded default) with
    ``add`` and ``incr``, which know no time left, so the whole window is given."""
    counter = getattr(cache, "count_in_window", None)  # ``django.core.cache.cache`` is a proxy: asked, not typed
    if counter is not None:
        return counter(key, seconds)
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key), seconds
    except ValueError:  # expired between the two calls: a new window
        cache.add(key, 1, timeout=seconds)
        return 1, seconds
