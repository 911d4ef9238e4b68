"""Index runs: computed from approved returns, reused for the same inputs, failed without harm, published."""
from io import StringIO
from unittest import mock

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import OperationalError

from accounts.models import City, User
from audit.models import AuditEvent
from indices.demo import demo_index_ensure, demo_load
from indices.engine.compute import compute
from indices.models import IndexRun, RunState, Score
from indices.selectors import index_inputs
from indices.services import index_run_compute, index_run_publish
from indices.tasks import recompute_index_task
from methodology.models import MethodologyNode
from methodology.selectors import methodology_spec
from methodology.services import methodology_clone, methodology_publish
from reporting.models import IndicatorReturn, ReportingPeriod, ReturnState, ReturnValue
from reporting.services import return_approve

pytestmark = pytest.mark.django_db

CHONGQING = "500000"


@pytest.fixture
def demo(db):
    demo_load()
    return ReportingPeriod.objects.select_related("methodology").get(data_year=2024)


@pytest.fixture
def reviewer(demo):
    return User.objects.get(username="reviewer")


@pytest.fixture
def methodologist(demo):
    return User.objects.get(username="methodologist")


def scores_of(run: IndexRun) -> dict:
    return {(city, code): (value, rank) for city, code, value, rank in
            Score.objects.filter(run=run).values_list("city__code", "code", "value", "rank")}


def geometric_version(period: ReportingPeriod):
    """A published clone of the period's methodology whose index is a geometric mean: min-max gives the
    worst city 0 in some indicator, so the engine refuses it (naming the node and the city)."""
    clone = methodology_clone(version=period.methodology, actor=None, new_version="geo")
    MethodologyNode.objects.filter(version=clone, parent__isnull=False, parent__parent__isnull=False).update(
        aggregation="geometric")
    return methodology_publish(version=clone, actor=None)


def test_a_run_stores_the_engines_scores_and_ranks_for_every_city_and_node(demo):
    run = index_run_compute(period=demo)

    assert run.state == RunState.SUCCEEDED and not run.is_provisional and run.units == 30
    spec = methodology_spec(version=demo.methodology)
    inputs = index_inputs(period=demo, spec=spec)
    expected = compute(methodology=spec, units=inputs.units, values=inputs.values, audit=False)
    stored = scores_of(run)
    assert len(stored) == 30 * len(expected.codes)
    for row, unit in enumerate(expected.units):
        for column, code in enumerate(expected.codes):
            value, rank = stored[(unit, code)]
            assert value == pytest.approx(expected.scores[row, column], abs=1e-12)
            assert rank == expected.ranks[row, column]
    root = Score.objects.get(run=run, city__code=CHONGQING, level=0)
    assert root.rank_p05 <= root.rank_median <= root.rank_p95
    # Bands for the index, the dimensions and the groups (levels 0-2), not for single indicators.
    assert not Score.objects.filter(run=run, level__lte=2, rank_p05__isnull=True).exists()
    assert Score.objects.filter(run=run, level=2).count() == 30 * 12
    assert not Score.objects.filter(run=run, level=3, rank_p05__isnull=False).exists()
    assert run.diagnostics["input_hash"] == run.input_hash
    assert run.diagnostics["uncertainty"]["valid_samples"] == 1000
    assert run.inputs["values"][CHONGQING]["M2.1"] == float(ReturnValue.objects.get(
        indicator_return__city__code=CHONGQING, indicator_return__period=demo, indicator__code="M2.1").value)
    assert set(run.timings) == {"load", "compute", "store"}


def test_the_same_inputs_reuse_the_run_and_a_changed_value_makes_a_new_one(demo):
    first = index_run_compute(period=demo)
    before = scores_of(first)

    assert index_run_compute(period=demo).pk == first.pk
    value = ReturnValue.objects.get(indicator_return__city__code=CHONGQING, indicator_return__period=demo,
                                    indicator__code="M2.1")
    value.value *= 2
    value.save()
    second = index_run_compute(period=demo)

    assert second.pk != first.pk and second.input_hash != first.input_hash
    assert IndexRun.objects.filter(period=demo).count() == 2
    assert scores_of(first) == before
    assert scores_of(second)[(CHONGQING, "M2.1")] != before[(CHONGQING, "M2.1")]


def test_a_run_without_every_city_is_provisional(demo):
    IndicatorReturn.objects.filter(period=demo, city__code=CHONGQING).update(state=ReturnState.SUBMITTED)

    run = index_run_compute(period=demo)

    assert run.is_provisional and run.units == 29
    assert not Score.objects.filter(run=run, city__code=CHONGQING).exists()


def test_an_engine_error_fails_the_run_with_its_message_and_keeps_the_published_run(demo):
    published = demo_index_ensure()[1].run
    before = scores_of(published)

    failed = index_run_compute(period=demo, methodology=geometric_version(demo))

    assert failed.state == RunState.FAILED and failed.finished_at is not None
    assert "几何" in failed.error or "geometric" in failed.error
    assert not Score.objects.filter(run=failed).exists()
    published.refresh_from_db()
    assert published.is_published and scores_of(published) == before


def test_a_failed_run_is_tried_again_by_the_next_call(demo):
    version = geometric_version(demo)
    failed = index_run_compute(period=demo, methodology=version)
    MethodologyNode.objects.filter(version=version).update(aggregation="arithmetic")  # test-only repair

    with mock.patch("indices.services.input_hash", return_value=failed.input_hash):
        retried = index_run_compute(period=demo, methodology=version)

    assert retried.pk == failed.pk and retried.state == RunState.SUCCEEDED and retried.error == ""


def test_a_draft_methodology_is_refused_for_a_stored_run(demo):
    draft = methodology_clone(version=demo.methodology, actor=None, new_version="draft")

    with pytest.raises(ValidationError, match="草稿|draft"):
        index_run_compute(period=demo, methodology=draft)


def test_only_a_methodologist_publishes_a_complete_finished_run(demo, reviewer, methodologist):
    run = index_run_compute(period=demo)
    with pytest.raises(PermissionDenied):
        index_run_publish(run=run, actor=reviewer)

    IndicatorReturn.objects.filter(period=demo, city__code=CHONGQING).update(state=ReturnState.SUBMITTED)
    provisional = index_run_compute(period=demo)
    with pytest.raises(ValidationError, match="29"):
        index_run_publish(run=provisional, actor=methodologist)
    failed = index_run_compute(period=demo, methodology=geometric_version(demo))
    with pytest.raises(ValidationError):
        index_run_publish(run=failed, actor=methodologist)

    published = index_run_publish(run=run, actor=methodologist)
    assert published.is_published and published.published_by == methodologist
    assert AuditEvent.objects.filter(event_type="index_run.publish", object_id=str(run.pk)).exists()


def test_publishing_a_newer_run_replaces_the_published_one(demo, methodologist):
    first = index_run_publish(run=index_run_compute(period=demo), actor=methodologist)
    ReturnValue.objects.filter(indicator_return__period=demo, indicator__code="M1.1").update(value=1)
    second = index_run_publish(run=index_run_compute(period=demo), actor=methodologist)

    first.refresh_from_db()
    assert not first.is_published and second.is_published
    event = AuditEvent.objects.get(event_type="index_run.publish", object_id=str(second.pk))
    assert event.details["replaced_runs"] == [first.pk]


def test_approval_recomputes_the_period_after_the_commit(demo, reviewer, django_capture_on_commit_callbacks):
    chongqing = IndicatorReturn.objects.get(period=demo, city__code=CHONGQING)
    IndicatorReturn.objects.filter(pk=chongqing.pk).update(state=ReturnState.SUBMITTED)

    with django_capture_on_commit_callbacks(execute=True):
        return_approve(indicator_return=chongqing, actor=reviewer)

    run = IndexRun.objects.get(period=demo)
    assert run.state == RunState.SUCCEEDED and not run.is_provisional


def test_the_task_retries_a_lost_database_connection(demo):
    real = index_run_compute
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    with mock.patch("indices.tasks.index_run_compute", side_effect=flaky):
        result = recompute_index_task.apply(args=[demo.pk], throw=False)

    assert len(calls) == 2 and result.successful()
    assert result.get()["state"] == RunState.SUCCEEDED


def test_recompute_index_command(demo):
    out = StringIO()
    call_command("recompute_index", "--period", "2024", stdout=out)
    run = IndexRun.objects.get(period=demo)
    assert f"run {run.input_hash[:12]} succeeded, 30 cities (complete)" in out.getvalue()

    with pytest.raises(CommandError, match="1999"):
        call_command("recompute_index", "--period", "1999")


def test_load_demo_ends_with_a_published_index_for_both_years(demo):
    outcomes = demo_index_ensure()

    assert [(outcome.data_year, outcome.published) for outcome in outcomes] == [(2023, True), (2024, True)]
    assert IndexRun.objects.filter(published_at__isnull=False).count() == 2
    assert [outcome.published for outcome in demo_index_ensure()] == [False, False]
    assert IndexRun.objects.count() == 2
    assert City.objects.count() == 30
    ranks = sorted(Score.objects.filter(run=outcomes[1].run, level=0).values_list("rank", flat=True))
    assert ranks == list(range(1, 31)) and np.all(np.diff(ranks) == 1)
