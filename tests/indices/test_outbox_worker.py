"""The outbox with real processes: a worker killed in the middle of a recomputation loses nothing; after a
restart, exactly one run of those inputs exists and it succeeded."""
import os
import signal
import time

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


def test_a_worker_killed_during_the_recompute_loses_nothing(celery_worker_process, tmp_path):
    demo_load()
    period = ReportingPeriod.objects.get(data_year=2024)
    last = IndicatorReturn.objects.get(period=period, city__code="500000")
    IndicatorReturn.objects.filter(pk=last.pk).update(state=ReturnState.SUBMITTED)

    return_approve(indicator_return=last, actor=User.objects.get(username="reviewer"))  # commits: handed over
    request = WorkRequest.objects.get(task=RECOMPUTE_INDEX_TASK, period=period)
    running = _wait_for(lambda: WorkRequest.objects.filter(pk=request.pk, state=WorkState.RUNNING).first(),
                        seconds=60)
    pid = int(running.worker.rsplit(":", 1)[1])
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

    runs = IndexRun.objects.filter(period=period)
    assert runs.count() == 1, list(runs.values("state", "claimed_by"))
    assert runs.get().state == RunState.SUCCEEDED and not runs.get().is_provisional
    assert time.monotonic() - started < 90
