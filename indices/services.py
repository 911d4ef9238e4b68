"""Services of the indices app: functions that change state, each in one transaction."""
import dataclasses
import datetime
import math
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from indices.engine import spec as methodology_spec_module
from indices.engine.compute import ENGINE_VERSION, compute, input_hash
from indices.engine.errors import EngineError
from indices.engine.spec import MethodologySpec, NodeSpec
from indices.models import (
    IndexRun,
    Indicator,
    IndicatorKind,
    MethodologyFrozenError,
    MethodologyNode,
    MethodologyState,
    MethodologyVersion,
    RunState,
    Score,
    ValidationRule,
    render_problem,
)
from indices.reports.services import reports_enqueue_for_run
from indices.selectors import (
    IndexInputs,
    index_inputs,
    methodology_spec,
    methodology_spec_fresh,
    user_sees_provisional,
)
from reporting.models import City
from reporting.selectors import user_is_methodologist
from reporting.services import audit_record

VERSION_EXISTS_MESSAGE = gettext_noop("Methodology %(code)s %(version)s already exists.")
NOT_PUBLISHABLE_MESSAGE = gettext_noop("Methodology %(code)s %(version)s cannot be published:")
NOT_PUBLISHED_MESSAGE = gettext_noop(
    "Only a published methodology can be retired; %(code)s %(version)s is %(state)s."
)


def _spec_to_rows(*, spec: MethodologySpec, version: MethodologyVersion) -> None:
    def add(item, parent: MethodologyNode | None, position: int) -> None:
        names = dict(version=version, code=item.code, name_zh=item.name_zh, name_en=item.name_en, position=position)
        if isinstance(item, NodeSpec):
            node = MethodologyNode.objects.create(
                **names, parent=parent, weight=item.weight, aggregation=item.aggregation
            )
            for index, child in enumerate(item.children, start=1):
                add(child, node, index)
        else:
            Indicator.objects.create(
                **names, **_variable_values(item), kind=IndicatorKind.SCORED, parent=parent,
                weight=item.weight, direction=item.direction, normalisation=item.normalisation,
                normalisation_params=dict(item.normalisation_params), log_transform=item.log_transform,
            )

    add(spec.root, None, 1)
    for index, rule in enumerate(spec.rules, start=1):
        ValidationRule.objects.create(
            version=version, code=rule.code, name_zh=rule.name_zh, name_en=rule.name_en, position=index,
            target=rule.target, expression=rule.expression, tolerance_kind=rule.tolerance_kind,
            tolerance=rule.tolerance, severity=rule.severity,
        )
    for index, variable in enumerate(spec.context_variables, start=1):
        Indicator.objects.create(
            version=version, code=variable.code, name_zh=variable.name_zh, name_en=variable.name_en,
            position=index, kind=IndicatorKind.CONTEXT, **_variable_values(variable),
        )


def _variable_values(variable) -> dict:
    return dict(
        unit_zh=variable.unit_zh, unit_en=variable.unit_en, decimals=variable.decimals,
        definition_zh=variable.definition_zh, definition_en=variable.definition_en,
        **dataclasses.asdict(variable.bounds),
    )


def methodology_create_from_spec(
    *, spec: MethodologySpec, actor, cloned_from: MethodologyVersion | None = None
) -> MethodologyVersion:
    """A new draft version holding ``spec``; refuses a code and version label already taken."""
    with transaction.atomic():
        try:
            # A savepoint: the unique constraint decides, even when two requests race for one label.
            with transaction.atomic():
                version = MethodologyVersion.objects.create(
                    code=spec.code, version=spec.version, title_zh=spec.title_zh, title_en=spec.title_en,
                    notes=spec.notes, cloned_from=cloned_from,
                    engine_settings=methodology_spec_module.engine_document(spec.engine),
                    check_severities=dataclasses.asdict(spec.checks),
                )
        except IntegrityError:
            raise ValidationError(_(VERSION_EXISTS_MESSAGE), code="exists",
                                  params={"code": spec.code, "version": spec.version}) from None
        _spec_to_rows(spec=spec, version=version)
        audit_record(
            actor=actor, event_type="methodology.clone" if cloned_from else "methodology.create", obj=version,
            details={"cloned_from": str(cloned_from)} if cloned_from else {},
        )
    return version


def methodology_import(*, text: str, actor, version_label: str | None = None) -> MethodologyVersion:
    """A new draft from a JSON document; an invalid document raises DocumentError and changes nothing."""
    spec = methodology_spec_module.loads(text)
    if version_label:
        spec = dataclasses.replace(spec, version=version_label)
    return methodology_create_from_spec(spec=spec, actor=actor)


def methodology_clone(*, version: MethodologyVersion, actor, new_version: str) -> MethodologyVersion:
    """A deep copy of ``version`` (any state) as a new draft."""
    spec = dataclasses.replace(methodology_spec(version=version), version=new_version)
    return methodology_create_from_spec(spec=spec, actor=actor, cloned_from=version)


def methodology_publish_problems(*, version: MethodologyVersion) -> list[str]:
    """What stops the version from being published, in the active language; empty when it may be."""
    spec = methodology_spec(version=version)
    roots = MethodologyNode.objects.filter(version=version, parent__isnull=True).count()
    problems = [render_problem(problem) for problem in methodology_spec_module.publish_problems(spec)]
    if roots != 1:
        problems.insert(0, _("the tree must have exactly one root node, it has %(count)s") % {"count": roots})
    reachable = {item.code for _path, _parent, item in spec.walk()}
    stored = set(MethodologyNode.objects.filter(version=version).values_list("code", flat=True)) | set(
        Indicator.objects.filter(version=version, kind=IndicatorKind.SCORED).values_list("code", flat=True))
    if stored - reachable:
        problems.append(_("not reachable from the root of the tree: %(codes)s")
                        % {"codes": ", ".join(sorted(stored - reachable))})
    return problems


@transaction.atomic
def methodology_publish(*, version: MethodologyVersion, actor) -> MethodologyVersion:
    """Validate, then freeze: a published version is never edited again."""
    # Lock the row so that two methodologists publishing at once cannot both pass the check.
    version = MethodologyVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_draft:
        raise MethodologyFrozenError(version)
    problems = methodology_publish_problems(version=version)
    if problems:
        raise ValidationError(
            [_(NOT_PUBLISHABLE_MESSAGE) % {"code": version.code, "version": version.version}, *problems],
            code="not_publishable",
        )
    version.state = MethodologyState.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor if actor is not None and actor.is_authenticated else None
    version.save(update_fields=["state", "published_at", "published_by"])
    audit_record(actor=actor, event_type="methodology.publish", obj=version)
    return version


@transaction.atomic
def methodology_retire(*, version: MethodologyVersion, actor) -> MethodologyVersion:
    version = MethodologyVersion.objects.select_for_update().get(pk=version.pk)
    if version.state != MethodologyState.PUBLISHED:
        raise ValidationError(_(NOT_PUBLISHED_MESSAGE), code="not_published", params={
            "code": version.code, "version": version.version, "state": version.get_state_display()})
    version.state = MethodologyState.RETIRED
    version.save(update_fields=["state"])
    audit_record(actor=actor, event_type="methodology.retire", obj=version)
    return version




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
    inserts the row, the others find it. A failed run, or one left running by a lost worker (past
    the task's hard time limit), is claimed again by a conditional update that only one caller wins.
    """
    now = timezone.now()
    run, created = IndexRun.objects.get_or_create(
        period=period, input_hash=digest,
        defaults=dict(methodology=methodology, engine_version=ENGINE_VERSION, state=RunState.RUNNING,
                      is_provisional=not inputs.is_complete, units=len(inputs.units), started_at=now,
                      inputs=inputs.document()),
    )
    if created:
        return run, True
    abandoned_before = now - datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    reclaimable = Q(state=RunState.FAILED) | Q(state=RunState.RUNNING, started_at__lt=abandoned_before)
    won = IndexRun.objects.filter(reclaimable, pk=run.pk).update(state=RunState.RUNNING, started_at=now, error="")
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
    digest = input_hash(methodology=spec, units=inputs.units, values=inputs.values, previous=inputs.previous)
    loaded = time.perf_counter()
    run, ours = _claim(period=period, methodology=methodology, digest=digest, inputs=inputs)
    if not ours:
        return run
    try:
        result = compute(methodology=spec, units=inputs.units, values=inputs.values, previous=inputs.previous,
                         uncertainty=True, sensitivity=True, uncertainty_nodes=_uncertainty_nodes(spec))
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
def index_recompute_request(*, period, actor, ip_address: str | None = None) -> None:
    """Queue a recompute of the period's index by hand, audited. Queued at once, not on commit as after
    an approval: nothing the task reads changes here."""
    from indices.tasks import recompute_index_task  # indices.tasks imports this module

    if not user_sees_provisional(actor):
        raise PermissionDenied(_(NOT_SECRETARIAT_MESSAGE))
    audit_record(actor=actor, event_type="index_run.recompute_request", obj=period, ip_address=ip_address)
    recompute_index_task.delay(period.pk)


@transaction.atomic
def index_run_publish(*, run: IndexRun, actor, ip_address: str | None = None) -> IndexRun:
    """Make a finished run of every city the period's public result, replacing any run published before."""
    if not user_is_methodologist(actor):
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
    replaced = [previous.pk for previous in runs.filter(published_at__isnull=False).exclude(pk=run.pk)]
    runs.filter(pk__in=replaced).update(published_at=None, published_by=None)
    run.published_at, run.published_by = timezone.now(), actor
    run.save(update_fields=["published_at", "published_by"])
    audit_record(actor=actor, event_type="index_run.publish", obj=run, ip_address=ip_address,
                 details={"input_hash": run.input_hash, "replaced_runs": replaced})
    if settings.REPORTS_BUILD_ON_PUBLISH:
        transaction.on_commit(lambda: reports_enqueue_for_run(run))
    return run
