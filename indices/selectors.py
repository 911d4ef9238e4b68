"""Selectors of the indices app: functions that read."""
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

import numpy as np
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext

from accounts.models import City
from accounts.permissions import may_see_provisional
from indices.engine.compute import compute
from indices.engine.errors import EngineError
from indices.engine.results import EngineResult
from indices.engine.spec import MethodologySpec, NodeSpec
from indices.engine.tree import declared_weights, effective_weights, plan_tree, sibling_shares
from indices.models import IndexRun, RunState, Score
from methodology.models import MethodologyState, MethodologyVersion
from methodology.selectors import methodology_spec
from reporting.models import ReportingPeriod, ReturnState, ReturnValue


@dataclass(frozen=True, eq=False)
class IndexInputs:
    """What the engine reads for a period: the cities with an approved return and their values."""

    units: tuple[str, ...]  # city codes, in a fixed order
    indicator_codes: tuple[str, ...]  # the columns of values: the methodology's indicators in tree order
    values: np.ndarray  # units × indicators, NaN = missing
    previous: np.ndarray  # last data year's approved values of the same cities (NaN where none)
    context: dict[str, dict[str, float]]  # context variables by city code (reported, not scored)
    cities_total: int | None = None  # None where not counted: previews never ask whether inputs are complete

    @property
    def is_complete(self) -> bool:
        return len(self.units) == self.cities_total

    def document(self) -> dict:
        """Every value read, as JSON data (stored on the run, so it stays reproducible after amendments)."""
        def rows(matrix):
            return {unit: {code: (None if np.isnan(value) else float(value))
                           for code, value in zip(self.indicator_codes, row, strict=True)}
                    for unit, row in zip(self.units, matrix, strict=True)}
        return {"units": list(self.units), "indicators": list(self.indicator_codes), "values": rows(self.values),
                "previous": rows(self.previous), "context": self.context}


def index_inputs(*, period: ReportingPeriod, spec: MethodologySpec,
                 replace: dict[str, dict[str, float | None]] | None = None) -> IndexInputs:
    """The approved values of ``period`` laid out for ``spec`` (matched by indicator code, so a draft
    methodology can be tried on the same data). ``replace`` swaps in one city's values, e.g. a
    submitted return's, to preview what approving it would do."""
    current, earlier = _period_values(period)
    return _laid_out(spec, {**current, **(replace or {})}, earlier, cities_total=City.objects.count())


def _period_values(period: ReportingPeriod) -> tuple[dict[str, dict], dict[str, dict]]:
    """The approved values of ``period`` and of the data year before it, by city code and indicator code."""
    return _approved_values(period_id=period.pk), _approved_values(data_year=period.data_year - 1)


def _laid_out(spec: MethodologySpec, current: dict[str, dict], earlier: dict[str, dict],
              cities_total: int | None = None) -> IndexInputs:
    """Values by city and code as the engine's matrices; apart from ``index_inputs`` so that a preview can
    lay out the same loaded values twice (before and after a return) without reading them again."""
    indicator_codes = tuple(indicator.code for indicator in spec.indicators())
    context_codes = {variable.code for variable in spec.context_variables}
    units = tuple(sorted(current))
    return IndexInputs(
        units=units, indicator_codes=indicator_codes,
        values=_matrix(current, units, indicator_codes), previous=_matrix(earlier, units, indicator_codes),
        context={unit: {code: value for code, value in current[unit].items() if code in context_codes}
                 for unit in units},
        cities_total=cities_total,
    )


def _approved_values(*, period_id: int | None = None, data_year: int | None = None) -> dict[str, dict]:
    period_filter = ({"indicator_return__period_id": period_id} if period_id is not None
                     else {"indicator_return__period__data_year": data_year})
    rows = ReturnValue.objects.filter(indicator_return__state=ReturnState.APPROVED, **period_filter).values_list(
        "indicator_return__city__code", "indicator__code", "value")
    result: dict[str, dict[str, float | None]] = defaultdict(dict)
    for city, code, value in rows:
        result[city][code] = None if value is None else float(value)
    return result


def _matrix(values: dict[str, dict], units: tuple[str, ...], codes: tuple[str, ...]) -> np.ndarray:
    matrix = np.full((len(units), len(codes)), np.nan)
    for row, unit in enumerate(units):
        for column, code in enumerate(codes):
            value = values.get(unit, {}).get(code)
            if value is not None:
                matrix[row, column] = value
    return matrix


# Reader pages: which runs a user may see, rankings, drill-downs, city profiles and the methodology
# for readers. Plain data out (dataclasses with both languages' names), so that the HTML pages and
# the PDF white paper read the same numbers. Visibility: everyone sees published runs; the secretariat
# (accounts.permissions.may_see_provisional) also sees the latest unpublished run, labelled provisional.

def run_published(*, period) -> IndexRun | None:
    """The period's published run, or None."""
    return IndexRun.objects.published().filter(period=period).select_related("period", "methodology").first()


def run_latest_provisional(*, period) -> IndexRun | None:
    """The period's newest succeeded run that is not published (None when the published run is the newest)."""
    latest = (IndexRun.objects.filter(period=period, state=RunState.SUCCEEDED)
              .select_related("period", "methodology").order_by("-created_at", "-id").first())
    return latest if latest is not None and latest.published_at is None else None


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


def run_is_published(run) -> bool:
    return run.published_at is not None


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
            published=any(run.published_at is not None for run in newest_first),
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
    from django.db.models import Q

    from reporting.models import IndicatorReturn

    return IndicatorReturn.objects.filter(
        Q(state=ReturnState.APPROVED) | Q(state=ReturnState.SUPERSEDED, superseded_at__gt=run.created_at),
        period_id=run.period_id, approved_at__isnull=False, approved_at__lte=run.created_at,
    ).select_related("city")


def run_is_illustrative(*, run) -> bool:
    """Whether the run's data is the demo's synthetic data (any of its returns is illustrative)."""
    return run_returns(run=run).filter(is_illustrative=True).exists()


# The tree as readers see it.

@dataclass(frozen=True)
class ReaderItem:
    """A node or an indicator of the tree with what a reader needs to understand its score."""

    code: str
    name_zh: str
    name_en: str
    level: int  # 0 the index, 1 dimensions, 2 groups, 3 indicators
    parent: str | None
    children: tuple[str, ...]
    is_indicator: bool
    weight: float  # share among its siblings
    effective_weight: float  # weight in the index (root 1)
    aggregation: str = ""  # nodes
    unit_zh: str = ""  # indicators
    unit_en: str = ""
    direction: int = 1
    decimals: int = 2
    normalisation: str = ""
    normalisation_params: dict = field(default_factory=dict)
    log_transform: bool = False
    definition_zh: str = ""
    definition_en: str = ""

    @property
    def is_group(self) -> bool:
        return self.level == 2 and not self.is_indicator


@dataclass(frozen=True)
class ReaderTree:
    items: tuple[ReaderItem, ...]  # tree order, root first
    weighting: str  # explicit, equal or entropy
    weights_from_run: bool  # effective weights as a run computed them (else from the document)
    normalisation_range: tuple[float, float]
    imputation: str

    @cached_property
    def by_code(self) -> dict[str, ReaderItem]:
        return {item.code: item for item in self.items}

    @property
    def root(self) -> ReaderItem:
        return self.items[0]

    def item(self, code: str) -> ReaderItem | None:
        return self.by_code.get(code)

    def children(self, code: str) -> list[ReaderItem]:
        by_code = self.by_code
        return [by_code[child] for child in by_code[code].children]

    def path(self, code: str) -> list[ReaderItem]:
        """The items from the root down to ``code``."""
        by_code, path = self.by_code, []
        item = by_code.get(code)
        while item is not None:
            path.append(item)
            item = by_code.get(item.parent) if item.parent else None
        return path[::-1]

    def groups(self) -> list[ReaderItem]:
        """The groups: nodes two levels below the index (the dimensions when the tree has no groups)."""
        groups = [item for item in self.items if item.is_group]
        return groups or [item for item in self.items if item.level == 1 and not item.is_indicator]


def _document_weights(spec: MethodologySpec) -> tuple[dict[str, float], dict[str, float]]:
    """Sibling shares and effective weights from the document alone (every item retained), by the engine's
    own helpers."""
    plan = plan_tree(spec)
    weights = declared_weights(plan, spec.engine.weighting)
    shares = sibling_shares(plan, weights, np.ones(plan.size, dtype=bool))
    effective = effective_weights(plan, shares)
    return (dict(zip(plan.codes, map(float, shares), strict=True)),
            dict(zip(plan.codes, map(float, effective), strict=True)))


def methodology_reader_tree(*, version: MethodologyVersion, run=None) -> ReaderTree:
    """The version's tree with units, directions, methods and effective weights.

    Weights come from ``run.diagnostics`` (what the engine used, e.g. after entropy weighting or
    excluded indicators) when a run is given or the version has a published run; otherwise the
    engine's tree helpers compute them from the document's declared weights.
    """
    spec = methodology_spec(version=version)
    if run is None:
        run = IndexRun.objects.published().filter(methodology=version).order_by("-period__data_year").first()
    diagnostics = (run.diagnostics or {}) if run is not None else {}
    from_run = bool(diagnostics.get("effective_weights"))
    if from_run:
        shares, effective = diagnostics.get("weights") or {}, diagnostics["effective_weights"]
    else:
        shares, effective = _document_weights(spec)
    items: list[ReaderItem] = []

    def visit(item, parent: str | None, level: int) -> None:
        common = dict(
            code=item.code, name_zh=item.name_zh, name_en=item.name_en, level=level, parent=parent,
            weight=float(shares.get(item.code) or 0.0), effective_weight=float(effective.get(item.code) or 0.0),
        )
        if isinstance(item, NodeSpec):
            items.append(ReaderItem(**common, children=tuple(child.code for child in item.children),
                                    is_indicator=False, aggregation=item.aggregation))
            for child in item.children:
                visit(child, item.code, level + 1)
        else:
            items.append(ReaderItem(
                **common, children=(), is_indicator=True, unit_zh=item.unit_zh, unit_en=item.unit_en,
                direction=item.direction, decimals=item.decimals, normalisation=item.normalisation,
                normalisation_params=dict(item.normalisation_params), log_transform=item.log_transform,
                definition_zh=item.definition_zh, definition_en=item.definition_en,
            ))

    visit(spec.root, None, 0)
    return ReaderTree(items=tuple(items), weighting=spec.engine.weighting,
                      weights_from_run=from_run, normalisation_range=tuple(spec.engine.normalisation_range),
                      imputation=spec.engine.imputation)


def methodology_versions_for_reader(*, user=None) -> QuerySet[MethodologyVersion]:
    """Versions a reader may open: published and retired ones; drafts too for those who see provisional runs."""
    versions = MethodologyVersion.objects.order_by("code", "-published_at", "-created_at")
    if not may_see_provisional(user):
        versions = versions.exclude(state=MethodologyState.DRAFT)
    return versions


def methodology_current_for_reader() -> MethodologyVersion | None:
    """The version of the newest published run, else the newest published version."""
    run = IndexRun.objects.published().select_related("methodology").order_by("-period__data_year").first()
    if run is not None:
        return run.methodology
    return (MethodologyVersion.objects.filter(state=MethodologyState.PUBLISHED)
            .order_by("-published_at", "-created_at").first())


# Scores.

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


@dataclass(frozen=True)
class RankingRow:
    """One city in a ranking of one node: its score and rank there and its scores on the node's children."""

    city: City
    rank: int | None
    score: float | None
    children: tuple[float | None, ...]  # the scores of the table's columns, in column order
    previous_rank: int | None  # rank on the same node in the previous data year's published run
    rank_change: int | None  # previous rank − rank: positive moved up
    rank_p05: float | None
    rank_p95: float | None
    imputed: bool
    raw_value: Decimal | float | None = None  # the reported value, for an indicator's ranking


@dataclass(frozen=True)
class RankingTable:
    run: IndexRun
    tree: ReaderTree
    node: ReaderItem  # the node ranked (the index by default)
    columns: tuple[ReaderItem, ...]  # its children
    rows: tuple[RankingRow, ...]
    previous_run: IndexRun | None
    sort: str

    @property
    def path(self) -> list[ReaderItem]:
        return self.tree.path(self.node.code)

    @property
    def has_bands(self) -> bool:
        return any(row.rank_p05 is not None for row in self.rows)


RANKING_SORTS = ("rank", "city", "score", "change", "band")


def _sort_key(sort: str, columns: tuple[ReaderItem, ...]):
    """A key putting missing values last, whatever the direction."""
    codes = [column.code for column in columns]
    key = sort.lstrip("-")

    def value(row: RankingRow):
        if key == "city":
            return row.city.code
        if key == "score":
            return row.score
        if key == "change":
            return row.rank_change
        if key == "band":
            return None if row.rank_p95 is None or row.rank_p05 is None else row.rank_p95 - row.rank_p05
        if key in codes:
            return row.children[codes.index(key)]
        return row.rank

    return value


def ranking_sort(rows, *, sort: str, columns: tuple[ReaderItem, ...] = ()) -> list[RankingRow]:
    """Rows ordered by ``sort``: rank, city, score, change, band or a column code; a leading "-"
    reverses. Rows without the value go last either way; ties keep rank order."""
    value = _sort_key(sort, columns)
    ordered = sorted(rows, key=lambda row: (row.rank is None, row.rank or 0, row.city.code))
    present = [row for row in ordered if value(row) is not None]
    missing = [row for row in ordered if value(row) is None]
    present.sort(key=value, reverse=sort.startswith("-"))
    return present + missing


def ranking_sort_is_valid(sort: str, columns: tuple[ReaderItem, ...] = ()) -> bool:
    return sort.lstrip("-") in (*RANKING_SORTS, *(column.code for column in columns))


def ranking_table(*, run, node_code: str | None = None, sort: str = "rank") -> RankingTable:
    """Every city of ``run`` ranked on one node (the index by default) with its children as columns.

    For the index these are the composite, the dimension scores and the rank band (p05–p95 of the
    Monte Carlo ranks); for a dimension or group, the drill-down to its children; for an indicator,
    its normalised score and the reported value. Rank change is measured against the same node in the
    previous data year's published run. Raises LookupError for a code not in the run's tree.
    """
    tree = methodology_reader_tree(version=run.methodology, run=run)
    node = tree.item(node_code) if node_code else tree.root
    if node is None:
        raise LookupError(node_code)
    columns = tuple(tree.children(node.code))
    scores = run_scores(run=run, codes=[node.code, *(column.code for column in columns)])
    previous_run = run_previous_published(run=run)
    previous = run_scores(run=previous_run, codes=[node.code]) if previous_run is not None else {}
    raw = _raw_values(run=run, codes=[node.code]) if node.is_indicator else {}
    city_ids = {city_id for city_id, _code in scores}
    rows = []
    for city in City.objects.filter(pk__in=city_ids):
        score = scores.get((city.pk, node.code))
        before = previous.get((city.pk, node.code))
        rank = score.rank if score is not None else None
        previous_rank = before.rank if before is not None else None
        child_scores = [scores.get((city.pk, column.code)) for column in columns]
        rows.append(RankingRow(
            city=city, rank=rank, score=score.value if score is not None else None,
            children=tuple(child.value if child is not None else None for child in child_scores),
            previous_rank=previous_rank,
            rank_change=previous_rank - rank if rank is not None and previous_rank is not None else None,
            rank_p05=score.rank_p05 if score is not None else None,
            rank_p95=score.rank_p95 if score is not None else None,
            imputed=bool(score is not None and score.imputed),
            raw_value=raw.get(city.pk, {}).get(node.code),
        ))
    if not ranking_sort_is_valid(sort, columns):
        sort = "rank"
    return RankingTable(run=run, tree=tree, node=node, columns=columns,
                        rows=tuple(ranking_sort(rows, sort=sort, columns=columns)),
                        previous_run=previous_run, sort=sort)


def _raw_values(*, run, codes=None, city=None) -> dict[int, dict[str, float]]:
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


# City profiles.

@dataclass(frozen=True)
class ProfileItem:
    """One node or indicator of a city's profile."""

    item: ReaderItem
    score: float | None
    rank: int | None
    median: float | None  # across the run's cities
    rank_p05: float | None
    rank_p95: float | None
    imputed: bool
    raw_value: Decimal | float | None = None  # indicators: the reported value

    @property
    def difference(self) -> float | None:
        """Score minus the median: positive is above the middle city."""
        if self.score is None or self.median is None:
            return None
        return self.score - self.median


@dataclass(frozen=True)
class HistoryPoint:
    data_year: int
    run: IndexRun
    score: float | None
    rank: int | None
    cities: int  # cities ranked that year
    published: bool


@dataclass(frozen=True)
class CityProfile:
    city: City
    run: IndexRun
    tree: ReaderTree
    items: tuple[ProfileItem, ...]  # tree order, root first
    strengths: tuple[ProfileItem, ...]  # groups furthest above the median, largest gap first
    weaknesses: tuple[ProfileItem, ...]  # groups furthest below the median, largest gap first
    history: tuple[HistoryPoint, ...]  # oldest data year first
    cities: int  # cities ranked in this run

    @cached_property
    def by_code(self) -> dict[str, ProfileItem]:
        return {entry.item.code: entry for entry in self.items}

    @property
    def composite(self) -> ProfileItem:
        return self.items[0]

    @property
    def groups(self) -> list[ProfileItem]:
        codes = {item.code for item in self.tree.groups()}
        return [entry for entry in self.items if entry.item.code in codes]


def strengths_and_weaknesses(gaps, *, top: int = 3) -> tuple[list, list]:
    """The items of ``(gap to the median, item)`` pairs farthest above and farthest below the median,
    ``top`` of each (an item on the median is neither; ties keep the given order). One rule for the
    profile page and the reports, so they name the same strengths."""
    gaps = list(gaps)
    strengths = [item for gap, item in sorted(gaps, key=lambda entry: -entry[0]) if gap > 0]
    weaknesses = [item for gap, item in sorted(gaps, key=lambda entry: entry[0]) if gap < 0]
    return strengths[:top], weaknesses[:top]


def city_profile(*, run, city, top: int = 3) -> CityProfile:
    """A city's scores and ranks at every level of ``run`` against each node's median across cities.

    Strengths are the ``top`` groups with the largest positive gap to the median, weaknesses the
    ``top`` with the largest negative gap (a group on the median is neither). History lists the
    published runs of every data year (with ``run`` itself standing for its year when it is not
    published), so readers see only published years unless they were shown a provisional run.
    Raises LookupError when the city has no score in the run.
    """
    tree = methodology_reader_tree(version=run.methodology, run=run)
    scores = {score.code: score for score in Score.objects.filter(run=run, city=city)}
    if not scores:
        raise LookupError(city.code)
    medians = run_medians(run=run)
    raw = _raw_values(run=run, city=city).get(city.pk, {})
    items = []
    for item in tree.items:
        score = scores.get(item.code)
        items.append(ProfileItem(
            item=item, score=score.value if score is not None else None,
            rank=score.rank if score is not None else None, median=medians.get(item.code),
            rank_p05=score.rank_p05 if score is not None else None,
            rank_p95=score.rank_p95 if score is not None else None,
            imputed=bool(score is not None and score.imputed), raw_value=raw.get(item.code),
        ))
    group_codes = {item.code for item in tree.groups()}
    strengths, weaknesses = strengths_and_weaknesses(
        ((entry.difference, entry) for entry in items
         if entry.item.code in group_codes and entry.difference is not None), top=top)

    root = tree.root.code
    runs = {published.period.data_year: published for published in IndexRun.objects.published()
            .select_related("period").defer("inputs", "diagnostics")}
    runs[run.period.data_year] = run
    history_scores = {score.run_id: score for score in Score.objects.filter(
        run__in=list(runs.values()), city=city, code=root)}
    counts = dict(Score.objects.filter(run__in=list(runs.values()), code=root, rank__isnull=False)
                  .values("run").annotate(count=models.Count("id")).values_list("run", "count"))
    history = []
    for year in sorted(runs):
        year_run = runs[year]
        score = history_scores.get(year_run.pk)
        if score is None:
            continue
        history.append(HistoryPoint(data_year=year, run=year_run, score=score.value, rank=score.rank,
                                    cities=counts.get(year_run.pk, 0), published=year_run.published_at is not None))
    return CityProfile(city=city, run=run, tree=tree, items=tuple(items), strengths=tuple(strengths),
                       weaknesses=tuple(weaknesses), history=tuple(history),
                       cities=counts.get(run.pk, 0))


# Previews: the index computed in memory, nothing stored. A methodologist tries a draft methodology
# on a published run's data (what-if); a reviewer sees what approving a return would do (impact).

def _inputs_from_run(*, run: IndexRun, spec: MethodologySpec) -> IndexInputs:
    """The values a run read, laid out for ``spec`` (matched by indicator code)."""
    stored = run.inputs
    units = tuple(stored["units"])
    codes = tuple(indicator.code for indicator in spec.indicators())
    return IndexInputs(units=units, indicator_codes=codes, values=_matrix(stored["values"], units, codes),
                       previous=_matrix(stored.get("previous", {}), units, codes),
                       context=stored.get("context", {}))


def _preview(spec: MethodologySpec, inputs: IndexInputs) -> EngineResult:
    return compute(methodology=spec, units=inputs.units, values=inputs.values, previous=inputs.previous,
                   audit=False)


@dataclass(frozen=True)
class WhatIfRow:
    city: City
    base_score: float | None
    base_rank: int | None
    new_score: float | None
    new_rank: int | None

    @property
    def rank_change(self) -> int | None:
        """Places gained under the draft (positive = up)."""
        return None if self.base_rank is None or self.new_rank is None else self.base_rank - self.new_rank

    @property
    def score_change(self) -> float | None:
        return None if self.base_score is None or self.new_score is None else self.new_score - self.base_score


@dataclass(frozen=True)
class WeightChange:
    code: str
    name_zh: str
    name_en: str
    base: float | None  # effective weight in the index; None: not in that version
    new: float | None


@dataclass(frozen=True)
class WhatIf:
    base_run: IndexRun
    methodology: MethodologyVersion
    rows: list[WhatIfRow]
    weight_changes: list[WeightChange]
    error: str = ""  # the engine's refusal of the draft, in the active language

    @property
    def moved(self) -> int:
        return sum(1 for row in self.rows if row.rank_change)


def methodology_whatif(*, run: IndexRun, methodology: MethodologyVersion) -> WhatIf:
    """Every city's composite score and rank under ``methodology``, computed on the data ``run`` read,
    beside the run's own: only the methodology differs, so every change is its effect."""
    spec = methodology_spec(version=methodology)
    base_spec = methodology_spec(version=run.methodology)
    base = {score.city_id: score for score in Score.objects.filter(run=run, level=0).select_related("city")}
    rows, error, new_weights = [], "", {}
    try:
        result = _preview(spec, _inputs_from_run(run=run, spec=spec))
    except EngineError as refused:
        result, error = None, refused.render(gettext)
    if result is not None:
        new_weights = result.effective_weights
        cities = {city.code: city for city in City.objects.filter(code__in=result.units)}
        for unit in result.units:
            city = cities[unit]
            old = base.get(city.pk)
            rows.append(WhatIfRow(city=city, base_score=old.value if old else None, base_rank=old.rank if old else None,
                                  new_score=result.score(unit, result.root), new_rank=result.rank(unit, result.root)))
    else:
        rows = [WhatIfRow(city=score.city, base_score=score.value, base_rank=score.rank, new_score=None,
                          new_rank=None) for score in base.values()]
    rows.sort(key=lambda row: (row.new_rank or row.base_rank or 10**6, row.city.code))
    return WhatIf(base_run=run, methodology=methodology, rows=rows, error=error,
                  weight_changes=_weight_changes(base_spec, run.diagnostics.get("effective_weights", {}), spec,
                                                 new_weights))


def _weight_changes(base_spec: MethodologySpec, base: dict, spec: MethodologySpec, new: dict) -> list[WeightChange]:
    names = {item.code: item for _path, _parent, item in base_spec.walk()}
    names.update({item.code: item for _path, _parent, item in spec.walk()})
    changes = []
    for code in dict.fromkeys([*base, *new]):
        old_weight, new_weight = base.get(code), new.get(code)
        if old_weight is None or new_weight is None or abs(old_weight - new_weight) > 1e-9:
            item = names[code]
            changes.append(WeightChange(code=code, name_zh=item.name_zh, name_en=item.name_en, base=old_weight,
                                        new=new_weight))
    return changes


@dataclass(frozen=True)
class ImpactMover:
    code: str
    name_zh: str
    name_en: str
    effect: float  # change of the composite score this indicator accounts for (effective weight × its score change)


@dataclass(frozen=True)
class ImpactNode:
    code: str
    name_zh: str
    name_en: str
    before: float | None
    after: float | None
    rank_before: int | None
    rank_after: int | None


@dataclass(frozen=True)
class ImpactPreview:
    """What approving a return would do to its city, against the period's approved data now."""

    city: City
    units_before: int
    units_after: int
    nodes: list[ImpactNode]  # the index, then its dimensions
    movers: list[ImpactMover]  # the indicators that move the composite most, largest effect first
    error: str = ""

    @property
    def index(self) -> ImpactNode | None:
        return self.nodes[0] if self.nodes else None


def return_impact_preview(*, indicator_return, movers: int = 5) -> ImpactPreview:
    """The city's composite and dimension scores and ranks before and after its return's values
    replace its approved ones (or join the ranking, for a first approval), and the indicators that
    account for most of the change. Scores are relative (min-max over all cities), so other cities'
    values matter too; both sides are computed on the same data apart from this return."""
    period = indicator_return.period
    spec = methodology_spec(version=period.methodology)
    city = indicator_return.city
    submitted = {code: (None if value is None else float(value)) for code, value in ReturnValue.objects.filter(
        indicator_return=indicator_return).values_list("indicator__code", "value")}
    current, earlier = _period_values(period)
    before_inputs = _laid_out(spec, current, earlier)
    after_inputs = _laid_out(spec, {**current, city.code: submitted}, earlier)
    try:
        before = _preview(spec, before_inputs) if before_inputs.units else None
        after = _preview(spec, after_inputs)
    except EngineError as refused:
        return ImpactPreview(city=city, units_before=len(before_inputs.units), units_after=len(after_inputs.units),
                             nodes=[], movers=[], error=refused.render(gettext))
    items = {item.code: item for _path, _parent, item in spec.walk()}

    def side(result, code):
        if result is None or city.code not in result.units:
            return None, None
        return result.score(city.code, code), result.rank(city.code, code)

    nodes = []
    for code in [spec.root.code, *(child.code for child in spec.root.children)]:
        (old, old_rank), (new, new_rank) = side(before, code), side(after, code)
        nodes.append(ImpactNode(code=code, name_zh=items[code].name_zh, name_en=items[code].name_en, before=old,
                                after=new, rank_before=old_rank, rank_after=new_rank))
    effects = []
    if before is not None and city.code in before.units:
        for code in after.indicator_codes:
            old, new = side(before, code)[0], side(after, code)[0]
            if old is not None and new is not None and new != old:
                effects.append(ImpactMover(code=code, name_zh=items[code].name_zh, name_en=items[code].name_en,
                                           effect=after.effective_weights[code] * (new - old)))
    effects.sort(key=lambda mover: -abs(mover.effect))
    return ImpactPreview(city=city, units_before=len(before_inputs.units), units_after=len(after_inputs.units),
                         nodes=nodes, movers=effects[:movers])


# What a run did, for its explanation page.

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
