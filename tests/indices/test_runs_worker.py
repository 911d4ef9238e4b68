"""Recomputation through a real Celery worker process over Redis (two worker threads, so two deliveries
of one task really run at the same time)."""
import time

import pytest

from accounts.models import User
from indices.demo import demo_index_ensure, demo_load
from indices.models import IndexRun, RunState, Score, WorkRequest, WorkState
from indices.outbox import RECOMPUTE_INDEX_TASK
from indices.tasks import recompute_index_task
from reporting.models import IndicatorReturn, ReportingPeriod, ReturnState
from reporting.services import return_approve
from tests.indices.test_runs import geometric_version, scores_of

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_period(db) -> ReportingPeriod:
    demo_load()
    return ReportingPeriod.objects.select_related("methodology").get(data_year=2024)


def test_approving_the_last_return_makes_exactly_one_run_even_when_the_task_is_delivered_twice(
        celery_worker_process, demo_period):
    last = IndicatorReturn.objects.get(period=demo_period, city__code="500000")
    IndicatorReturn.objects.filter(pk=last.pk).update(state=ReturnState.SUBMITTED)

    return_approve(indicator_return=last, actor=User.objects.get(username="reviewer"))  # handed over on commit
    again = recompute_index_task.delay(demo_period.pk)  # the broker delivers the same work again

    outcome = again.get(timeout=90)
    request = WorkRequest.objects.get(task=RECOMPUTE_INDEX_TASK, period=demo_period)
    deadline = time.monotonic() + 90
    while request.state != WorkState.DONE and time.monotonic() < deadline:
        time.sleep(0.2)
        request.refresh_from_db()
    run = IndexRun.objects.get(period=demo_period)
    assert request.state == WorkState.DONE and {outcome["run"], request.result["run"]} == {run.pk}
    assert run.state == RunState.SUCCEEDED and not run.is_provisional
    assert Score.objects.filter(run=run, level=0).count() == 30


def test_a_failing_task_leaves_the_published_scores_untouched(celery_worker_process, demo_period):
    published = demo_index_ensure()[1].run
    before = scores_of(published)
    ReportingPeriod.objects.filter(pk=demo_period.pk).update(methodology=geometric_version(demo_period))

    outcome = recompute_index_task.delay(demo_period.pk).get(timeout=90)

    failed = IndexRun.objects.get(pk=outcome["run"])
    assert failed.state == RunState.FAILED and failed.error
    assert not Score.objects.filter(run=failed).exists()
    published.refresh_from_db()
    assert published.is_published
    assert scores_of(published) == before
