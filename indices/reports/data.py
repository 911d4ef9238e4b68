"""What a report shows, read once per run in a handful of queries.

``report_data(run=...)`` is language-neutral (both names of everything) and is cached per process,
so building the Chinese and the English edition, or thirty city reports, reads the database once.
Reads go through the reader selectors of indices.selectors (the same numbers as the web pages);
the reported values come from the run's own record of its inputs.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from functools import cached_property

from accounts.models import City
from indices.engine.settings import EngineSettings
from indices.models import IndexRun, Score
from indices.selectors import (
    ReaderItem,
    ReaderTree,
    methodology_reader_tree,
    run_is_illustrative,
    run_previous_published,
    run_scores,
)
from methodology.models import Indicator, IndicatorKind
from methodology.selectors import methodology_spec


@dataclass
class ReportData:
    run: IndexRun
    tree: ReaderTree
    cities: list[City]  # by composite rank, unranked last
    scores: dict[tuple[int, str], Score]
    previous_run: IndexRun | None
    previous: dict[tuple[int, str], Score]
    values: dict[str, dict[str, float | None]]  # city code → indicator / context code → reported value
    previous_values: dict[str, dict[str, float | None]]
    imputed: set[tuple[str, str]]  # (city code, indicator code)
    illustrative: bool
    context_variables: list[Indicator] = field(default_factory=list)  # reported, not scored
    engine: EngineSettings | None = None  # the methodology's engine settings

    @property
    def diagnostics(self) -> dict:
        return self.run.diagnostics or {}

    @property
    def root(self) -> ReaderItem:
        return self.tree.root

    @cached_property
    def dimensions(self) -> list[ReaderItem]:
        return self.tree.children(self.root.code)

    @cached_property
    def indicators(self) -> list[ReaderItem]:
        return [item for item in self.tree.items if item.is_indicator]

    def score(self, city: City, code: str) -> Score | None:
        return self.scores.get((city.pk, code))

    def value(self, city: City, code: str) -> float | None:
        score = self.scores.get((city.pk, code))
        return score.value if score is not None else None

    def rank(self, city: City, code: str) -> int | None:
        score = self.scores.get((city.pk, code))
        return score.rank if score is not None else None

    def rank_change(self, city: City, code: str) -> int | None:
        """Places moved up since the previous data year's published run (positive is better)."""
        before = self.previous.get((city.pk, code))
        rank = self.rank(city, code)
        if before is None or before.rank is None or rank is None:
            return None
        return before.rank - rank

    @cached_property
    def spreads(self) -> dict[str, dict[str, float | None]]:
        """Median, quartiles, minimum and maximum of each code's scores across the scored cities."""
        by_code: dict[str, list[float]] = {}
        for (_city, code), score in self.scores.items():
            if score.value is not None:
                by_code.setdefault(code, []).append(score.value)
        spreads = {}
        for code, values in by_code.items():
            values.sort()
            quartiles = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else [values[0]] * 3
            spreads[code] = {"median": statistics.median(values), "p25": quartiles[0], "p75": quartiles[2],
                             "min": values[0], "max": values[-1]}
        return spreads

    @cached_property
    def medians(self) -> dict[str, float]:
        return {code: spread["median"] for code, spread in self.spreads.items()}

    def spread(self, code: str) -> dict[str, float | None]:
        return self.spreads.get(code) or {"median": None, "p25": None, "p75": None, "min": None, "max": None}

    def leader(self, code: str) -> City | None:
        ranked = [(self.rank(city, code), city) for city in self.cities if self.rank(city, code)]
        return min(ranked, key=lambda entry: entry[0])[1] if ranked else None

    def indicator_median(self, code: str) -> float | None:
        """The median reported value of an indicator across the run's cities."""
        values = [row.get(code) for row in self.values.values() if row.get(code) is not None]
        return statistics.median(values) if values else None


_CACHE: dict[tuple[int, str], ReportData] = {}


def report_data(*, run: IndexRun) -> ReportData:
    """The run's report data; cached per process by run and its last change (publishing included)."""
    key = (run.pk, f"{run.input_hash}|{run.finished_at}|{run.published_at}")
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _load(run)
    return _CACHE[key]


def _load(run: IndexRun) -> ReportData:
    run = IndexRun.objects.select_related("period", "methodology").get(pk=run.pk)
    tree = methodology_reader_tree(version=run.methodology, run=run)
    scores = run_scores(run=run)
    city_ids = {city_id for city_id, _code in scores}
    root = tree.root.code
    cities = sorted(City.objects.filter(pk__in=city_ids),
                    key=lambda city: (getattr(scores.get((city.pk, root)), "rank", None) or 10_000, city.code))
    previous_run = run_previous_published(run=run)
    previous = {}
    if previous_run is not None:
        previous = {(score.city_id, score.code): score
                    for score in Score.objects.filter(run=previous_run, level__lte=2)}
    # The values the run read (kept on the run, so a later amendment does not show through).
    values = {unit: dict(row) for unit, row in run.inputs["values"].items()}
    for unit, row in run.inputs["context"].items():
        values.setdefault(unit, {}).update(row)
    previous_values = run.inputs["previous"]
    imputed = {(cell["unit"], cell["indicator"]) for cell in (run.diagnostics or {}).get("imputed_cells", [])}
    code_of = {city.pk: city.code for city in cities}
    imputed |= {(code_of[city_id], code) for (city_id, code), score in scores.items()
                if score.imputed and city_id in code_of}
    context_variables = list(Indicator.objects.filter(version=run.methodology, kind=IndicatorKind.CONTEXT)
                             .order_by("position", "code"))
    return ReportData(
        run=run, tree=tree, cities=cities, scores=scores, previous_run=previous_run, previous=previous,
        values=values, previous_values=previous_values, imputed=imputed,
        illustrative=run_is_illustrative(run=run), context_variables=context_variables,
        engine=methodology_spec(version=run.methodology).engine,
    )

