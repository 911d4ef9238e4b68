"""Health of the running portal: /healthz (the process answers) and /readyz (what it needs answers), and the
checks behind them and behind ``python manage.py doctor``.

Checks are named functions in one registry. This module registers the database, the broker and the workers
(for /readyz and doctor) and the migrations and translations (doctor only); an app adds its own from its
``AppConfig.ready()`` with ``check_register`` (indices: the CJK font and HarfBuzz for the reports; the outbox's
oldest pending request is meant to go the same way). The module sits in the bottom layer with the settings and
middleware, so apps may import it; it imports no app, and reaches Celery through ``celery.current_app``.

What /readyz shows is public: a state, a short detail with no host, URL or secret, and the time taken.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

OK, FAIL, EAGER = "ok", "fail", "eager"  # EAGER: no broker, tasks run in-process, nothing to check
BROKER_TIMEOUT = 2.0  # seconds to connect to the broker
WORKERS_TIMEOUT = 1.0  # seconds the workers have to answer


@dataclass(frozen=True)
class Result:
    state: str
    detail: str = ""  # public: shown by /readyz
    hint: str = ""  # what to do about a failure (doctor prints it)
    error: str = ""  # the exception's message: doctor prints it, /readyz never does
    ms: float | None = None


@dataclass(frozen=True)
class Check:
    name: str
    function: Callable[[], Result]
    readiness: bool = True  # part of /readyz (else doctor only)
    required: bool = True  # a failure makes /readyz answer 503 and doctor exit 1


_CHECKS: dict[str, Check] = {}


def check_register(name: str, function: Callable[[], Result], *, readiness: bool = True,
                   required: bool = True) -> None:
    """Add (or replace) the check ``name``. ``function`` returns a Result; an exception it raises is a failure."""
    _CHECKS[name] = Check(name=name, function=function, readiness=readiness, required=required)


def checks(*, readiness_only: bool = False) -> list[Check]:
    return [check for check in _CHECKS.values() if check.readiness or not readiness_only]


def check_run(check: Check) -> Result:
    started = time.monotonic()
    try:
        result = check.function()
    except Exception as error:  # any failure of a check is that check's failure
        result = Result(FAIL, detail=type(error).__name__, error=str(error))
    return Result(**{**result.__dict__, "ms": round((time.monotonic() - started) * 1000, 1)})


@dataclass
class Report:
    results: dict[str, tuple[Check, Result]] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not any(check.required and result.state == FAIL for check, result in self.results.values())


def checks_run(*, readiness_only: bool = False) -> Report:
    report = Report()
    for check in checks(readiness_only=readiness_only):
        report.results[check.name] = (check, check_run(check))
    return report


# The checks of the infrastructure.

def database_check() -> Result:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Result(OK, "SELECT 1 answered")


def _eager() -> bool:
    return bool(current_app.conf.task_always_eager)


def _broker_connection():
    """A connection to the broker that gives up within BROKER_TIMEOUT instead of retrying."""
    return current_app.connection_for_write(
        connect_timeout=BROKER_TIMEOUT,
        transport_options={"socket_timeout": BROKER_TIMEOUT, "socket_connect_timeout": BROKER_TIMEOUT})


_BROKER_HINT = "Start Redis, or check CELERY_BROKER_URL (README, Production)."


def broker_check() -> Result:
    if _eager():
        return Result(EAGER, "no broker: tasks run in-process")
    try:
        with _broker_connection() as connection:
            connection.ensure_connection(max_retries=0)
            return Result(OK, "reachable")
    except Exception as error:
        return Result(FAIL, f"unreachable ({type(error).__name__})", hint=_BROKER_HINT, error=str(error))


def queues_needed() -> set[str]:
    """The queues some worker must consume: those the routes name, and the default queue."""
    routes = current_app.conf.task_routes or {}
    named = {route["queue"] for route in routes.values() if isinstance(route, dict) and "queue" in route} \
        if isinstance(routes, dict) else set()
    return named | {current_app.conf.task_default_queue}


def workers_check() -> Result:
    """At least one worker answers, and every queue that tasks are sent to has a worker consuming it."""
    if _eager():
        return Result(EAGER, "no broker: tasks run in-process")
    needed = queues_needed()
    hint = f"Start the workers: celery -A ccfi_portal worker -Q {','.join(sorted(needed))} (README, Production)."
    try:
        with _broker_connection() as connection:
            connection.ensure_connection(max_retries=0)
            replies = current_app.control.inspect(timeout=WORKERS_TIMEOUT, connection=connection).active_queues()
    except Exception as error:
        return Result(FAIL, f"broker unreachable ({type(error).__name__})", hint=_BROKER_HINT, error=str(error))
    replies = replies or {}
    if not replies:
        return Result(FAIL, f"no worker answered within {WORKERS_TIMEOUT:g} s", hint=hint)
    consumed = {queue["name"] for queues in replies.values() for queue in queues or ()}
    missing = needed - consumed
    if missing:
        return Result(FAIL, f"{len(replies)} worker(s), none on {', '.join(sorted(missing))}", hint=hint)
    return Result(OK, f"{len(replies)} worker(s) on {', '.join(sorted(needed))}")


def migrations_check() -> Result:
    from django.db.migrations.executor import MigrationExecutor  # loads every app's migrations: doctor only

    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _backwards in plan[:3])
        return Result(FAIL, f"{len(plan)} migration(s) not applied ({names}{', ...' if len(plan) > 3 else ''})",
                      hint="Run: python manage.py migrate")
    return Result(OK, "all applied")


def translations_check() -> Result:
    """Each .po file of LOCALE_PATHS has its .mo, compiled after the .po's last change."""
    hint = "Run: python manage.py compilemessages (scripts/setup.sh does)"
    sources = [po for path in settings.LOCALE_PATHS for po in sorted(Path(path).glob("*/LC_MESSAGES/*.po"))]
    if not sources:
        return Result(FAIL, "no .po file under LOCALE_PATHS", hint="Check LOCALE_PATHS in settings.")
    for po in sources:
        mo = po.with_suffix(".mo")
        if not mo.is_file():
            return Result(FAIL, f"{mo.relative_to(settings.BASE_DIR)} missing", hint=hint)
        if mo.stat().st_mtime < po.stat().st_mtime:
            return Result(FAIL, f"{mo.relative_to(settings.BASE_DIR)} older than its .po", hint=hint)
    return Result(OK, f"{len(sources)} catalogue(s) compiled")


check_register("database", database_check)
check_register("broker", broker_check)
check_register("workers", workers_check)
check_register("migrations", migrations_check, readiness=False)
check_register("translations", translations_check, readiness=False)


# The views: public, unauthenticated, GET or HEAD, never cached.

@never_cache
@require_safe
def healthz(request):
    """The process is up and answers; nothing else is looked at (no database)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    """Every component the portal needs, one entry each; 503 when a required one fails."""
    report = checks_run(readiness_only=True)
    components = {}
    for name, (check, result) in report.results.items():
        entry = {"status": result.state, "ms": result.ms}
        if result.detail:
            entry["detail"] = result.detail
        if not check.required:
            entry["required"] = False
        components[name] = entry
    return JsonResponse({"status": "ok" if report.healthy else "unavailable", "components": components},
                        status=200 if report.healthy else 503)
