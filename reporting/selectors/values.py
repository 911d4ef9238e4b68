"""The values around a return: the period's methodology and form layout, the return's own values,
last year's approved values and the other cities' values."""
from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast

from ccfi_portal.queries import PreparedQuery
from indices.engine.spec import MethodologySpec, NodeSpec
from methodology.selectors import methodology_indicators, methodology_spec
from reporting.models import IndicatorReturn, ReportingPeriod, ReturnState, ReturnValue

# The methodology behind a period.

def period_spec(*, period: ReportingPeriod) -> MethodologySpec:
    """The period's methodology as plain data (cached while published: indices.selectors.methodology_spec)."""
    return methodology_spec(version=period.methodology)


@dataclass
class FormSection:
    code: str
    name_zh: str
    name_en: str
    groups: list[FormGroup] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [code for group in self.groups for code in group.codes]


@dataclass
class FormGroup:
    code: str
    name_zh: str
    name_en: str
    codes: list[str] = field(default_factory=list)


def form_sections(spec: MethodologySpec) -> list[FormSection]:
    """Dimensions and their groups with the indicator codes under each, then the context variables."""
    sections = []
    for dimension in spec.root.children:
        if not isinstance(dimension, NodeSpec):
            continue
        section = FormSection(dimension.code, dimension.name_zh, dimension.name_en)
        for group in dimension.children:
            if isinstance(group, NodeSpec):
                codes = [item.code for _, _, item in _walk(group) if not isinstance(item, NodeSpec)]
                section.groups.append(FormGroup(group.code, group.name_zh, group.name_en, codes))
            else:
                section.groups.append(FormGroup(group.code, group.name_zh, group.name_en, [group.code]))
        sections.append(section)
    if spec.context_variables:
        sections.append(FormSection("CONTEXT", "背景变量", "Context variables", [
            FormGroup("CONTEXT", "背景变量（不计分）", "Context variables (reported, not scored)",
                      [variable.code for variable in spec.context_variables])]))
    return sections


def _walk(node):
    yield None, None, node
    if isinstance(node, NodeSpec):
        for child in node.children:
            yield from _walk(child)


# Values around a return.

def return_values(*, indicator_return: IndicatorReturn) -> dict[str, ReturnValue]:
    """The return's values by code, each with its indicator (from the methodology's, kept per process once
    published: joining them cost a value save more than reading the values)."""
    indicators = methodology_indicators(version=indicator_return.period.methodology)
    values = _RETURN_VALUES.run(return_id=indicator_return.pk)
    for value in values:
        value.indicator = indicators[value.indicator_id]
    values.sort(key=lambda value: (value.indicator.position, value.indicator.code))  # the model's order, no join
    return {value.indicator.code: value for value in values}


# Built once per process (ccfi_portal.queries): every value save reads them.
_RETURN_VALUES = PreparedQuery(lambda return_id: ReturnValue.objects.filter(indicator_return=return_id).order_by(),
                               return_id=int)


def previous_approved_values(*, indicator_return: IndicatorReturn) -> dict[str, Decimal]:
    """Last year's approved values of the same city, by code."""
    return previous_approved_values_for(city_ids=[indicator_return.city_id],
                                        data_year=indicator_return.period.data_year).get(indicator_return.city_id, {})


def previous_approved_values_for(*, city_ids, data_year: int) -> dict[int, dict[str, Decimal]]:
    """Each city's approved values of ``data_year - 1``, by city id and code."""
    (approved,) = _kept_readings(_approved_reading(data_year - 1))
    return _of_cities(approved, city_ids)


def peer_values(*, period: ReportingPeriod, exclude_city_id: int | None = None,
                codes: Iterable[str] | None = None) -> dict[str, list[Decimal]]:
    """Other cities' values for the period: each city's latest submitted or approved revision; only the
    values of ``codes`` if given (a check of one field needs one indicator's peers)."""
    (by_code,) = _kept_readings(_peers_reading(period))
    return _other_cities(by_code, exclude_city_id=exclude_city_id, codes=codes)


def compared_values(*, indicator_return: IndicatorReturn,
                    codes: Iterable[str] | None = None) -> tuple[dict[str, Decimal], dict[str, list[Decimal]]]:
    """What a value save checks the return's values against: ``previous_approved_values`` and ``peer_values``
    (of ``codes`` if given), both kept readings checked in one query."""
    period = indicator_return.period
    approved, by_code = _kept_readings(_approved_reading(period.data_year - 1), _peers_reading(period))
    return (_of_cities(approved, [indicator_return.city_id]).get(indicator_return.city_id, {}),
            _other_cities(by_code, exclude_city_id=indicator_return.city_id, codes=codes))


def peer_values_by_city(*, period: ReportingPeriod,
                        codes: Iterable[str] | None = None) -> dict[int, dict[str, Decimal]]:
    """Each city's values in its latest submitted or approved revision of the period; only ``codes`` if given."""
    (by_code,) = _kept_readings(_peers_reading(period))
    result: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for code in _wanted(by_code, codes):
        for city_id, value in by_code[code]:
            result[city_id][code] = value
    return result


def _wanted(by_code: dict[str, list], codes: Iterable[str] | None):
    """The codes of a peers reading asked for: all, or those of ``codes`` it has."""
    return by_code.keys() if codes is None else set(codes) & by_code.keys()


def _of_cities(approved: dict[int, dict[str, Decimal]], city_ids) -> dict[int, dict[str, Decimal]]:
    wanted = set(city_ids)
    return defaultdict(dict, {city_id: dict(values) for city_id, values in approved.items() if city_id in wanted})


def _other_cities(by_code: dict[str, list[tuple[int, Decimal]]], *, exclude_city_id: int | None,
                  codes: Iterable[str] | None) -> dict[str, list[Decimal]]:
    result: dict[str, list[Decimal]] = defaultdict(list)
    for code in _wanted(by_code, codes):
        others = [value for city_id, value in by_code[code] if city_id != exclude_city_id]
        if others:
            result[code] = others
    return result


def _approved_values_by_city(*, data_year: int) -> dict[int, dict[str, Decimal]]:
    rows = ReturnValue.objects.filter(
        indicator_return__period__data_year=data_year, indicator_return__state=ReturnState.APPROVED,
        value__isnull=False,
    ).values_list("indicator_return__city_id", "indicator__code", "value")
    result: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for city_id, code, value in rows:
        result[city_id][code] = value
    return dict(result)


def _latest_values_by_code(*, period: ReportingPeriod) -> dict[str, list[tuple[int, Decimal]]]:
    rows = ReturnValue.objects.filter(
        indicator_return__period=period, value__isnull=False,
        indicator_return__state__in=(ReturnState.SUBMITTED, ReturnState.APPROVED),
    ).values_list("indicator_return__city_id", "indicator_return__revision", "indicator__code", "value")
    latest: dict[int, int] = {}
    for city_id, revision, _code, _value in rows:
        latest[city_id] = max(latest.get(city_id, 0), revision)
    result: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
    for city_id, revision, code, value in rows:
        if revision == latest[city_id]:
            result[code].append((city_id, value))
    return dict(result)


# Readings of submitted and approved values, kept in the process while their returns are unchanged: those values
# are never saved (only a draft or a sent-back return's are), so they change only when a return enters or leaves
# those states, or is added or deleted, and each of these changes the returns' fingerprint (each one's id and
# ``updated_at``, which every state change saves). The fingerprints of the readings asked together cost one small
# query; the readings they spare, every other city's values, were the most of a value save's database time
# (bench/api_bench.py). A fingerprint seen inside a transaction that is rolled back never comes again. A reading's
# fingerprint query is the same every time, so its SQL is built once per process (building it cost more than
# running it).

@dataclass(frozen=True)
class _Reading:
    key: tuple
    returns: dict  # the filter of the returns whose values it reads
    compute: Callable[[], dict]


def _approved_reading(data_year: int) -> _Reading:
    return _Reading(("approved", data_year), {"period__data_year": data_year, "state": ReturnState.APPROVED},
                    lambda: _approved_values_by_city(data_year=data_year))


def _peers_reading(period: ReportingPeriod) -> _Reading:
    peers = {"period": period, "state__in": (ReturnState.SUBMITTED, ReturnState.APPROVED)}
    return _Reading(("peers", period.pk), peers, lambda: _latest_values_by_code(period=period))


_READINGS: dict[tuple, tuple[frozenset, dict]] = {}
_FINGERPRINT_SQL: dict[tuple, tuple[str, tuple]] = {}


def _fingerprints(readings: tuple[_Reading, ...]) -> list[frozenset]:
    parts, params = [], []
    for number, reading in enumerate(readings):
        if reading.key not in _FINGERPRINT_SQL:
            # The time as text: compared, never computed with (parsing sixty times a save cost a fiftieth of it).
            _FINGERPRINT_SQL[reading.key] = IndicatorReturn.objects.filter(**reading.returns).values_list(
                "pk", Cast("updated_at", TextField())).order_by().query.sql_with_params()
        sql, sql_params = _FINGERPRINT_SQL[reading.key]
        # Django's own SQL for the reading's filter, its values bound as parameters.
        parts.append(f"SELECT {number} AS reading, fingerprint.* FROM ({sql}) AS fingerprint")  # nosec B608
        params.extend(sql_params)
    rows: list[set] = [set() for _ in readings]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for number, *row in cursor.fetchall():
            rows[number].add(tuple(row))
    return [frozenset(found) for found in rows]


def _kept_readings(*readings: _Reading) -> list[dict]:
    """Each reading's values, kept while its returns' fingerprint is unchanged; the fingerprints in one query."""
    found = []
    for reading, current in zip(readings, _fingerprints(readings), strict=True):
        kept = _READINGS.get(reading.key)
        if kept is None or kept[0] != current:
            kept = _READINGS[reading.key] = (current, reading.compute())
        found.append(kept[1])
    return found


PEER_ROBUST_Z_LIMIT = 3.5  # Iglewicz and Hoaglin's cut-off for the modified z-score
PEER_MINIMUM_FOR_FLAG = 3  # fewer other cities say too little to call a value unusual
PEER_STRIP_WIDTH = 120  # pixels of the strip on the review page


@dataclass(frozen=True)
class PeerStrip:
    """Where the other cities' values and this city's lie on one line, in pixels across ``PEER_STRIP_WIDTH``."""
    peers: tuple[float, ...]
    mine: float


@dataclass(frozen=True)
class PeerPosition:
    count: int
    minimum: Decimal | None
    median: Decimal | None
    maximum: Decimal | None
    values: tuple[Decimal, ...] = ()

    def robust_z(self, value: Decimal) -> float | None:
        """The modified z-score of ``value`` among the peers (median and median absolute deviation), or None when
        the peers do not spread."""
        deviation = statistics.median([abs(peer - self.median) for peer in self.values]) if self.values else 0
        if not deviation:
            return None
        return float(Decimal("0.6745") * (value - self.median) / deviation)

    def is_outside(self, value: Decimal) -> bool:
        return value < self.minimum or value > self.maximum

    def is_unusual(self, value: Decimal) -> bool:
        """Outside the other cities' range, or beyond the robust z-score limit (with enough other cities)."""
        if self.count < PEER_MINIMUM_FOR_FLAG:
            return False
        z = self.robust_z(value)
        return self.is_outside(value) or (z is not None and abs(z) > PEER_ROBUST_Z_LIMIT)

    def strip(self, value: Decimal) -> PeerStrip:
        low, high = min(self.minimum, value), max(self.maximum, value)
        span, margin = high - low, 4

        def x(number: Decimal) -> float:
            if not span:
                return PEER_STRIP_WIDTH / 2
            return round(margin + float((number - low) / span) * (PEER_STRIP_WIDTH - 2 * margin), 1)

        return PeerStrip(peers=tuple(x(peer) for peer in self.values), mine=x(value))


def peer_positions(peers: dict[str, list[Decimal]]) -> dict[str, PeerPosition]:
    return {code: PeerPosition(len(values), min(values), statistics.median(values), max(values), tuple(sorted(values)))
            for code, values in peers.items() if values}
