"""The demo: the default methodology, the 30 cities, one account per role and per city, and two
years of approved illustrative returns, so that a fresh portal can be explored and ranked at once.

Every row is found by its natural key (methodology code and version, city code, username, data
year, city + period + revision) and only created when missing, so a second load changes nothing.
The values are synthetic: a fixed seed and each city's approximate population and GDP drive them,
and they are never tuned to reproduce a published ranking. Only the Chongqing facts of the design
document (methodology-ccfi-2025.md) are taken from public reporting.
"""
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import City, Role, User
from audit.services import audit_record
from indices.engine import spec as methodology_spec_module
from indices.engine.spec import MethodologySpec
from indices.models import IndexRun, RunState
from indices.services import index_run_compute, index_run_publish
from methodology.models import Indicator, MethodologyVersion
from methodology.selectors import methodology_spec
from methodology.services import methodology_import, methodology_publish
from reporting.models import (
    IndicatorReturn,
    ObservationStatus,
    PeriodState,
    ReportingPeriod,
    ReturnState,
    ReturnValue,
)

DEMO_PASSWORD = "Ccfi-demo-2025"
DEMO_SEED = 2025
DEMO_METHODOLOGY_CODE = "CCFI"
DEMO_METHODOLOGY_VERSION = "2025.1"
SOURCE_NOTE = "示例数据（合成） / Illustrative synthetic data"
CHONGQING = "500000"
# Returns are stamped in the portal's time zone, whatever the server's settings say.
DEMO_TIME_ZONE = ZoneInfo("Asia/Shanghai")


def demo_methodology_path() -> Path:
    """The default methodology document that ships with the portal."""
    return Path(apps.get_app_config("methodology").path) / "methodologies" / "ccfi-2025.1.json"


def demo_methodology_spec() -> MethodologySpec:
    return methodology_spec_module.loads(demo_methodology_path().read_text(encoding="utf-8"))


# The cities, accounts and periods.

@dataclass(frozen=True)
class DemoCity:
    """A demo city; population (10 thousand persons, end of 2023), GDP (100 million yuan, 2023) and
    urbanisation (%) are approximate public figures that size the synthetic values."""

    code: str
    name_zh: str
    name_en: str
    province_zh: str
    province_en: str
    slug: str
    population: float
    gdp: float
    urbanisation: float


DEMO_CITIES: tuple[DemoCity, ...] = (
    DemoCity("310000", "上海", "Shanghai", "上海市", "Shanghai", "shanghai", 2487.45, 47218.66, 89.5),
    DemoCity("110000", "北京", "Beijing", "北京市", "Beijing", "beijing", 2185.80, 43760.70, 87.8),
    DemoCity("500000", "重庆", "Chongqing", "重庆市", "Chongqing", "chongqing", 3191.43, 30145.79, 71.7),
    DemoCity("440300", "深圳", "Shenzhen", "广东省", "Guangdong", "shenzhen", 1779.01, 34606.40, 99.8),
    DemoCity("440100", "广州", "Guangzhou", "广东省", "Guangdong", "guangzhou", 1882.70, 30355.73, 86.8),
    DemoCity("330100", "杭州", "Hangzhou", "浙江省", "Zhejiang", "hangzhou", 1252.20, 20059.00, 84.2),
    DemoCity("510100", "成都", "Chengdu", "四川省", "Sichuan", "chengdu", 2140.30, 22074.70, 80.5),
    DemoCity("320500", "苏州", "Suzhou", "江苏省", "Jiangsu", "suzhou", 1295.80, 24653.40, 82.5),
    DemoCity("320100", "南京", "Nanjing", "江苏省", "Jiangsu", "nanjing", 954.70, 17421.40, 87.2),
    DemoCity("370100", "济南", "Jinan", "山东省", "Shandong", "jinan", 943.70, 12757.40, 74.5),
    DemoCity("120000", "天津", "Tianjin", "天津市", "Tianjin", "tianjin", 1364.00, 16737.30, 85.5),
    DemoCity("420100", "武汉", "Wuhan", "湖北省", "Hubei", "wuhan", 1377.40, 20011.70, 84.8),
    DemoCity("610100", "西安", "Xi'an", "陕西省", "Shaanxi", "xian", 1307.82, 12010.76, 79.6),
    DemoCity("430100", "长沙", "Changsha", "湖南省", "Hunan", "changsha", 1051.31, 14331.98, 83.3),
    DemoCity("410100", "郑州", "Zhengzhou", "河南省", "Henan", "zhengzhou", 1300.80, 13617.80, 80.0),
    DemoCity("370200", "青岛", "Qingdao", "山东省", "Shandong", "qingdao", 1037.15, 15760.34, 78.2),
    DemoCity("330200", "宁波", "Ningbo", "浙江省", "Zhejiang", "ningbo", 969.70, 16452.80, 79.2),
    DemoCity("350200", "厦门", "Xiamen", "福建省", "Fujian", "xiamen", 532.70, 8066.49, 90.8),
    DemoCity("340100", "合肥", "Hefei", "安徽省", "Anhui", "hefei", 985.30, 12673.80, 85.5),
    DemoCity("350100", "福州", "Fuzhou", "福建省", "Fujian", "fuzhou", 845.00, 12928.47, 73.5),
    DemoCity("210200", "大连", "Dalian", "辽宁省", "Liaoning", "dalian", 753.90, 8752.90, 80.1),
    DemoCity("210100", "沈阳", "Shenyang", "辽宁省", "Liaoning", "shenyang", 920.40, 8122.10, 85.2),
    DemoCity("530100", "昆明", "Kunming", "云南省", "Yunnan", "kunming", 868.00, 7864.76, 81.0),
    DemoCity("450100", "南宁", "Nanning", "广西壮族自治区", "Guangxi", "nanning", 894.08, 5469.06, 71.3),
    DemoCity("520100", "贵阳", "Guiyang", "贵州省", "Guizhou", "guiyang", 640.29, 5154.75, 80.0),
    DemoCity("230100", "哈尔滨", "Harbin", "黑龙江省", "Heilongjiang", "harbin", 939.50, 5576.30, 67.0),
    DemoCity("220100", "长春", "Changchun", "吉林省", "Jilin", "changchun", 910.19, 7002.10, 73.5),
    DemoCity("130100", "石家庄", "Shijiazhuang", "河北省", "Hebei", "shijiazhuang", 1122.35, 7534.20, 71.6),
    DemoCity("360100", "南昌", "Nanchang", "江西省", "Jiangxi", "nanchang", 656.82, 7324.00, 79.5),
    DemoCity("140100", "太原", "Taiyuan", "山西省", "Shanxi", "taiyuan", 545.37, 5573.74, 85.9),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    first_name: str
    role: Role | None = None
    is_staff: bool = False
    is_superuser: bool = False
    city_code: str | None = None


STAFF_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "系统管理员（演示）", is_staff=True, is_superuser=True),
    DemoAccount("reviewer", "指数秘书处审核员", Role.REVIEWER),
    DemoAccount("methodologist", "指数秘书处方法研究员", Role.METHODOLOGIST, is_staff=True),
    DemoAccount("secadmin", "系统安全管理员", Role.SECURITY_ADMIN, is_staff=True),
    DemoAccount("auditadmin", "系统审计管理员", Role.AUDIT_ADMIN, is_staff=True),
)


def demo_accounts() -> list[DemoAccount]:
    """The secretariat accounts, then one filer per city (``filer-<english slug>``)."""
    filers = [
        DemoAccount(f"filer-{city.slug}", f"{city.name_zh}市地方金融管理局填报员", Role.FILER, city_code=city.code)
        for city in DEMO_CITIES
    ]
    return [*STAFF_ACCOUNTS, *filers]


@dataclass(frozen=True)
class DemoPeriod:
    data_year: int
    state: PeriodState
    opens_on: date
    due_on: date


DEMO_PERIODS: tuple[DemoPeriod, ...] = (
    DemoPeriod(2023, PeriodState.CLOSED, date(2024, 1, 15), date(2024, 3, 31)),
    DemoPeriod(2024, PeriodState.OPEN, date(2025, 1, 15), date(2025, 3, 31)),
)
DEMO_YEARS = tuple(period.data_year for period in DEMO_PERIODS)


def demo_return_times(*, period: DemoPeriod | ReportingPeriod, city_index: int) -> tuple[datetime, datetime]:
    """Fixed submission and approval times, staggered by city, all before the period's deadline."""
    submitted_at = datetime.combine(period.opens_on + timedelta(days=20 + city_index), time(10, 0),
                                    tzinfo=DEMO_TIME_ZONE)
    return submitted_at, submitted_at + timedelta(days=5, hours=5, minutes=30)


# The values.

# From public reporting on Chongqing (design document); the 2023 balance follows from the 9.9 %
# growth, the other 2023 figures are synthetic but kept close.
CHONGQING_FACTS: dict[str, tuple[Decimal, Decimal]] = {
    "M1.1": (Decimal(80), Decimal(83)),
    "M1.2": (Decimal(3), Decimal(3)),
    "M1.3": (Decimal(38), Decimal(37)),
    "M2.1": ((Decimal("8922.53") / Decimal("1.099")).quantize(Decimal("0.01"), ROUND_HALF_UP), Decimal("8922.53")),
    "M3.2": (Decimal("28.40"), Decimal("29.10")),
    "V4.4": (Decimal(4), Decimal(4)),
}
# Shares of the national consumer-finance-company balance held by the other 29 cities together;
# the rest sits with companies outside the 30 cities.
OTHER_CITIES_BALANCE_SHARE = 58.0
# Invention patents of the other 29 cities together in 2023; Chongqing's online microlenders hold
# two-thirds of the industry's patents, so Chongqing gets a little more than twice the others.
OTHER_CITIES_PATENTS = 280.0
CHONGQING_PATENT_MULTIPLE = 2.1

# The second year moves at most this part of the year-on-year tolerance, so rounding cannot cross it.
YOY_HEADROOM = Decimal("0.9")

Values = dict[str, dict[int, dict[str, Decimal]]]


class _Settle:
    """Round generated figures to each variable's decimals, inside its soft bounds, and keep the
    second year within 90 % of its year-on-year tolerance, so the demo needs no explanations."""

    def __init__(self, methodology: MethodologySpec):
        self.variables = {item.code: item for item in (*methodology.indicators(), *methodology.context_variables)}

    def step(self, code: str) -> Decimal:
        return Decimal(1).scaleb(-self.variables[code].decimals)

    def exact(self, code: str, value: float | Decimal) -> Decimal:
        """A derived figure: rounded only, because clamping would break the relation it follows."""
        return Decimal(value).quantize(self.step(code), ROUND_HALF_UP)

    def pair(self, code: str, first: float, second: float) -> tuple[Decimal, Decimal]:
        bounds = self.variables[code].bounds
        low = Decimal(str(bounds.soft_min if bounds.soft_min is not None else bounds.hard_min))
        high = Decimal(str(bounds.soft_max if bounds.soft_max is not None else bounds.hard_max))
        previous = min(max(self.exact(code, first), low), high).quantize(self.step(code), ROUND_HALF_UP)
        if bounds.yoy_tolerance_pct is not None and previous:
            margin = abs(previous) * Decimal(str(bounds.yoy_tolerance_pct)) / 100 * YOY_HEADROOM
            low, high = max(low, previous - margin), min(high, previous + margin)
        low, high = low.quantize(self.step(code), ROUND_CEILING), high.quantize(self.step(code), ROUND_FLOOR)
        return previous, min(max(self.exact(code, second), low), high)


@dataclass
class _CityDraw:
    """One city's two years, filled indicator by indicator from the city's own random stream."""

    city: DemoCity
    seed: int
    settle: _Settle
    years: dict[int, dict[str, Decimal]] = field(default_factory=lambda: {year: {} for year in DEMO_YEARS})

    def rng(self, topic: str) -> random.Random:
        """A stream per city and topic: changing one formula leaves every other value as it was.
        A string seed is hashed with SHA-512, so the stream is the same on every machine."""
        return random.Random(f"ccfi-demo/{self.seed}/{self.city.code}/{topic}")

    def put(self, code: str, first: float, second: float) -> None:
        pair = CHONGQING_FACTS.get(code) if self.city.code == CHONGQING else None
        self.years[DEMO_YEARS[0]][code], self.years[DEMO_YEARS[1]][code] = pair or self.settle.pair(
            code, first, second)

    def put_exact(self, code: str, first: float | Decimal, second: float | Decimal) -> None:
        first_year, second_year = DEMO_YEARS
        self.years[first_year][code] = self.settle.exact(code, first)
        self.years[second_year][code] = self.settle.exact(code, second)

    def get(self, code: str) -> tuple[Decimal, Decimal]:
        return tuple(self.years[year][code] for year in DEMO_YEARS)

    def floats(self, code: str) -> tuple[float, float]:
        return tuple(float(value) for value in self.get(code))


def _draw_city(draw: _CityDraw) -> None:
    """Every value of one city except those shared out across cities (M3.2, E2.1).

    ``size`` is GDP relative to a typical large city and ``wealth`` GDP per head in 100 thousand
    yuan: balances, counts and capital grow with them, rates and shares do not; noise on top.
    Each part draws from its own topics' random streams, so the order of the parts only matters
    where one reads the values of another (the context first, the market before the economy).
    """
    city = draw.city
    size = city.gdp / 15000
    wealth = city.gdp / city.population / 10
    _draw_context(draw, wealth=wealth)
    _draw_market(draw, size=size, wealth=wealth)
    _draw_economy(draw, size=size, wealth=wealth)
    _draw_environment(draw, size=size, wealth=wealth)


def _draw_context(draw: _CityDraw, *, wealth: float) -> None:
    """Population, GDP and borrowers: reported beside the indicators, and the base of several of them."""
    city = draw.city
    uniform = draw.rng("context").uniform
    draw.put("POP", city.population, city.population * (1 + uniform(-0.004, 0.012)))
    draw.put("GDP", city.gdp, city.gdp * (1 + uniform(0.025, 0.07)))
    borrowers = city.population * uniform(0.30, 0.45) * (0.85 + 0.15 * wealth)
    draw.put("BORROWERS", borrowers, borrowers * uniform(1.01, 1.06))


def _draw_market(draw: _CityDraw, *, size: float, wealth: float) -> None:
    """M1–M4: institutions, lending balances, capital and asset quality."""
    city = draw.city
    population = draw.get("POP")
    uniform = draw.rng("M1").uniform
    online_lenders = 1 + round(10 * size ** 0.8 * uniform(0.3, 1.7))
    draw.put("M1.3", online_lenders, online_lenders + draw.rng("M1.3").choice((-2, -1, 0, 0, 0, 1)))
    licence_odds = min(0.85, 0.2 + 0.25 * size)
    companies = int(uniform(0, 1) < licence_odds) + int(uniform(0, 1) < licence_odds * 0.4)
    draw.put("M1.2", companies, companies)
    bank_units, auto_finance = 18 + 22 * size ** 0.7 * uniform(0.8, 1.25), round(uniform(0, 3))
    institutions = [sum(pair) for pair in zip(draw.floats("M1.2"), draw.floats("M1.3"), strict=True)]
    draw.put("M1.1", bank_units + auto_finance + institutions[0],
             bank_units * uniform(1.0, 1.06) + auto_finance + institutions[1])

    uniform = draw.rng("M2").uniform
    balance = city.population * wealth * 1e5 * 0.27 * uniform(0.75, 1.3) / 1e4
    growth_first, growth_second = uniform(0.04, 0.18), uniform(0.03, 0.16)
    draw.put("M2.1", balance, balance * (1 + growth_second))
    balances = draw.get("M2.1")
    # The first year's growth is measured against a synthetic balance of the year before.
    draw.put_exact("M2.2", growth_first * 100, (balances[1] / balances[0] - 1) * 100)
    draw.put_exact("M2.3", *(balance * Decimal(10) ** 8 / (people * Decimal(10) ** 4)
                             for balance, people in zip(balances, population, strict=True)))

    uniform = draw.rng("M3").uniform
    lenders, companies = draw.floats("M1.3")[0], draw.floats("M1.2")[0]
    capital = lenders * uniform(10, 25) + companies * uniform(20, 60)
    draw.put("M3.1", capital, capital * uniform(0.97, 1.12))

    uniform = draw.rng("M4").uniform
    bad_loans = uniform(0.9, 2.4) * (1.2 if wealth < 0.9 else 1.0)
    draw.put("M4.1", bad_loans, bad_loans * uniform(0.88, 1.2))
    coverage = uniform(160, 330)
    draw.put("M4.2", coverage, coverage * uniform(0.9, 1.12))
    return_on_assets = uniform(0.4, 2.8)
    draw.put("M4.3", return_on_assets, return_on_assets + uniform(-0.4, 0.3))


def _draw_economy(draw: _CityDraw, *, size: float, wealth: float) -> None:
    """E1–E4: consumption, innovation, digital payments and inclusion (reads the market's lenders and capital)."""
    city = draw.city
    population, borrowers = draw.get("POP"), draw.get("BORROWERS")
    lenders, companies = draw.floats("M1.3")[0], draw.floats("M1.2")[0]
    uniform = draw.rng("E1").uniform
    retail = city.gdp * uniform(0.34, 0.5)
    retail_growth = (uniform(0.04, 0.11), uniform(0.01, 0.07))
    retail_totals = (retail, retail * (1 + retail_growth[1]))
    draw.put("E1.1", *(total * 1e4 / people for total, people in zip(retail_totals, draw.floats("POP"), strict=True)))
    income = (16000 + 0.33 * wealth * 1e5) * uniform(0.9, 1.1)
    draw.put("E1.2", income, income * (1 + uniform(0.035, 0.06)))
    draw.put("E1.3", retail_growth[0] * 100, retail_growth[1] * 100)

    uniform = draw.rng("E2").uniform
    copyrights = (companies * 15 + lenders * 6 + 5) * uniform(0.5, 1.5) * size ** 0.3
    draw.put("E2.2", copyrights, copyrights * uniform(0.9, 1.4))
    research = draw.floats("M3.1")[0] * uniform(0.02, 0.06)
    draw.put("E2.3", research, research * uniform(0.95, 1.3))

    uniform = draw.rng("E3").uniform
    merchants = retail / 500 * uniform(0.7, 1.3)
    draw.put("E3.1", merchants, merchants * uniform(1.0, 1.2))
    digital = 86 + 3 * (wealth - 1) + uniform(-5, 5)
    draw.put("E3.2", digital, digital + uniform(0.3, 2.0))
    scenarios = city.population * uniform(60, 250)
    draw.put("E3.3", scenarios, scenarios * uniform(1.1, 1.5))

    uniform = draw.rng("E4").uniform
    # First-time borrowers are a few per cent of all borrowers, so E4.1 scales with BORROWERS/POP.
    first_loans = uniform(0.025, 0.07)
    draw.put("E4.1", *(share * float(count) * 1e4 / float(people) for share, count, people in zip(
        (first_loans, first_loans * uniform(0.9, 1.1)), borrowers, population, strict=True)))
    rural = max(1.0, 100 - city.urbanisation) * uniform(0.7, 1.2)
    draw.put("E4.2", rural, rural * uniform(0.92, 1.05))


def _draw_environment(draw: _CityDraw, *, size: float, wealth: float) -> None:
    """V1–V4: policy support, consumer protection, credit infrastructure and risk control."""
    uniform = draw.rng("V").uniform
    policies = 4 + 10 * size ** 0.5 * uniform(0.5, 1.8)
    draw.put("V1.1", policies, policies + round(uniform(0, 4)))
    subsidy = uniform(5, 60)
    draw.put("V1.2", subsidy, subsidy * uniform(0.9, 1.6))
    complaints = uniform(4, 25)
    draw.put("V2.1", complaints, complaints * uniform(0.8, 1.15))
    resolved = uniform(92, 99.5)
    draw.put("V2.2", resolved, resolved + uniform(-1, 1))
    literacy = uniform(800, 3500)
    draw.put("V2.3", literacy, literacy * uniform(0.95, 1.3))
    credit_files = 78 + 8 * (wealth - 1) + uniform(-4, 4)
    draw.put("V3.1", credit_files, credit_files + uniform(0.2, 1.5))
    platform = uniform(80, 1200) * size ** 0.2
    draw.put("V3.2", platform, platform * uniform(1.0, 1.4))
    cases = uniform(1, 12)
    draw.put("V4.1", cases, cases * uniform(0.7, 1.2))
    fraud = uniform(0.6, 6)
    draw.put("V4.2", fraud, fraud * uniform(0.7, 1.15))
    days = uniform(25, 80)
    draw.put("V4.3", days, days * uniform(0.8, 1.05))
    facility_odds = min(0.9, 0.15 + 0.2 * size)
    facilities = sum(uniform(0, 1) < facility_odds for _ in range(4))
    draw.put("V4.4", facilities, min(4, facilities + int(uniform(0, 1) < 0.15)))


def _share_national_balance(draws: list[_CityDraw]) -> None:
    """M3.2: the other cities with a consumer finance company share a fixed part of the national balance."""
    weights = {}
    for draw in draws:
        companies = draw.floats("M1.2")[0]
        weights[draw.city.code] = companies * draw.rng("M3.2").uniform(0.5, 1.5) * (draw.city.gdp / 15000) ** 0.3
    total = sum(weight for code, weight in weights.items() if code != CHONGQING)
    for draw in draws:
        share = OTHER_CITIES_BALANCE_SHARE * weights[draw.city.code] / total
        draw.put("M3.2", share, share * draw.rng("M3.2/change").uniform(0.9, 1.1))


def _share_patents(draws: list[_CityDraw]) -> None:
    """E2.1: patents follow the institutions; Chongqing holds about two-thirds of the 30 cities' total."""
    others = [draw for draw in draws if draw.city.code != CHONGQING]
    weights = {}
    for draw in others:
        companies, lenders = draw.floats("M1.2")[0], draw.floats("M1.3")[0]
        weights[draw.city.code] = (companies * 3 + lenders) * draw.rng("E2.1").uniform(0.3, 1.7)
    total = sum(weights.values())
    for draw in others:
        patents = max(1.0, OTHER_CITIES_PATENTS * weights[draw.city.code] / total)
        draw.put("E2.1", patents, patents * draw.rng("E2.1/change").uniform(0.85, 1.35))
    chongqing = next(draw for draw in draws if draw.city.code == CHONGQING)
    chongqing.put_exact("E2.1", *(
        CHONGQING_PATENT_MULTIPLE * sum(draw.floats("E2.1")[index] for draw in others) for index in (0, 1)))


def demo_values(*, methodology: MethodologySpec, seed: int = DEMO_SEED) -> Values:
    """The illustrative values, ``{city code: {data year: {variable code: Decimal}}}``.

    Pure and deterministic: the same methodology and seed give the same values on every machine,
    so the demo, its tests and screenshots agree.
    """
    settle = _Settle(methodology)
    draws = [_CityDraw(city=city, seed=seed, settle=settle) for city in DEMO_CITIES]
    for draw in draws:
        _draw_city(draw)
    _share_national_balance(draws)
    _share_patents(draws)
    return {draw.city.code: draw.years for draw in draws}


# Loading.

@dataclass
class DemoLoadSummary:
    methodology: str
    methodology_created: bool = False
    cities: int = 0
    accounts: int = 0
    periods: int = 0
    returns: int = 0
    values: int = 0
    skipped_periods: list[int] = field(default_factory=list)

    @property
    def created_anything(self) -> bool:
        return self.methodology_created or any((self.cities, self.accounts, self.periods, self.returns, self.values))


@transaction.atomic(durable=True)
def demo_load() -> DemoLoadSummary:
    """Load whatever part of the demo is missing, all or nothing; existing rows are never changed
    (no password is reset, no value overwritten), so running it again is harmless."""
    methodology, created = _demo_methodology_ensure()
    summary = DemoLoadSummary(methodology=f"{methodology.code} {methodology.version}", methodology_created=created)
    summary.cities = _demo_cities_ensure()
    summary.accounts = _demo_accounts_ensure()
    periods, summary.periods = _demo_periods_ensure(methodology=methodology)
    usable = [period for period in periods if period.methodology_id == methodology.pk]
    summary.skipped_periods = [period.data_year for period in periods if period not in usable]
    summary.returns, summary.values = _demo_returns_ensure(methodology=methodology, periods=usable)
    if summary.created_anything:
        audit_record(actor=None, event_type="demo.load", details={
            "methodology_created": summary.methodology_created, "cities": summary.cities,
            "accounts": summary.accounts, "periods": summary.periods, "returns": summary.returns,
            "values": summary.values,
        })
    return summary


@dataclass
class DemoIndexOutcome:
    data_year: int
    run: IndexRun
    published: bool  # published by this call


def demo_index_ensure() -> list[DemoIndexOutcome]:
    """Compute each demo period's index and publish it (as the demo methodologist) unless the period
    already has a published run; the same data gives the same run, so a second call changes nothing."""
    methodologist = User.objects.filter(username="methodologist").first()
    outcomes = []
    for period in ReportingPeriod.objects.filter(data_year__in=[p.data_year for p in DEMO_PERIODS]).order_by(
            "data_year"):
        run = index_run_compute(period=period)
        publish = (methodologist is not None and run.state == RunState.SUCCEEDED and not run.is_provisional
                   and not period.runs.published().exists())
        if publish:
            run = index_run_publish(run=run, actor=methodologist)
        outcomes.append(DemoIndexOutcome(data_year=period.data_year, run=run, published=publish))
    return outcomes


def _demo_methodology_ensure() -> tuple[MethodologyVersion, bool]:
    """Import and publish the default methodology unless a version with its label exists."""
    existing = MethodologyVersion.objects.filter(code=DEMO_METHODOLOGY_CODE, version=DEMO_METHODOLOGY_VERSION).first()
    if existing is not None:
        return existing, False
    version = methodology_import(text=demo_methodology_path().read_text(encoding="utf-8"), actor=None)
    return methodology_publish(version=version, actor=None), True


def _demo_cities_ensure() -> int:
    existing = set(City.objects.values_list("code", flat=True))
    created = 0
    for city in DEMO_CITIES:
        if city.code in existing:
            continue
        row = City(code=city.code, name_zh=city.name_zh, name_en=city.name_en,
                   province_zh=city.province_zh, province_en=city.province_en)
        row.full_clean()
        row.save()
        created += 1
    return created


def _demo_accounts_ensure() -> int:
    """Create missing accounts; one hash of the shared, published demo password serves them all,
    because hashing it 35 times with the production hasher takes about 20 seconds."""
    existing = set(User.objects.values_list("username", flat=True))
    missing = [account for account in demo_accounts() if account.username not in existing]
    if not missing:
        return 0
    password = make_password(DEMO_PASSWORD)
    cities = {city.code: city for city in City.objects.filter(code__in=[city.code for city in DEMO_CITIES])}
    groups = {group.name: group for group in Group.objects.filter(name__in=Role.values)}
    for account in missing:
        user = User(username=account.username, first_name=account.first_name, password=password,
                    is_staff=account.is_staff, is_superuser=account.is_superuser,
                    city=cities[account.city_code] if account.city_code else None)
        user.full_clean()
        user.save()
        if account.role:
            user.groups.add(groups[account.role])
    return len(missing)


def _demo_periods_ensure(*, methodology: MethodologyVersion) -> tuple[list[ReportingPeriod], int]:
    periods, created = [], 0
    for demo_period in DEMO_PERIODS:
        period = ReportingPeriod.objects.filter(data_year=demo_period.data_year).first()
        if period is None:
            period = ReportingPeriod(data_year=demo_period.data_year, state=demo_period.state,
                                     opens_on=demo_period.opens_on, due_on=demo_period.due_on,
                                     methodology=methodology)
            period.full_clean()
            period.save()
            created += 1
        periods.append(period)
    return periods, created


def _demo_returns_ensure(*, methodology: MethodologyVersion, periods: list[ReportingPeriod]) -> tuple[int, int]:
    """An approved illustrative revision 1 per city and period, unless that city already has one."""
    values = demo_values(methodology=methodology_spec(version=methodology))
    indicators = {indicator.code: indicator for indicator in Indicator.objects.filter(version=methodology)}
    cities = {city.code: city for city in City.objects.filter(code__in=[city.code for city in DEMO_CITIES])}
    taken = set(IndicatorReturn.objects.filter(period__in=periods, revision=1).values_list("city_id", "period_id"))
    new_returns = []
    for period in periods:
        for index, demo_city in enumerate(DEMO_CITIES):
            city = cities[demo_city.code]
            if (city.pk, period.pk) in taken:
                continue
            submitted_at, approved_at = demo_return_times(period=period, city_index=index)
            new_returns.append(IndicatorReturn(
                city=city, period=period, revision=1, state=ReturnState.APPROVED, is_illustrative=True,
                submitted_at=submitted_at, approved_at=approved_at,
            ))
    IndicatorReturn.objects.bulk_create(new_returns)
    new_values = [
        ReturnValue(indicator_return=indicator_return, indicator=indicators[code], value=value,
                    observation_status=ObservationStatus.FINAL, source_note=SOURCE_NOTE)
        for indicator_return in new_returns
        for code, value in values[indicator_return.city.code][indicator_return.period.data_year].items()
    ]
    ReturnValue.objects.bulk_create(new_values)
    return len(new_returns), len(new_values)
