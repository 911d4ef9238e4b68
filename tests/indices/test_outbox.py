"""The outbox: approving, publishing and recomputing write their work request in the same transaction;
a broker that is down never turns the action into an error, and the sweep hands the work over later;
work a dead worker left behind is taken over."""
import subprocess
import time

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from ccfi_portal.celery import app as celery_app
from indices.demo import demo_load
from indices.models import IndexRun, RunState, WorkRequest, WorkState
from indices.outbox import RECOMPUTE_INDEX_TASK, process_is_gone, this_process, work_sweep
from indices.services import index_run_compute
from reporting.models import IndicatorReturn, ReportingPeriod, ReturnState
from reporting.services import return_approve
from tests.celery_worker import _configure

pytestmark = pytest.mark.django_db

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: the connection is refused


@pytest.fixture
def period(db) -> ReportingPeriod:
    demo_load()
    return ReportingPeriod.objects.select_related("methodology").get(data_year=2024)


@pytest.fixture
def submitted(period) -> IndicatorReturn:
    last = IndicatorReturn.objects.get(period=period, city__code="500000")
    IndicatorReturn.objects.filter(pk=last.pk).update(state=ReturnState.SUBMITTED)
    last.refresh_from_db()
    return last


@pytest.fixture
def broker_down():
    """The producer points at a broker that refuses connections, as during an outage; restored after."""
    previous = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    _configure(broker_url=UNREACHABLE_BROKER, task_always_eager=False)
    yield
    _configure(**previous)


def _age(request: WorkRequest, seconds: int = 60) -> None:
    WorkRequest.objects.filter(pk=request.pk).update(created_at=timezone.now() - timezone.timedelta(seconds=seconds))


def test_approval_writes_its_request_in_the_same_transaction(submitted):
    reviewer = User.objects.get(username="reviewer")
    with pytest.raises(RuntimeError), transaction.atomic():
        return_approve(indicator_return=submitted, actor=reviewer)
        assert WorkRequest.objects.filter(task=RECOMPUTE_INDEX_TASK, period=submitted.period).count() == 1
        raise RuntimeError("the approval fails after the request was written")
    assert not WorkRequest.objects.exists()  # rolled back with the approval


def test_a_broker_outage_delays_the_recompute_and_the_sweep_delivers_it(submitted, client, broker_down,
                                                                        django_capture_on_commit_callbacks):
    client.force_login(User.objects.get(username="reviewer"))
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reporting:review_detail", args=[submitted.pk]), {"action": "approve"},
                               follow=True)
    elapsed = time.monotonic() - started

    assert response.status_code == 200 and elapsed < 2, elapsed
    assert "recomputed" in response.content.decode() or "重新计算" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == ReturnState.APPROVED
    assert AuditEvent.objects.filter(event_type="return.approve").exists()
    request = WorkRequest.objects.get(task=RECOMPUTE_INDEX_TASK, period=submitted.period)
    assert request.state == WorkState.PENDING and "not queued" in request.error and request.attempts == 0
    assert not IndexRun.objects.filter(period=submitted.period).exists()

    assert work_sweep()["dispatched"] == 0  # still down (and too new for the sweep until the grace passes)
    _age(request)
    assert work_sweep()["dispatched"] == 0
    _configure(task_always_eager=True)  # the broker is back (in-process here; tests/indices/test_outbox_worker.py
    counts = work_sweep()               # does it with a real worker)

    request.refresh_from_db()
    assert counts["dispatched"] == 1 and request.state == WorkState.DONE and request.attempts == 1
    run = IndexRun.objects.get(period=submitted.period)
    assert run.state == RunState.SUCCEEDED and request.result["run"] == run.pk


def test_a_manual_recompute_during_an_outage_is_queued_and_audited(period, client, broker_down,
                                                                   django_capture_on_commit_callbacks):
    client.force_login(User.objects.get(username="methodologist"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("indices:run_recompute", args=[2024]), follow=True)
    assert response.status_code == 200
    assert AuditEvent.objects.filter(event_type="index_run.recompute_request").count() == 1
    assert WorkRequest.objects.get(period=period).state == WorkState.PENDING


def _dead_process() -> str:
    """host:pid of a process of this machine that has ended."""
    child = subprocess.Popen(["true"])
    child.wait()
    return this_process().rsplit(":", 1)[0] + f":{child.pid}"


def test_process_is_gone_tells_a_dead_worker_from_a_live_one_or_another_machines():
    assert process_is_gone(_dead_process())
    assert not process_is_gone(this_process())
    assert not process_is_gone("another-machine:1")


def test_work_a_dead_worker_left_running_is_taken_over(period):
    """The worker died in the middle of the recompute: its run is `running`, its request too."""
    stranded = index_run_compute(period=period)
    dead = _dead_process()
    IndexRun.objects.filter(pk=stranded.pk).update(state=RunState.RUNNING, finished_at=None, claimed_by=dead)
    request = WorkRequest.objects.create(task=RECOMPUTE_INDEX_TASK, args=[period.pk], period=period,
                                         state=WorkState.RUNNING, attempts=1, worker=dead,
                                         started_at=timezone.now())

    counts = work_sweep()  # eager in the tests: the task runs here

    request.refresh_from_db()
    assert counts == {"dispatched": 1, "requeued": 1, "given_up": 0}
    assert request.state == WorkState.DONE and request.attempts == 2
    runs = IndexRun.objects.filter(period=period)
    assert runs.count() == 1 and runs.get().state == RunState.SUCCEEDED and runs.get().pk == stranded.pk


def test_a_live_workers_run_is_left_to_it(period):
    busy = index_run_compute(period=period)
    IndexRun.objects.filter(pk=busy.pk).update(state=RunState.RUNNING, claimed_by=this_process())
    WorkRequest.objects.create(task=RECOMPUTE_INDEX_TASK, args=[period.pk], period=period,
                               state=WorkState.RUNNING, attempts=1, worker=this_process(),
                               started_at=timezone.now())

    assert work_sweep() == {"dispatched": 0, "requeued": 0, "given_up": 0}
    assert IndexRun.objects.get(pk=busy.pk).state == RunState.RUNNING


def test_work_lost_too_often_is_given_up_with_the_reason(period):
    request = WorkRequest.objects.create(task=RECOMPUTE_INDEX_TASK, args=[period.pk], period=period,
                                         state=WorkState.RUNNING, attempts=5, worker=_dead_process(),
                                         started_at=timezone.now())
    assert work_sweep()["given_up"] == 1
    request.refresh_from_db()
    assert request.state == WorkState.FAILED and "gave up after 5 attempts" in request.error


def test_the_run_list_shows_the_background_work_and_its_errors(submitted, client, broker_down,
                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return_approve(indicator_return=submitted, actor=User.objects.get(username="reviewer"))
    request = WorkRequest.objects.get(period=submitted.period)
    client.force_login(User.objects.get(username="reviewer"))

    page = client.get(reverse("indices:runs")).content.decode()

    assert f'data-testid="work-{request.pk}"' in page and "重新计算 2024 年指数" in page
    assert "等待排队" in page and "not queued" in page


def test_readyz_reports_the_outbox_backlog(period, client):
    assert client.get("/readyz").json()["components"]["outbox"]["status"] == "ok"
    stuck = WorkRequest.objects.create(task=RECOMPUTE_INDEX_TASK, args=[period.pk], period=period)
    WorkRequest.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timezone.timedelta(minutes=10))

    response = client.get("/readyz")

    assert response.status_code == 503 and response.json()["components"]["outbox"]["status"] == "fail"


def test_the_work_panel_polls_while_work_is_unfinished_and_stops_when_done(period, client):
    request = WorkRequest.objects.create(task=RECOMPUTE_INDEX_TASK, args=[period.pk], period=period,
                                         state=WorkState.QUEUED)
    client.force_login(User.objects.get(username="methodologist"))

    polling = client.get(reverse("indices:work")).content.decode()
    assert 'hx-trigger="every 2s"' in polling and "已完成 0 / 1（0 %）" in polling

    WorkRequest.objects.filter(pk=request.pk).update(state=WorkState.DONE, result={"run": 7})
    done = client.get(reverse("indices:work")).content.decode()
    assert "hx-trigger" not in done and "已完成 1 / 1（100 %）" in done and 'data-state="done"' in done

    WorkRequest.objects.filter(pk=request.pk).update(state=WorkState.FAILED, error="EngineError: no data")
    failed = client.get(reverse("indices:work")).content.decode()
    assert 'data-testid="work-next"' in failed and "EngineError: no data" in failed


def test_the_work_panel_is_for_the_secretariat_only(period, client):
    client.force_login(User.objects.get(username="auditadmin"))
    assert client.get(reverse("indices:work")).status_code == 403


def test_a_request_already_waiting_is_reused_not_repeated(period, django_capture_on_commit_callbacks):
    from indices.outbox import BUILD_REPORT_TASK, work_request, work_requests

    with django_capture_on_commit_callbacks(execute=False):
        first = work_request(task=RECOMPUTE_INDEX_TASK, args=[period.pk], period_id=period.pk)
        again = work_request(task=RECOMPUTE_INDEX_TASK, args=[period.pk], period_id=period.pk)
        builds = work_requests(task=BUILD_REPORT_TASK, args_list=[[1, "white_paper", "en"], [1, "city", "en", "x"]])
        repeated = work_requests(task=BUILD_REPORT_TASK, args_list=[[1, "city", "en", "x"], [1, "city", "en", "y"]])

    assert again.pk == first.pk and repeated[0].pk == builds[1].pk and repeated[1].pk not in {b.pk for b in builds}
    assert WorkRequest.objects.count() == 4
