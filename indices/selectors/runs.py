"""Which runs a reader sees, and what a run holds: its scores, medians, the values it read and its
diagnostics explained.

Reader pages read plain data (dataclasses with both languages' names), so that the HTML pages and the PDF
white paper read the same numbers. Visibility: everyone sees published runs; the secretariat
(accounts.permissions.may_see_provisional) also sees the latest unpublished run, labelled provisional.
"""
import statistics
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.models import City
from accounts.permissions import may_see_provisional
from indices.models import IndexRun, RunState, Score, WorkRequest, WorkState
from methodology.selectors import methodology_spec
from reporting.models import IndicatorReturn, ReportingPeriod, ReturnState


def run_published(*, period) -> IndexRun | None:
    """The period's published run, or None."""
    return IndexRun.objects.published().filter(period=period).select_related("period", "methodology").first()


def run_latest_provisional(*, period) -> IndexRun | None:
    """The period's newest succeeded run that is not published (None when the published run is the newest)."""
    latest = (IndexRun.objects.filter(period=period, state=RunState.SUCCEEDED)
              .select_related("period", "methodology").order_by("-created_at", "-id").first())
    return latest if latest is not None and not latest.is_published else None


def run_for_reader(*, period, user=None, provisional: bool = False) -> IndexRun | None:
    """The run a reader sees for ``period``.

    Everyone gets the published run. A user who may see provisional runs gets the latest
    unpublished one when asking for it (``provisional=True``) or when nothing is published yet.
    """
    return runs_for_reader(period=period, user=user, provisional=provisional)[0]


def runs_for_reader(*, period, user=None,
                    provisional: bool = False) -> tuple[IndexRun | None, IndexRun | None]:
    """The run a reader sees for ``period`` (as ``run_for_reader``) and the other one the secretariat may
    switch to (the provisional run beside the published one and back; None for everyone else), read
    once for both so that a reader page does not fetch them again."""
    published = run_published(period=period)
    if not may_see_provisional(user):
        return published, None
    latest = run_latest_provisional(period=period)
    run = (latest or published) if provisional or published is None else published
    if run is None:
        return None, None
    return run, (latest if run is published else published)


def runs_by_period() -> list[tuple[ReportingPeriod, list[IndexRun]]]:
    """Every period, newest data year first, with its runs newest first (the secretariat's run list)."""
    runs: dict[int, list[IndexRun]] = defaultdict(list)
    # Diagnostics stay loaded: a failed run's translated error (error_display) is read from them.
    listed = IndexRun.objects.select_related("methodology", "published_by").defer("inputs")
    for run in listed.order_by("-created_at", "-id"):
        runs[run.period_id].append(run)
    return [(period, runs[period.pk]) for period in ReportingPeriod.objects.order_by("-data_year")]


@dataclass(frozen=True)
class ReaderPeriod:
    period: ReportingPeriod
    data_year: int
    published: bool  # a published run exists


def ranking_periods(*, user=None) -> list[ReaderPeriod]:
    """Periods with a run ``user`` may see, newest data year first."""
    privileged = may_see_provisional(user)
    runs = (IndexRun.objects.filter(state=RunState.SUCCEEDED).select_related("period").defer("inputs", "diagnostics")
            .order_by("-created_at", "-id"))
    if not privileged:
        runs = runs.published()
    by_period: dict[int, list[IndexRun]] = defaultdict(list)
    for run in runs:
        by_period[run.period_id].append(run)
    result = []
    for newest_first in sorted(by_period.values(), key=lambda period_runs: -period_runs[0].period.data_year):
        period = newest_first[0].period
        result.append(ReaderPeriod(
            period=period, data_year=period.data_year,
            published=any(run.is_published for run in newest_first),
        ))
    return result


def reader_default_period(periods: list[ReaderPeriod]) -> ReaderPeriod | None:
    """The period a reader lands on when none is asked for: the newest published data year, else (for the
    secretariat, before anything is published) the newest year with a run. ``periods`` newest first."""
    return next((entry for entry in periods if entry.published), periods[0] if periods else None)


def run_previous_published(*, run) -> IndexRun | None:
    """The published run of the previous data year (what rank changes are measured against)."""
    return (IndexRun.objects.published().filter(period__data_year=run.period.data_year - 1)
            .select_related("period", "methodology").first())


def run_returns(*, run) -> QuerySet:
    """The returns a run read: per city, the approved revision in force when the run was created."""
    return IndicatorReturn.objects.filter(
        Q(state=ReturnState.APPROVED) | Q(state=ReturnState.SUPERSEDED, superseded_at__gt=run.created_at),
        period_id=run.period_id, approved_at__isnull=False, approved_at__lte=run.created_at,
    ).select_related("city")


def run_is_illustrative(*, run) -> bool:
    """Whether the run's data is the demo's synthetic data (any of its returns is illustrative)."""
    return run_returns(run=run).filter(is_illustrative=True).exists()


def run_scores(*, run, codes=None) -> dict[tuple[int, str], Score]:
    """The run's Score rows keyed by (city id, code), optionally only for ``codes``."""
    scores = Score.objects.filter(run=run)
    if codes is not None:
        scores = scores.filter(code__in=list(codes))
    return {(score.city_id, score.code): score for score in scores}


def run_medians(*, run) -> dict[str, float]:
    """The median score of every node and indicator across the run's cities (cities without a score left out)."""
    by_code: dict[str, list[float]] = defaultdict(list)
    for code, value in Score.objects.filter(run=run, value__isnull=False).values_list("code", "value"):
        by_code[code].append(value)
    return {code: statistics.median(values) for code, values in by_code.items()}


def run_raw_values(*, run, codes=None, city=None) -> dict[int, dict[str, float]]:
    """{city id: {indicator code: reported value}} as the run read them (``IndexRun.inputs``), so an
    amendment approved later does not show through."""
    wanted = set(codes) if codes is not None else None
    stored = run.inputs["values"]
    city_ids = dict(City.objects.filter(code__in=list(stored)).values_list("code", "id"))
    result: dict[int, dict[str, float]] = defaultdict(dict)
    for unit, values in stored.items():
        if unit not in city_ids or (city is not None and city_ids[unit] != city.pk):
            continue
        for code, value in values.items():
            if value is not None and (wanted is None or code in wanted):
                result[city_ids[unit]][code] = value
    return result


@dataclass(frozen=True)
class RunExplanation:
    run: IndexRun
    indicators: list[dict]  # the statistical audit per indicator, with name_zh/name_en
    groups: list[dict]  # Cronbach's alpha per node
    correlation_flags: list[dict]
    sensitivity: list[dict]  # element dropped, its mean absolute rank shift: largest first
    treatments: list[dict]
    imputed_cells: list[dict]


def run_explanation(*, run: IndexRun) -> RunExplanation:
    """The run's diagnostics (availability, treatment, imputation, statistical audit, uncertainty and
    sensitivity) with every code named, as the engine recorded them."""
    spec = methodology_spec(version=run.methodology)
    names = {item.code: (item.name_zh, item.name_en) for _path, _parent, item in spec.walk()}
    diagnostics = run.diagnostics or {}
    audit = diagnostics.get("audit") or {}

    def named(row: dict, key: str = "code") -> dict:
        zh, en = names.get(row[key], (row[key], row[key]))
        return {**row, "name_zh": zh, "name_en": en}

    return RunExplanation(
        run=run,
        indicators=[named(row) for row in audit.get("indicators", [])],
        groups=[named(row) for row in audit.get("groups", [])],
        correlation_flags=[named(row, "first") for row in audit.get("flags", [])],
        sensitivity=sorted((named({"code": code, "shift": shift})
                            for code, shift in (diagnostics.get("sensitivity") or {}).items() if shift is not None),
                           key=lambda row: -row["shift"]),
        treatments=[named(row, "indicator") for row in diagnostics.get("treatments", [])],
        imputed_cells=[named(row, "indicator") for row in diagnostics.get("imputed_cells", [])],
    )


@dataclass(frozen=True)
class WorkPanel:
    """The latest background work (recomputations, report builds) and how far it has got: what the run
    pages show the secretariat, refreshed by itself while anything is unfinished."""

    items: list[WorkRequest]
    run_id: int | None = None

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def finished(self) -> int:
        return sum(item.state in (WorkState.DONE, WorkState.FAILED) for item in self.items)

    @property
    def failed(self) -> int:
        return sum(item.state == WorkState.FAILED for item in self.items)

    @property
    def unfinished(self) -> int:
        return self.total - self.finished

    @property
    def percent(self) -> int:
        return round(100 * self.finished / self.total) if self.total else 100


def work_panel(*, run: IndexRun | None = None, limit: int = 20) -> WorkPanel:
    """The latest ``limit`` work requests (of ``run`` when given: its report builds), newest first."""
    requests = WorkRequest.objects.select_related("period", "run__period", "requested_by")
    if run is not None:
        requests = requests.filter(run=run)
    return WorkPanel(items=list(requests[:limit]), run_id=run.pk if run is not None else None)
