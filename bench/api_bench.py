"""API benchmark (issue 14): requests/s and p50/p95/p99 of the API's two hot paths, with 50 concurrent clients,
against production mode on PostgreSQL. The machinery (database, production mode, locust, report, clean-up) is
bench/load_bench.py's; this runs its two API scenarios one after the other against one production mode:

- ``api-ranking``: anonymous readers of the published 2024 ranking through the API,
  ``GET /api/v1/scores/?year=2024&level=0&ordering=rank`` (every city's index score and rank), paced at 330 req/s;
- ``api-update``: filers saving values with their personal API token, ``PATCH /api/v1/returns/{id}/values/``,
  each client on a return of its own, paced at 110 req/s (each 10 % above its target,
  so that a target met shows).

    .venv/bin/python bench/api_bench.py [--run-time 60s] [--users 50] [any other option of load_bench.py]

Targets on 2 cores: ranking >= 300 req/s at p95 < 100 ms; update >= 100 req/s at p95 < 200 ms (docs/benchmarks.md).
locust comes from a virtual environment of its own (bench/requirements.txt).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["--scenario", "api-ranking", "api-update", *sys.argv[1:]]))
