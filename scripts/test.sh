#!/usr/bin/env bash
# Runs the whole test suite: ruff, the import contracts, bandit, Django's deployment checks, then pytest, including a
# real Celery worker over Redis and Debian's Chromium. The database is SQLite unless DATABASE_URL names another (CI: PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

broker="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/15}"
if ! redis-cli -u "$broker" ping >/dev/null 2>&1; then
  echo "Starting a local Redis for the worker tests."
  mkdir -p /tmp/ccfi-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /tmp/ccfi-redis \
    --logfile /tmp/ccfi-redis/redis.log
  for _ in $(seq 1 50); do redis-cli -u "$broker" ping >/dev/null 2>&1 && break; sleep 0.2; done
fi

.venv/bin/ruff check .
.venv/bin/lint-imports --no-cache  # the apps' layers and the pure engine (pyproject.toml)
.venv/bin/bandit -q -c pyproject.toml -r accounts audit methodology reporting indices ccfi_portal  # docs/security.md
# Django's deployment checks on the production settings (as scripts/serve.sh runs them): any warning fails. The
# database and broker are named, not reached.
DJANGO_ENV=production DEBUG=false SECRET_KEY="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
  DATABASE_URL=postgres://ccfi@127.0.0.1:5432/ccfi CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \
  .venv/bin/python manage.py check --deploy --fail-level WARNING
exec .venv/bin/pytest "$@"
