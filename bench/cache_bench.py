"""Published-read cache benchmark: reader pages with an empty cache and with a warm one.

    python bench/cache_bench.py [--requests N]

It builds a throwaway SQLite database in a temporary folder (or uses BENCH_DATABASE_URL, which it
migrates and fills, so never point it at a database you care about), loads the demo (30 cities, two
years of illustrative returns, each year's index published), then requests each reader page N times
(default 100) through Django's test client as an anonymous reader, in one process and in Chinese:

- cold: the cache emptied before every request (every request computes its data, as without the cache);
- warm: the data from the cache (local memory by default; CACHE_URL=redis://127.0.0.1:6379/11 measures
  Redis, whose database 11 it empties).

It prints requests per second, milliseconds per request and SQL queries per request for each page. The
whole response is rendered either way (the cache holds data, not pages: ccfi_portal/cache.py).
"""
import argparse
import time

from bench_django import setup_django


def measure(client, url: str, requests: int, *, cold: bool) -> tuple[float, float]:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        if cold:
            cache.clear()
        assert client.get(url).status_code == 200, url  # warm-up (and fills the cache for "warm")
    queries = len(captured)
    elapsed = 0.0
    for _request in range(requests):
        if cold:
            cache.clear()
        started = time.perf_counter()
        response = client.get(url)
        elapsed += time.perf_counter() - started
        assert response.status_code == 200, url
    return requests / elapsed, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="requests per page and mode (default 100)")
    args = parser.parse_args()
    setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host name is allowed
    call_command("migrate", verbosity=0)
    from indices.demo import demo_index_ensure, demo_load

    started = time.perf_counter()
    demo_load()
    runs = [outcome.run for outcome in demo_index_ensure()]
    run = runs[-1]
    print(f"demo loaded and index published in {time.perf_counter() - started:.1f} s "
          f"(data year {run.period.data_year}, {run.units} cities); cache: {settings.CACHES['default']['BACKEND']}")
    from accounts.models import City

    year, city = run.period.data_year, City.objects.order_by("code").first().code
    dimension = run.methodology.nodes.filter(parent__isnull=False, parent__parent__isnull=True).first().code
    pages = [
        f"/rankings/{year}/",
        f"/rankings/{year}/?node={dimension}&sort=-score",
        f"/cities/{city}/",
        f"/methodology/{run.methodology.code}/{run.methodology.version}/",
        "/api/v1/cities/",
    ]
    client = Client()
    print(f"{'page':44s} {'cold req/s':>10s} {'ms':>6s} {'SQL':>4s}   {'warm req/s':>10s} {'ms':>6s} {'SQL':>4s}"
          f"   {'speed-up':>8s}")
    for url in pages:
        cold, cold_queries = measure(client, url, args.requests, cold=True)
        warm, warm_queries = measure(client, url, args.requests, cold=False)
        print(f"{url:44s} {cold:10.1f} {1000 / cold:6.1f} {cold_queries:4d}   {warm:10.1f} {1000 / warm:6.1f} "
              f"{warm_queries:4d}   {warm / cold:7.1f}x")


if __name__ == "__main__":
    main()
