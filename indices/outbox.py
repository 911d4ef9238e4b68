"""The outbox: background work is asked for by a row written in the caller's transaction, handed to the
broker after the commit, and handed again by a periodic sweep until a worker finishes it.

Why: a broker that is down, or a worker killed in the middle of a task, must delay a recomputation or a
report, never lose it, and never turn the reviewer's approval into an error. Tasks are idempotent
(a run is keyed by its inputs, a report build is deterministic), so a request handed over twice costs
a little time and changes nothing.

The services that ask for work call ``work_request`` (``work_requests`` for many at once); the tasks
(indices.tasks) report back with ``work_started``, ``work_done`` and ``work_failed``; beat runs ``work_sweep`` every
``settings.OUTBOX_SWEEP_SECONDS``, and each worker runs it once when it starts.
"""
from __future__ import annotations

import datetime
import logging
import os
import socket
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ccfi_portal.health import FAIL, OK, Result
from ccfi_portal.observability import REQUEST_ID_HEADER, request_id_get
from indices.models import UNFINISHED_WORK, WorkRequest, WorkState

logger = logging.getLogger(__name__)

RECOMPUTE_INDEX_TASK = "indices.recompute_index"
BUILD_REPORT_TASK = "indices.build_report"
OUTBOX_SWEEP_TASK = "indices.outbox_sweep"


def this_process() -> str:
    """``host:pid``, recorded on the work a process takes, so that the sweep can tell a lost one."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_is_gone(process: str) -> bool:
    """Whether ``host:pid`` is a process of this machine that no longer runs. A process of another
    machine is never declared gone here: its work is handed again only once past the time limit."""
    host, _, pid = process.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


def work_requests(*, task: str, args_list: list[list], period_id: int | None = None, run_id: int | None = None,
                  actor=None) -> list[WorkRequest]:
    """Ask for ``task(*args)`` for each of ``args_list`` in the caller's transaction (one query to find those
    already waiting, one insert); each is handed to the broker after the commit.

    An identical request not yet handed over is reused: one pending recomputation of a period reads
    whatever is approved when it runs, so a second would only repeat it.
    """
    waiting = {tuple(work.args): work for work in WorkRequest.objects.filter(
        task=task, args__in=args_list, state=WorkState.PENDING)}
    requested_by = actor if actor is not None and actor.is_authenticated else None
    http_request_id = (request_id_get() or "")[:64]
    new = WorkRequest.objects.bulk_create([
        WorkRequest(task=task, args=args, period_id=period_id, run_id=run_id, request_id=http_request_id,
                    requested_by=requested_by)
        for args in args_list if tuple(args) not in waiting])
    transaction.on_commit(partial(_dispatch_all, [work.pk for work in new]))
    new_by_args = {tuple(work.args): work for work in new}
    return [waiting.get(tuple(args)) or new_by_args[tuple(args)] for args in args_list]


def _dispatch_all(work_ids: list[int]) -> None:
    for work_id in work_ids:
        work_dispatch(work_id)


def work_request(*, task: str, args: list, period_id: int | None = None, run_id: int | None = None,
                 actor=None) -> WorkRequest:
    """One request: see ``work_requests``."""
    return work_requests(task=task, args_list=[args], period_id=period_id, run_id=run_id, actor=actor)[0]


def work_dispatch(work_id: int) -> bool:
    """Hand a pending request to the broker. A broker that cannot be reached raises nothing: it leaves the
    request pending, with the reason, for the sweep."""
    # Claimed by a conditional update, so that the commit hook and the sweep never both send it.
    if not WorkRequest.objects.filter(pk=work_id, state=WorkState.PENDING).update(
            state=WorkState.QUEUED, queued_at=timezone.now(), attempts=F("attempts") + 1, error=""):
        return False
    work = WorkRequest.objects.get(pk=work_id)
    try:
        task = current_app.tasks[work.task]  # a name not registered is a bug: raised, never retried
    except KeyError:
        WorkRequest.objects.filter(pk=work_id).update(state=WorkState.FAILED, error="unknown task")
        raise
    try:
        # No result to keep in the result backend (the request row keeps it), and no retry: both would
        # hold the request up for seconds while the broker is down. The id of the HTTP request that asked for
        # the work goes with it, also when the sweep hands it over (ccfi_portal.observability).
        task.apply_async(args=work.args, kwargs={"work_id": work.pk}, retry=False, ignore_result=True,
                         headers={REQUEST_ID_HEADER: work.request_id} if work.request_id else None)
    except Exception as error:  # noqa: BLE001  (any broker failure: the sweep tries again)
        if current_app.conf.task_always_eager:
            raise  # in-process: the task itself failed, and the caller must see it
        logger.warning("Work request %s could not be queued: %s", work_id, error)
        WorkRequest.objects.filter(pk=work_id, state=WorkState.QUEUED).update(
            state=WorkState.PENDING, attempts=F("attempts") - 1,
            error=f"not queued: {type(error).__name__}: {error}"[:2000])
        return False
    return True


def work_started(work_id: int | None) -> None:
    if work_id is not None:
        WorkRequest.objects.filter(pk=work_id).exclude(state=WorkState.DONE).update(
            state=WorkState.RUNNING, started_at=timezone.now(), finished_at=None, worker=this_process())


def work_done(work_id: int | None, result: dict, *, error: str = "") -> None:
    """The task finished: done, or failed with ``error`` when the work itself failed (a report that
    could not be built); either way it is not handed over again."""
    if work_id is not None:
        WorkRequest.objects.filter(pk=work_id).update(state=WorkState.FAILED if error else WorkState.DONE,
                                                      finished_at=timezone.now(), result=result, error=error)


def work_failed(work_id: int | None, error: BaseException) -> None:
    if work_id is not None:
        WorkRequest.objects.filter(pk=work_id).exclude(state=WorkState.DONE).update(
            state=WorkState.FAILED, finished_at=timezone.now(), error=f"{type(error).__name__}: {error}"[:2000])


def _lost() -> list[WorkRequest]:
    """Requests handed over that no worker is finishing: the worker that took it died, or it has been
    queued or running for longer than any worker could take (the broker lost it, or another machine's
    worker died)."""
    now = timezone.now()
    queued_before = now - datetime.timedelta(seconds=settings.OUTBOX_REQUEUE_QUEUED_SECONDS)
    running_before = now - datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    candidates = WorkRequest.objects.filter(
        Q(state=WorkState.QUEUED, queued_at__lt=queued_before) | Q(state=WorkState.RUNNING))
    return [work for work in candidates
            if work.state == WorkState.QUEUED or process_is_gone(work.worker)
            or (work.started_at is not None and work.started_at < running_before)]


def work_sweep() -> dict[str, int]:
    """Hand over again what is pending or lost; give up (failed, with the reason) after
    ``settings.OUTBOX_MAX_ATTEMPTS``. Returns counts, for the log."""
    counts = {"dispatched": 0, "requeued": 0, "given_up": 0}
    requeued = []
    for work in _lost():
        if work.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            counts["given_up"] += WorkRequest.objects.filter(pk=work.pk, state=work.state).update(
                state=WorkState.FAILED, finished_at=timezone.now(),
                error=f"gave up after {work.attempts} attempts (worker lost or broker unavailable)")
        elif WorkRequest.objects.filter(pk=work.pk, state=work.state).update(state=WorkState.PENDING):
            requeued.append(work.pk)
    counts["requeued"] = len(requeued)
    # New requests are handed over by their commit hook; the sweep takes those it has not managed to.
    settled_before = timezone.now() - datetime.timedelta(seconds=settings.OUTBOX_DISPATCH_GRACE_SECONDS)
    waiting = WorkRequest.objects.filter(state=WorkState.PENDING, created_at__lt=settled_before).exclude(
        pk__in=requeued).order_by("created_at").values_list("pk", flat=True)
    for work_id in [*requeued, *waiting]:
        counts["dispatched"] += work_dispatch(work_id)
    return counts


def oldest_pending_age() -> float | None:
    """Seconds since the oldest unfinished request was made (None when there is none): the backlog."""
    oldest = WorkRequest.objects.filter(state__in=UNFINISHED_WORK).order_by("created_at").first()
    return None if oldest is None else (timezone.now() - oldest.created_at).total_seconds()


OUTBOX_BACKLOG_LIMIT_SECONDS = 5 * 60  # older unfinished work than this: the workers are not keeping up


def outbox_health_check() -> Result:
    """For /readyz and doctor: how old the oldest unfinished work request is."""
    age = oldest_pending_age()
    if age is None:
        return Result(OK, detail="no pending work")
    if age > OUTBOX_BACKLOG_LIMIT_SECONDS:
        return Result(FAIL, detail=f"oldest pending work {age:.0f} s old",
                      hint="Start a worker (README: Production) or check its log; the sweep hands the work over.")
    return Result(OK, detail=f"oldest pending work {age:.0f} s old")
