"""The Redis cache backend production uses (CACHE_URL=redis://..., ccfi_portal.cache_backends): Django's, with
one redis-py client per connection pool. Against the real Redis server."""
import os
import subprocess
import sys
import time
import uuid
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from ccfi_portal.cache_backends import ReusedClientRedisCache, count_in_window

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


def test_a_window_counter_counts_from_its_first_call_and_ends_with_its_window():
    """The API's limits (ccfi_portal.throttling) count a client's requests so, in one round trip a request."""
    cache = ReusedClientRedisCache(REDIS_URL, {"KEY_PREFIX": f"ccfi-test-{uuid.uuid4().hex}"})
    try:
        counted = [count_in_window(cache, "client", 60) for _ in range(3)]
        assert [count for count, _ in counted] == [1, 2, 3]
        assert all(59 < seconds_left <= 60 for _, seconds_left in counted)
        assert 0 < cache._cache.get_client().ttl(cache.make_and_validate_key("client")) <= 60
        assert count_in_window(cache, "other-client", 60)[0] == 1
        assert count_in_window(cache, "short", 1)[0] == 1
        assert count_in_window(cache, "short", 1)[0] == 2
        time.sleep(1.1)
        assert count_in_window(cache, "short", 1)[0] == 1
    finally:
        cache.delete_many(["client", "other-client", "short"])
        cache.close()


@pytest.mark.django_db
def test_the_api_limits_count_in_redis_in_production(client, settings, monkeypatch):
    """With CACHE_URL=redis://... the limits go through ``django.core.cache.cache`` to the window counter; a refused
    request's Retry-After is what is left of the client's window."""
    settings.CACHES = {"default": {"BACKEND": "ccfi_portal.cache_backends.ReusedClientRedisCache",
                                   "LOCATION": REDIS_URL, "KEY_PREFIX": f"ccfi-test-{uuid.uuid4().hex}"}}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "5/min"})
    try:
        cache.set("throttle_anon_127.0.0.1", [time.time()] * 5, timeout=60)  # DRF's list, left by a version before
        responses = [client.get("/api/v1/cities/") for _ in range(2)]
        time.sleep(1.1)
        responses.append(client.get("/api/v1/cities/"))
        assert [response.status_code for response in responses] == [HTTPStatus.OK] * 2 + [
            HTTPStatus.TOO_MANY_REQUESTS]
        assert 0 < int(responses[-1]["Retry-After"]) <= 59  # the window opened with the first request
        counters = cache._cache.get_client().keys(cache.make_and_validate_key("throttle:window:anon:*"))
        assert len(counters) == 1 and 0 < cache._cache.get_client().ttl(counters[0]) <= 60
    finally:
        cache.clear()


def test_a_window_counter_left_without_an_expiry_is_given_one():
    cache = ReusedClientRedisCache(REDIS_URL, {"KEY_PREFIX": f"ccfi-test-{uuid.uuid4().hex}"})
    try:
        cache.set("client", 7, timeout=None)
        assert count_in_window(cache, "client", 60) == (8, 60)
        assert 0 < cache._cache.get_client().ttl(cache.make_and_validate_key("client")) <= 60
    finally:
        cache.delete("client")
        cache.close()
