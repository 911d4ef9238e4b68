"""City profiles: a city's scores at every level against the median, its strengths and weaknesses, and
its history across data years."""
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.db import models

from accounts.models import City
from indices.models import IndexRun, Score
from indices.selectors.methodology_reader import ReaderItem, ReaderTree, methodology_reader_tree
from indices.selectors.runs import run_medians, run_raw_values


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
    raw = run_raw_values(run=run, city=city).get(city.pk, {})
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

    runs = _published_runs_by_year()
    runs[run.period.data_year] = run
    history, counts = _history(city=city, code=tree.root.code, runs=runs)
    return CityProfile(city=city, run=run, tree=tree, items=tuple(items), strengths=tuple(strengths),
                       weaknesses=tuple(weaknesses), history=history,
                       cities=counts.get(run.pk, 0))


def _published_runs_by_year() -> dict[int, IndexRun]:
    return {published.period.data_year: published for published in IndexRun.objects.published()
            .select_related("period", "methodology").defer("inputs", "diagnostics")}


def _history(*, city, code: str | None, runs: dict[int, IndexRun]) -> tuple[tuple[HistoryPoint, ...], dict[int, int]]:
    """The history points of ``city`` at ``code`` (the index when None) in ``runs`` (data year → run), and the
    number of cities ranked there in each run."""
    node = models.Q(code=code) if code else models.Q(level=0)
    history_scores = {score.run_id: score for score in Score.objects.filter(node, run__in=list(runs.values()),
                                                                            city=city)}
    counts = dict(Score.objects.filter(node, run__in=list(runs.values()), rank__isnull=False)
                  .values("run").annotate(count=models.Count("id")).values_list("run", "count"))
    history = []
    for year in sorted(runs):
        year_run = runs[year]
        score = history_scores.get(year_run.pk)
        if score is None:
            continue
        history.append(HistoryPoint(data_year=year, run=year_run, score=score.value, rank=score.rank,
                                    cities=counts.get(year_run.pk, 0), published=year_run.is_published))
    return tuple(history), counts


def city_history(*, city, code: str | None = None) -> tuple[HistoryPoint, ...]:
    """A city's score and rank at ``code`` (the index when None) in every data year's published run, oldest
    first: the profile's history, for the API."""
    return _history(city=city, code=code, runs=_published_runs_by_year())[0]
