"""Hand-made index runs for the reader-page tests: a four-group tree, three cities, scores chosen
so that every rank, median and gap can be checked by hand."""
import datetime
import hashlib
import statistics

from django.utils import timezone

from accounts.models import City
from indices.engine import spec
from indices.models import IndexRun, RunState, Score
from methodology.services import methodology_create_from_spec, methodology_publish
from reporting.models import PeriodState, ReportingPeriod
from tests.conftest import _indicator


def _node(code: str, zh: str, en: str, children: list, weight: float = 1) -> dict:
    return {"type": "node", "code": code, "name": {"zh-hans": zh, "en": en}, "weight": weight,
            "aggregation": "arithmetic", "children": children}


# T → D1 (G1 (I1), G2 (I2)), D2 (G3 (I3), G4 (I4, I5)); D2 weighs twice D1, I5 three times I4.
READER_DOCUMENT = {
    "schema": spec.SCHEMA, "code": "RT", "version": "1.0",
    "title": {"zh-hans": "读者测试指数", "en": "Reader test index"}, "notes": "",
    "tree": _node("T", "测试指数", "Test index", [
        _node("D1", "维度一", "Dimension one", [
            _node("G1", "组一", "Group one", [_indicator("I1")]),
            _node("G2", "组二", "Group two", [_indicator("I2", direction=-1)]),
        ]),
        _node("D2", "维度二", "Dimension two", [
            _node("G3", "组三", "Group three", [_indicator("I3")]),
            _node("G4", "组四", "Group four", [_indicator("I4"), _indicator("I5", weight=3)]),
        ], weight=2),
    ]),
    "context_variables": [],
}

# Group scores by city: Chongqing is 30 above the median in G1, 10 above in G4, on it in G3 and
# 20 below in G2 (medians: G1 50, G2 60, G3 50, G4 60).
GROUPS_2024 = {
    "500000": {"G1": 80, "G2": 40, "G3": 50, "G4": 70},
    "510100": {"G1": 50, "G2": 60, "G3": 50, "G4": 60},
    "420100": {"G1": 30, "G2": 70, "G3": 55, "G4": 20},
}
# A year earlier Chengdu led and Chongqing was last.
GROUPS_2023 = {
    "500000": {"G1": 20, "G2": 30, "G3": 40, "G4": 30},
    "510100": {"G1": 90, "G2": 80, "G3": 70, "G4": 60},
    "420100": {"G1": 50, "G2": 50, "G3": 50, "G4": 50},
}
PARENTS = {"I1": "G1", "I2": "G2", "I3": "G3", "I4": "G4", "I5": "G4", "G1": "D1", "G2": "D1", "G3": "D2",
           "G4": "D2", "D1": "T", "D2": "T"}
LEVELS = {"T": 0, "D1": 1, "D2": 1, "G1": 2, "G2": 2, "G3": 2, "G4": 2,
          "I1": 3, "I2": 3, "I3": 3, "I4": 3, "I5": 3}


def reader_methodology():
    version = methodology_create_from_spec(spec=spec.from_document(READER_DOCUMENT), actor=None)
    return methodology_publish(version=version, actor=None)


def reader_city(code: str) -> City:
    names = {"500000": ("重庆", "Chongqing", "重庆市", "Chongqing"), "510100": ("成都", "Chengdu", "四川省", "Sichuan"),
             "420100": ("武汉", "Wuhan", "湖北省", "Hubei")}[code]
    city, _ = City.objects.get_or_create(code=code, defaults=dict(
        name_zh=names[0], name_en=names[1], province_zh=names[2], province_en=names[3]))
    return city


def reader_period(methodology, year: int) -> ReportingPeriod:
    return ReportingPeriod.objects.create(
        data_year=year, opens_on=datetime.date(year + 1, 1, 15), due_on=datetime.date(year + 1, 3, 31),
        state=PeriodState.CLOSED, methodology=methodology)


def node_values(groups: dict[str, float]) -> dict[str, float]:
    """Every item's score from the group scores: indicators copy their group, dimensions are the
    mean of their groups, the index the mean of its dimensions (weights do not matter here)."""
    values = dict(groups)
    values.update({code: groups[parent] for code, parent in PARENTS.items() if code.startswith("I")})
    values["D1"] = (groups["G1"] + groups["G2"]) / 2
    values["D2"] = (groups["G3"] + groups["G4"]) / 2
    values["T"] = (values["D1"] + values["D2"]) / 2
    return values


def ranks(values_by_city: dict[str, dict[str, float]], code: str) -> dict[str, int]:
    ordered = sorted(values_by_city, key=lambda city: -values_by_city[city][code])
    result = {}
    for position, city in enumerate(ordered, start=1):
        tied = [other for other in ordered[:position - 1] if values_by_city[other][code] == values_by_city[city][code]]
        result[city] = result[tied[0]] if tied else position
    return result


def make_run(period: ReportingPeriod, groups_by_city: dict[str, dict[str, float]], *, published: bool,
             created_at: datetime.datetime | None = None, label: str = "") -> IndexRun:
    """A succeeded run with Score rows for every city and item; rank bands ±1 on the index and dimensions."""
    digest = hashlib.sha256(f"{period.data_year}{label}{published}".encode()).hexdigest()
    run = IndexRun.objects.create(
        period=period, methodology=period.methodology, input_hash=digest, engine_version="test",
        state=RunState.SUCCEEDED, is_provisional=not published, units=len(groups_by_city),
        published_at=timezone.now() if published else None,
        inputs={"units": sorted(groups_by_city), "indicators": [], "values": {city: {} for city in groups_by_city},
                "previous": {}, "context": {}},
    )
    if created_at is not None:
        IndexRun.objects.filter(pk=run.pk).update(created_at=created_at)
        run.refresh_from_db()
    values = {city: node_values(groups) for city, groups in groups_by_city.items()}
    rows = []
    for code, level in LEVELS.items():
        code_ranks = ranks(values, code)
        for city_code, city_values in values.items():
            rank = code_ranks[city_code]
            band = dict(rank_p05=max(1, rank - 1), rank_median=rank, rank_p95=rank + 1) if level < 2 else {}
            rows.append(Score(run=run, city=reader_city(city_code), code=code, level=level,
                              value=city_values[code], rank=rank, **band))
    Score.objects.bulk_create(rows)
    return run


def medians(groups_by_city: dict[str, dict[str, float]]) -> dict[str, float]:
    values = [node_values(groups) for groups in groups_by_city.values()]
    return {code: statistics.median(city[code] for city in values) for code in LEVELS}
