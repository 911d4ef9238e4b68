"""Observability: the request id on every log record and every task, the JSON log format, the task metrics and
the /metrics endpoint (README, Production, Observability).

* **Request id**: django-guid's middleware keeps the id of the request in a context variable (``ccfi_portal.
  middleware.RequestIdMiddleware``, ahead of it, drops an incoming ``X-Request-ID`` that is not a short token of
  safe characters, so that one is generated instead). ``ContextFilter`` puts it on every log record, with the
  task's name, id and ``work_id`` inside a Celery task. The outbox passes the id of the request that asked for
  the work as a message header (``REQUEST_ID_HEADER``); ``before_task_publish`` adds the current id to any other
  task sent, and ``task_prerun`` restores it in the worker (``celery_signals_connect``, called by
  ccfi_portal.celery).
* **Metrics**: django-prometheus counts requests by view and database queries; the task signals feed
  ``ccfi_task_duration_seconds`` and ``ccfi_task_failures_total``; apps add collectors computed at scrape time
  with ``metrics_collector_register`` (indices: the outbox backlog). ``metrics`` serves them to loopback (or
  ``METRICS_ALLOWED_IPS``) or to a bearer of ``METRICS_TOKEN``; anyone else gets a 404. With
  ``PROMETHEUS_MULTIPROC_DIR`` set (scripts/serve.sh) the metrics of every process writing there are added up.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import logging.config
import os
import re
import time

from celery import current_task
from celery.signals import before_task_publish, setup_logging, task_failure, task_postrun, task_prerun, task_retry
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_guid import clear_guid, get_guid, set_guid
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from pythonjsonlogger.json import JsonFormatter

logger = logging.getLogger(__name__)

# The HTTP header of the request id (in and out), and the Celery message header that carries it to a task.
REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it is a short token of these characters; anything else is replaced.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def request_id_valid(value: str | None) -> bool:
    return bool(value) and REQUEST_ID_PATTERN.fullmatch(value) is not None


def request_id_get() -> str | None:
    """The id of the request (or task) being served, None outside one."""
    return get_guid()


# LOGGING

class ContextFilter(logging.Filter):
    """Puts ``request_id`` on every record, and inside a Celery task ``task_name``, ``task_id`` and ``work_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = get_guid() or "-"
        if not hasattr(record, "task_id"):
            task = current_task  # a proxy, false outside a task
            if task and task.request.id is not None:
                record.task_name = task.name
                record.task_id = task.request.id
                work_id = (task.request.kwargs or {}).get("work_id")
                if work_id is not None:
                    record.work_id = work_id
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message, request_id, then the record's extra
    fields (method, path, status, duration_ms of a request; task_name, task_id, work_id of a task)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("json_ensure_ascii", False)  # Chinese messages stay readable
        super().__init__("%(levelname)s %(name)s %(message)s %(request_id)s", *args, **kwargs)

    def process_log_record(self, log_data):
        # Django's own request logs (django.request, django.security) pass the request, whose repr has the full
        # query string (tokens, say): only the method and path go out.
        request = log_data.get("request")
        if isinstance(request, HttpRequest):
            log_data["request"] = f"{request.method} {request.path}"
        return super().process_log_record(log_data)


# CELERY: the request id travels with the task; durations and failures are counted.

TASK_DURATION = Histogram("ccfi_task_duration_seconds", "Time a Celery task ran, by task name and final state",
                          ["task", "state"], buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, float("inf")))
TASK_FAILURES = Counter("ccfi_task_failures", "Celery tasks that raised, by task name", ["task"])
TASK_RETRIES = Counter("ccfi_task_retries", "Celery tasks retried, by task name", ["task"])
_task_started: dict[str, float] = {}


def task_request_id(request) -> str | None:
    """The request id a task was sent with: a message header (a worker) or in ``headers`` (eager)."""
    value = getattr(request, REQUEST_ID_HEADER, None) or (getattr(request, "headers", None) or {}).get(
        REQUEST_ID_HEADER)
    return value if request_id_valid(value) else None


def _before_task_publish(headers=None, **kwargs):
    # The outbox names the id itself (that of the request that asked for the work, also when the sweep sends it).
    if headers is not None and not headers.get(REQUEST_ID_HEADER) and get_guid():
        headers[REQUEST_ID_HEADER] = get_guid()


def _task_prerun(task_id=None, task=None, **kwargs):
    # Work started with no request (beat's sweep) gets an id of its own: its log lines still belong together.
    previous = get_guid()
    set_guid(task_request_id(task.request) or (task_id or "").replace("-", "")[:32] or None)
    _task_started[task_id] = (time.monotonic(), previous)


def _task_postrun(task_id=None, task=None, state=None, **kwargs):
    started, previous = _task_started.pop(task_id, (None, None))
    if started is not None:
        TASK_DURATION.labels(task=task.name, state=state or "UNKNOWN").observe(time.monotonic() - started)
    # A worker's next task starts with no id; an eager task ran inside a request (or command), whose id comes back.
    if previous:
        set_guid(previous)
    else:
        clear_guid()


def _task_failure(sender=None, **kwargs):
    TASK_FAILURES.labels(task=getattr(sender, "name", "unknown")).inc()


def _task_retry(sender=None, **kwargs):
    TASK_RETRIES.labels(task=getattr(sender, "name", "unknown")).inc()


def _setup_logging(**kwargs):
    # Celery would replace the root logger's handlers with its own text format: the workers log as the portal does.
    logging.config.dictConfig(settings.LOGGING)


def celery_signals_connect() -> None:
    before_task_publish.connect(_before_task_publish, weak=False, dispatch_uid="ccfi_request_id_publish")
    task_prerun.connect(_task_prerun, weak=False, dispatch_uid="ccfi_task_prerun")
    task_postrun.connect(_task_postrun, weak=False, dispatch_uid="ccfi_task_postrun")
    task_failure.connect(_task_failure, weak=False, dispatch_uid="ccfi_task_failure")
    task_retry.connect(_task_retry, weak=False, dispatch_uid="ccfi_task_retry")
    setup_logging.connect(_setup_logging, weak=False, dispatch_uid="ccfi_setup_logging")


# METRICS

_collectors: list = []


def metrics_collector_register(collector) -> None:
    """Add a collector (an object with ``collect()`` yielding metric families) computed at each scrape."""
    _collectors.append(collector)


class _ScrapeRegistry:
    """What /metrics shows: this process's metrics (or, in multiprocess mode, every process's, added up), and the
    registered collectors computed now."""

    def collect(self):
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            yield from registry.collect()
        else:
            yield from REGISTRY.collect()
        for collector in _collectors:
            yield from collector.collect()


def _address_allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for allowed in settings.METRICS_ALLOWED_IPS:
        try:
            if ip in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return False


def metrics_allowed(request) -> bool:
    """A bearer of METRICS_TOKEN, or a direct request (no proxy header) from METRICS_ALLOWED_IPS."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    # A reverse proxy on this machine connects from 127.0.0.1: a request it forwards is not a local one.
    if any(name in request.META for name in ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")):
        return False
    return _address_allowed(request.META.get("REMOTE_ADDR", ""))


@never_cache
@require_safe
def metrics(request):
    """Prometheus's text format; a 404 for anyone not allowed (the endpoint is not advertised)."""
    if not metrics_allowed(request):
        raise Http404
    return HttpResponse(generate_latest(_ScrapeRegistry()), content_type=CONTENT_TYPE_LATEST)
