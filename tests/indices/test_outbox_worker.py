"""The outbox with real processes: a worker killed in the middle of a recomputation loses nothing. Whether the
whole worker dies (and is restarted) or only the pool process running the task (and the worker forks another),
exactly one run of those inputs exists afterwards and it succeeded."""
import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest

from accounts.models import User
from indices.demo import demo_load
from indices.models import IndexRun, RunState, WorkRequest, WorkState
from indices.outbox import RECOMPUTE_INDEX_TASK, work_sweep
from reporting.models import IndicatorReturn, ReportingPeriod, ReturnState
from reporting.services import return_approve
from tests.celery_worker import queue_prefix, worker_start

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_for(condition, *, seconds: float, step: float = 0.005):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not within {seconds} s")


def _approve_the_last_return_and_wait_until_it_runs() -> tuple[ReportingPeriod, WorkRequest, int]:
    """Approve a return (its recomputation is handed to the worker); return the period, the request and the
    process running it, as soon as it runs."""
    demo_load()
    period = ReportingPeriod.objects.get(data_year=2024)
    last = IndicatorReturn.objects.get(period=period, city__code="500000")
    IndicatorReturn.objects.filter(pk=last.pk).update(state=ReturnState.SUBMITTED)

    return_approve(indicator_return=last, actor=User.objects.get(username="reviewer"))  # commits: handed over
    request = WorkRequest.objects.get(task=RECOMPUTE_INDEX_TASK, period=period)
    running = _wait_for(lambda: WorkRequest.objects.filter(pk=request.pk, state=WorkState.RUNNING).first(),
                        seconds=60)
    return period, request, int(running.worker.rsplit(":", 1)[1])


def _one_succeeded_run(period: ReportingPeriod) -> None:
    runs = IndexRun.objects.filter(period=period)
    assert runs.count() == 1, list(runs.values("state", "claimed_by"))
    assert runs.get().state == RunState.SUCCEEDED and not runs.get().is_provisional


@pytest.mark.worker_pool("prefork")
def test_a_pool_process_killed_during_the_recompute_loses_nothing(celery_worker_process):
    period, request, pid = _approve_the_last_return_and_wait_until_it_runs()
    worker_pids = {int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("PPid:")}
    os.kill(pid, signal.SIGKILL)  # the pool process only: the worker itself lives on and forks another
    started = time.monotonic()
    # The worker gives the message back (reject on worker lost) and the new pool process takes the run
    # over from the dead one; the sweep is there for anything the worker could not give back.
    def finished():
        work_sweep()
        return WorkRequest.objects.filter(pk=request.pk, state=WorkState.DONE).first()

    done = _wait_for(finished, seconds=90, step=1)
    assert done.worker != f"{done.worker.rsplit(':', 1)[0]}:{pid}"  # finished by another process
    assert all(Path(f"/proc/{worker}").exists() for worker in worker_pids)  # the worker itself was not restarted
    _one_succeeded_run(period)
    assert time.monotonic() - started < 90


def test_a_worker_killed_during_the_recompute_loses_nothing(celery_worker_process, tmp_path):
    period, request, pid = _approve_the_last_return_and_wait_until_it_runs()
    os.kill(pid, signal.SIGKILL)  # the whole worker, mid-task
    os.waitpid(pid, 0)  # reaped, as its supervisor would (this test started it)
    request.refresh_from_db()
    assert request.state == WorkState.RUNNING  # it died before finishing: nothing will report back

    restarted = worker_start(queue_prefix(celery_worker_process), tmp_path / "restarted.log")
    started = time.monotonic()
    try:
        # Beat would run the sweep every 30 s; run it here until the restarted worker has taken the work up.
        def finished():
            work_sweep()
            return WorkRequest.objects.filter(pk=request.pk, state=WorkState.DONE).exists()

        _wait_for(finished, seconds=90, step=1)
    finally:
        restarted.terminate()
        restarted.wait(timeout=20)
        print((tmp_path / "restarted.log").read_text())

    _one_succeeded_run(period)
    assert time.monotonic() - started < 90


def test_a_broker_outage_during_approval_delays_the_recompute_and_loses_nothing(own_redis, celery_worker_process):
    """The worker's Redis goes away (and every message with it); the reviewer's approval still answers at once; once
    Redis is back, the worker reconnects and the sweep hands the recomputation over."""
    demo_load()
    period = ReportingPeriod.objects.get(data_year=2024)
    last = IndicatorReturn.objects.get(period=period, city__code="500000")
    IndicatorReturn.objects.filter(pk=last.pk).update(state=ReturnState.SUBMITTED)
    own_redis.stop()

    started = time.monotonic()
    return_approve(indicator_return=last, actor=User.objects.get(username="reviewer"))  # commits: tries to hand over
    assert time.monotonic() - started < 2
    request = WorkRequest.objects.get(task=RECOMPUTE_INDEX_TASK, period=period)
    assert request.state == WorkState.PENDING and "not queued" in request.error
    assert not IndexRun.objects.filter(period=period).exists()

    own_redis.start()  # empty: whatever it held before is gone
    WorkRequest.objects.filter(pk=request.pk).update(created_at=request.created_at - timedelta(minutes=1))
    started = time.monotonic()

    def finished():
        work_sweep()  # as beat would, every 30 s
        return WorkRequest.objects.filter(pk=request.pk, state=WorkState.DONE).exists()

    _wait_for(finished, seconds=90, step=1)
    _one_succeeded_run(period)
    print(f"delivered {time.monotonic() - started:.1f} s after Redis came back")
