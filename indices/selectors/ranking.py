"""Ranking tables: every city of a run ranked on one node, with its children as columns, and their sorts."""
from dataclasses import dataclass
from decimal import Decimal

from accounts.models import City
from indices.models import IndexRun
from indices.selectors.methodology_reader import ReaderItem, ReaderTree, methodology_reader_tree
from indices.selectors.runs import run_previous_published, run_raw_values, run_scores


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
    raw = run_raw_values(run=run, codes=[node.code]) if node.is_indicator else {}
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
