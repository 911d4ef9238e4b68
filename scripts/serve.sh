#!/usr/bin/env bash
# Production mode in one command: migrate, collect the static files, then run the Procfile with honcho: the web
# server (gunicorn), a worker per queue (recompute, reports) and celery beat. Ctrl-C (or SIGTERM) stops them all.
# Needs DATABASE_URL, CELERY_BROKER_URL and a strong SECRET_KEY (environment or .env); DEBUG is off.
# Set up first (once): bash scripts/setup.sh. README, Production.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export DJANGO_SETTINGS_MODULE=ccfi_portal.settings
# The settings refuse DEBUG on, a weak secret, or no database or broker named when DJANGO_ENV=production.
export DJANGO_ENV=production
# Off unless the environment says otherwise (then the settings refuse); this overrides a demo .env's DEBUG=true.
export DEBUG="${DEBUG:-false}"
# gunicorn's sync workers: 4 x cores, at most 12 (each one a Django process of ~100 MB). A sync worker waits out
# each round trip to PostgreSQL and Redis (about half of an API value save): with gunicorn's starting point of
# 2 x cores + 1 all of them were busy while a third of the CPU was idle (docs/benchmarks.md).
cores=$(nproc 2>/dev/null || echo 1)
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-$(( 4 * cores > 12 ? 12 : 4 * cores ))}"

python - <<'PY'
import sys

import django
from django.core.exceptions import ImproperlyConfigured

try:
    django.setup()
except ImproperlyConfigured as error:
    sys.exit(f"scripts/serve.sh: not starting: {error}")
PY

# A PROMETHEUS_MULTIPROC_DIR from the environment must exist before any Django process starts (prometheus_client
# writes there as soon as it loads).
[ -z "${PROMETHEUS_MULTIPROC_DIR:-}" ] || mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
python manage.py migrate --noinput
python manage.py collectstatic --noinput -v0
mkdir -p var  # celery beat's schedule file
# Prometheus's multiprocess mode: each process (gunicorn's workers, the Celery workers) writes its metrics to files
# here and /metrics adds them up, whichever gunicorn worker answers the scrape. Emptied at each start (only its .db
# files). Set after migrate and collectstatic, whose queries are not the portal's. README, Observability.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$PWD/var/prometheus}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -type f -name '*.db' -delete
echo "Production mode: http://${HOST:-127.0.0.1}:${PORT:-8000}/ with ${WEB_CONCURRENCY} web workers; Ctrl-C stops all."
# --env /dev/null: honcho would otherwise load .env over the environment (a demo .env's DEBUG=true over the
# DEBUG=false above); the settings read .env themselves, the environment first.
exec honcho start --procfile Procfile --env /dev/null --port "${PORT:-8000}"
