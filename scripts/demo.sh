#!/usr/bin/env bash
# Sets everything up, loads the demo and starts the portal on http://127.0.0.1:8000/: a local Redis (unless one
# answers on the broker URL), one Celery worker on the queues recompute and reports, celery beat and the web
# server. Ctrl-C, or any of them ending, stops them all (and the Redis this script started).
#
# Environment (besides the settings of README.md): HOST and PORT of the web server; CCFI_VAR_DIR (default var/)
# for Redis's pid and log files and beat's schedule. For a demo that is already set up (and the test that runs
# this script), CCFI_SKIP_SETUP=1 skips scripts/setup.sh and CCFI_SKIP_COLLECTSTATIC=1 skips collectstatic
# (with DEBUG the web server serves the static files from their sources).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${CCFI_SKIP_SETUP:-}" = 1 ] || bash scripts/setup.sh
var_dir="${CCFI_VAR_DIR:-var}"
mkdir -p "$var_dir/redis"
export DJANGO_SETTINGS_MODULE=ccfi_portal.settings

# The broker of .env or the environment, or the local default. The steps before the worker starts run
# without one, so with tasks in-process (eager): load_demo computes and publishes the index and builds
# the white papers before the portal opens, and never waits on a worker or a Redis that is not running yet.
broker=$(.venv/bin/python -c 'from django.conf import settings; print(settings.CELERY_BROKER_URL)' 2>/dev/null \
  || true)
broker="${broker:-redis://127.0.0.1:6379/0}"
CELERY_BROKER_URL="" .venv/bin/python manage.py migrate --noinput -v0
[ "${CCFI_SKIP_COLLECTSTATIC:-}" = 1 ] || CELERY_BROKER_URL="" .venv/bin/python manage.py collectstatic --noinput -v0
CELERY_BROKER_URL="" .venv/bin/python manage.py load_demo

# From here on every process has the broker: tasks go to the worker.
export CELERY_BROKER_URL="$broker"
redis_pidfile=""
children=()

stop() {
  trap - EXIT INT TERM
  echo "Stopping the portal."
  # Each child leads its own process group (setsid): the group takes the web server's autoreloader
  # child and the worker's pool processes along.
  for pid in "${children[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    alive=0
    for pid in "${children[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${children[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait "${children[@]}" 2>/dev/null || true
  if [ -n "$redis_pidfile" ] && [ -f "$redis_pidfile" ]; then
    kill -TERM "$(cat "$redis_pidfile")" 2>/dev/null || true
  fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! redis-cli -u "$broker" ping >/dev/null 2>&1; then
  read -r redis_host redis_port < <(.venv/bin/python -c \
    'import sys, urllib.parse; u = urllib.parse.urlsplit(sys.argv[1]); print(u.hostname or "", u.port or 6379)' \
    "$broker")
  if [ "$redis_host" != 127.0.0.1 ] && [ "$redis_host" != localhost ]; then
    echo "No Redis answers at $broker, and it is not on this machine: start it, or unset CELERY_BROKER_URL." >&2
    exit 1
  fi
  echo "Starting a local Redis on 127.0.0.1:$redis_port (stopped with the portal)."
  redis_dir="$(cd "$var_dir/redis" && pwd)"
  redis_pidfile="$redis_dir/redis-$redis_port.pid"
  # No persistence: the queues of a demo need not outlive it (the tasks are idempotent, the data is in SQLite).
  redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
    --dir "$redis_dir" --pidfile "$redis_pidfile" --logfile "$redis_dir/redis-$redis_port.log"
  for _ in $(seq 1 100); do redis-cli -u "$broker" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -u "$broker" ping >/dev/null
fi

# One worker on both queues of the settings (recompute, reports; production runs one worker per queue).
queues="$(.venv/bin/python -c 'from ccfi_portal.celery import app; c = app.conf
print(",".join(sorted({route["queue"] for route in c.task_routes.values()} | {c.task_default_queue})))')"
setsid .venv/bin/celery -A ccfi_portal worker --loglevel=INFO --concurrency=2 -Q "$queues" &
children+=($!)
setsid .venv/bin/celery -A ccfi_portal beat --loglevel=INFO --schedule "$var_dir/celerybeat-schedule" &
children+=($!)
echo "The portal is at http://${HOST:-127.0.0.1}:${PORT:-8000}/ (demo accounts: see README.md). Ctrl-C stops it."
setsid .venv/bin/python manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}" &
children+=($!)
# Until Ctrl-C, or until one of them ends (then the others are stopped too).
wait -n "${children[@]}" || true
