"""Services of the indices app: functions that change state, each in one transaction."""
import datetime
import math
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import City
from accounts.permissions import may_publish_run, may_recompute_index
from audit.services import audit_record
from ccfi_portal.cache import published_changed
from indices.engine.compute import ENGINE_VERSION, compute, input_hash
from indices.engine.errors import EngineError
from indices.engine.spec import MethodologySpec
from indices.models import IndexRun, RunState, Score, WorkRequest
from indices.outbox import RECOMPUTE_INDEX_TASK, process_is_gone, this_process, work_request
from indices.reports.services import reports_request_for_run
from indices.selectors import IndexInputs, index_inputs
from methodology.models import MethodologyVersion
from methodology.selectors import methodology_spec_fresh
from reporting.models import IndicatorReturn, ReturnState

# Index runs.

RUN_NOT_SUCCEEDED_MESSAGE = gettext_noop("Only a finished run can be published; this run is %(state)s.")
RUN_PROVISIONAL_MESSAGE = gettext_noop(
    "This run is provisional: %(count)s of %(total)s cities had an approved return. Publish a run of every city."
)
NOT_METHODOLOGIST_MESSAGE = gettext_noop("Only a methodologist may publish an index run.")
NOT_SECRETARIAT_MESSAGE = gettext_noop("Only the secretariat may recompute an index.")
DRAFT_METHODOLOGY_MESSAGE = gettext_noop(
    "Methodology %(code)s %(version)s is a draft: try it with the what-if page; runs are stored for published versions."
)


def _uncertainty_nodes(spec: MethodologySpec) -> list[str]:
    """Rank bands for every aggregate (the index, dimensions and groups), so that each level of the
    ranking drill-down shows them: one more ranking per node and sample, milliseconds for 30 cities."""
    return [node.code for node in spec.nodes()]


def _claim(*, period, methodology: MethodologyVersion, digest: str, inputs: IndexInputs) -> tuple[IndexRun, bool]:
    """The run for these inputs, and whether this caller computes it.

    The unique (period, input hash) constraint decides between concurrent callers: exactly one
    inserts the row, the others find it. A failed run, or one left running by a lost worker (a process
    of this machine that is gone, or any past the task's hard time limit), is claimed again by a
    conditional update that only one caller wins.
    """
    now, claimant = timezone.now(), this_process()
    run, created = IndexRun.objects.get_or_create(
        period=period, input_hash=digest,
        defaults=dict(methodology=methodology, engine_version=ENGINE_VERSION, state=RunState.RUNNING,
                      is_provisional=not inputs.is_complete, units=len(inputs.units), started_at=now,
                      inputs=inputs.document(), claimed_by=claimant),
    )
    if created:
        return run, True
    abandoned_before = now - datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    reclaimable = Q(state=RunState.FAILED) | Q(state=RunState.RUNNING, started_at__lt=abandoned_before)
    if run.state == RunState.RUNNING and process_is_gone(run.claimed_by):
        reclaimable |= Q(state=RunState.RUNNING, claimed_by=run.claimed_by)
    won = IndexRun.objects.filter(reclaimable, pk=run.pk).update(state=RunState.RUNNING, started_at=now, error="",
                                                                  claimed_by=claimant)
    run.refresh_from_db()
    return run, bool(won)


def _score_rows(*, run: IndexRun, result, city_ids: dict[str, int]) -> list[Score]:
    bands = result.uncertainty.bands if result.uncertainty is not None else {}
    imputed = result.diagnostics.imputed
    indicator_column = {code: column for column, code in enumerate(result.indicator_codes)}
    rows = []
    for row, unit in enumerate(result.units):
        for column, code in enumerate(result.codes):
            value = float(result.scores[row, column])
            band = bands.get(code)
            has_band = band is not None and not math.isnan(band.median[row])
            leaf = indicator_column.get(code)
            rows.append(Score(
                run=run, city_id=city_ids[unit], code=code, level=result.levels[code],
                value=None if math.isnan(value) else value, rank=int(result.ranks[row, column]) or None,
                rank_p05=float(band.low[row]) if has_band else None,
                rank_median=float(band.median[row]) if has_band else None,
                rank_p95=float(band.high[row]) if has_band else None,
                imputed=bool(imputed[row, leaf]) if leaf is not None else False,
            ))
    return rows


def index_run_compute(*, period, methodology: MethodologyVersion | None = None) -> IndexRun:
    """Compute the period's index from its approved returns and store every city's scores.

    Idempotent: the same inputs (values, methodology, engine) give the same hash, and the run with
    that hash is returned instead of a new one. An engine error marks the run failed with its
    message; runs computed before, and their scores, are never touched.
    """
    methodology = methodology or period.methodology
    if methodology.is_draft:
        raise ValidationError(_(DRAFT_METHODOLOGY_MESSAGE) % {"code": methodology.code,
                                                               "version": methodology.version})
    started = time.perf_counter()
    # Read afresh, not cached: the stored run and its hash must follow the rows as they are now.
    spec = methodology_spec_fresh(version=methodology)
    inputs = index_inputs(period=period, spec=spec)
    digest = input_hash(methodology=spec, units=inputs.units, values=inputs.values, previous=inputs.previous,
                        reference=inputs.reference)
    loaded = time.perf_counter()
    run, ours = _claim(period=period, methodology=methodology, digest=digest, inputs=inputs)
    if not ours:
        return run
    try:
        result = compute(methodology=spec, units=inputs.units, values=inputs.values, previous=inputs.previous,
                         reference=inputs.reference, uncertainty=True, sensitivity=True,
                         uncertainty_nodes=_uncertainty_nodes(spec))
        computed = time.perf_counter()
        city_ids = dict(City.objects.filter(code__in=inputs.units).values_list("code", "id"))
        with transaction.atomic():
            Score.objects.filter(run=run).delete()
            Score.objects.bulk_create(_score_rows(run=run, result=result, city_ids=city_ids), batch_size=2000)
            run.state, run.finished_at = RunState.SUCCEEDED, timezone.now()
            run.diagnostics = result.document()
            run.timings = {"load": round(loaded - started, 4), "compute": round(computed - loaded, 4),
                           "store": round(time.perf_counter() - computed, 4)}
            run.save(update_fields=["state", "finished_at", "diagnostics", "timings"])
    except EngineError as error:
        return index_run_fail(run=run, error=str(error), details={"message": error.message, "params": error.params})
    except Exception as error:
        # Marked failed so that the task's retry can claim the run again; the caller sees the error.
        index_run_fail(run=run, error=f"{type(error).__name__}: {error}")
        raise
    return run


def index_run_fail(*, run: IndexRun, error: str, details: dict | None = None) -> IndexRun:
    """Mark a run failed with its error (in English; ``details`` keeps the engine's message template and
    parameters so pages can show it translated); earlier runs stay in place."""
    IndexRun.objects.filter(pk=run.pk, state=RunState.RUNNING).update(
        state=RunState.FAILED, error=error[:2000], finished_at=timezone.now(),
        diagnostics={"error": details} if details else {})
    run.refresh_from_db()
    return run


@transaction.atomic
def index_recompute_request(*, period, actor, ip_address: str | None = None) -> WorkRequest:
    """Ask for a recompute of the period's index by hand, audited in the same transaction; queued after
    the commit (a broker that is down leaves it for the outbox sweep)."""
    if not may_recompute_index(actor):
        raise PermissionDenied(_(NOT_SECRETARIAT_MESSAGE))
    if not IndicatorReturn.objects.filter(period=period, state=ReturnState.APPROVED).exists():
        raise ValidationError(_("The %(year)s index cannot be computed yet: no return of that year is approved.")
                              % {"year": period.data_year}, code="nothing_approved")
    audit_record(actor=actor, event_type="index_run.recompute_request", obj=period, ip_address=ip_address)
    return work_request(task=RECOMPUTE_INDEX_TASK, args=[period.pk], period_id=period.pk, actor=actor)


@transaction.atomic
def index_run_publish(*, run: IndexRun, actor, ip_address: str | None = None) -> IndexRun:
    """Make a finished run of every city the period's public result, replacing any run published before."""
    if not may_publish_run(actor):
        raise PermissionDenied(_(NOT_METHODOLOGIST_MESSAGE))
    # Lock the period's runs: two methodologists publishing at once cannot both replace the old one.
    runs = IndexRun.objects.select_for_update().filter(period_id=run.period_id)
    run = runs.get(pk=run.pk)
    if not run.is_publishable:  # say which part of the rule fails
        if run.state != RunState.SUCCEEDED:
            raise ValidationError(_(RUN_NOT_SUCCEEDED_MESSAGE) % {"state": run.get_state_display()},
                                  code="not_succeeded")
        raise ValidationError(_(RUN_PROVISIONAL_MESSAGE) % {"count": run.units, "total": City.objects.count()},
                              code="provisional")
    replaced = [previous.pk for previous in runs.published().exclude(pk=run.pk)]
    runs.filter(pk__in=replaced).update(published_at=None, published_by=None)
    latest_edition = max((edition for edition in runs.values_list("edition", flat=True) if edition), default=0)
    run.published_at, run.published_by = timezone.now(), actor
    run.edition, run.replaces_id = latest_edition + 1, replaced[0] if replaced else None
    run.save(update_fields=["published_at", "published_by", "edition", "replaces"])
    audit_record(actor=actor, event_type="index_run.publish", obj=run, ip_address=ip_address,
                 details={"input_hash": run.input_hash, "replaced_runs": replaced, "edition": run.edition})
    published_changed()  # cached published reads (rankings, profiles, methodology) are stale from now on
    if settings.REPORTS_BUILD_ON_PUBLISH:
        reports_request_for_run(run, actor=actor)
    return run
