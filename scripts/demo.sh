#!/usr/bin/env bash
# Sets everything up, loads the demo and starts the portal on http://127.0.0.1:8000/.
# With CELERY_BROKER_URL set (in the environment or .env) it also starts a Celery worker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py collectstatic --noinput -v0
.venv/bin/python manage.py load_demo

broker=$(DJANGO_SETTINGS_MODULE=ccfi_portal.settings .venv/bin/python -c 'import django; django.setup(); from django.conf import settings; print(settings.CELERY_BROKER_URL)')
if [ -n "${broker}" ]; then
  .venv/bin/celery -A ccfi_portal worker --loglevel=INFO --concurrency=2 &
  worker=$!
  trap 'kill "$worker" 2>/dev/null' EXIT
fi
echo "The portal is at http://${HOST:-127.0.0.1}:${PORT:-8000}/ (demo accounts: see README.md)."
.venv/bin/python manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}"
