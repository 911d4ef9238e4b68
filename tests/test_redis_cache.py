"""The Redis cache backend production uses (CACHE_URL=redis://..., ccfi_portal.cache_backends): Django's, with
one redis-py client per connection pool. Against the real Redis server."""
import os
import subprocess
import sys
import uuid

from django.conf import settings

from ccfi_portal.cache_backends import ReusedClientRedisCache

REDIS_URL = "redis://127.0.0.1:6379/12"  # this test's own database


def test_a_redis_cache_url_selects_the_backend_that_reuses_its_client():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ccfi_portal.settings", "CACHE_URL": REDIS_URL}
    finished = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.core.cache import caches; "
                               "cache = caches['default']; print(type(cache).__name__, type(cache._cache).__name__)"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60)

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.split() == ["ReusedClientRedisCache", "ReusedClientRedisCacheClient"]


def test_every_call_uses_one_client_and_the_cache_works():
    cache = ReusedClientRedisCache(REDIS_URL, {"KEY_PREFIX": f"ccfi-test-{uuid.uuid4().hex}"})
    first = cache._cache.get_client()
    try:
        cache.set("generation", 41)
        assert cache.incr("generation") == 42
        assert cache.get_many(["generation", "missing"]) == {"generation": 42}
        cache.set("published", {"rows": [1, 2, 3]}, timeout=60)
        assert cache.get("published") == {"rows": [1, 2, 3]}
        assert cache._cache.get_client() is first
        assert cache._cache.get_client(write=True) is first  # one server: reads and writes share its pool
    finally:
        cache.delete_many(["generation", "published"])
        cache.close()
    assert cache.get("generation") is None
