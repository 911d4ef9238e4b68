"""The illustrative values: pure and reproducible, from a fixed seed and each city's approximate
population and GDP, moved by a strength factor per top-ten city so that the demo's ranking reads in the
published top ten's order; only the Chongqing facts of the design document (methodology-ccfi-2025.md)
are taken from public reporting. Still illustrative: no value is a statistic."""
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from indices.demo.catalogue import CHONGQING, DEMO_CITIES, DEMO_YEARS, DemoCity
from indices.engine.spec import MethodologySpec

DEMO_SEED = 2025

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

# How strong each city's consumer finance is beyond what its size and wealth say, so that the demo's
# 2024 ranking reads in the published top ten's order (catalogue.PUBLISHED_TOP_TEN); every indicator is
# moved by it in its good direction. A calibration of illustrative values, not a measurement.
CITY_STRENGTH: dict[str, float] = {
    "310000": 1.63,  # Shanghai
    "110000": 1.53,  # Beijing
    "500000": 1.20,  # Chongqing (its public facts stay as reported)
    "440300": 1.62,  # Shenzhen
    "440100": 1.38,  # Guangzhou
    "330100": 1.30,  # Hangzhou
    "510100": 1.49,  # Chengdu
    "320500": 1.21,  # Suzhou
    "320100": 1.24,  # Nanjing
    "370100": 1.17,  # Jinan
}

# Not moved by strength: balances (the balance per head, M2.3, follows from them and would leave its
# bounds) and the figures shared out of a fixed total (M3.2, E2.1), whose totals must hold.
UNTILTED = frozenset({"M2.1", "M3.2", "E2.1"})

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
        return random.Random(f"ccfi-demo/{self.seed}/{self.city.code}/{topic}")  # made-up demo data, no secret  # nosec B311

    def put(self, code: str, first: float, second: float) -> None:
        pair = CHONGQING_FACTS.get(code) if self.city.code == CHONGQING else None
        self.years[DEMO_YEARS[0]][code], self.years[DEMO_YEARS[1]][code] = pair or self.settle.pair(
            code, self.tilt(code, first), self.tilt(code, second))

    def tilt(self, code: str, value: float) -> float:
        """An indicator moved by the city's strength in its good direction (context variables stay as drawn)."""
        direction = 0 if code in UNTILTED else getattr(self.settle.variables[code], "direction", 0)
        strength = CITY_STRENGTH.get(self.city.code, 1.0)
        return float(value) * strength ** direction if direction else float(value)

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


def demo_values(*, methodology: MethodologySpec, seed: int = DEMO_SEED,
                cities: Sequence[DemoCity] = DEMO_CITIES) -> Values:
    """The illustrative values, ``{city code: {data year: {variable code: Decimal}}}``.

    Pure and deterministic: the same methodology and seed give the same values on every machine,
    so the demo, its tests and screenshots agree. ``cities`` (the demo's 30 by default; Chongqing
    among them) lets a benchmark draw the same kind of values for more cities.
    """
    settle = _Settle(methodology)
    draws = [_CityDraw(city=city, seed=seed, settle=settle) for city in cities]
    for draw in draws:
        _draw_city(draw)
    _share_national_balance(draws)
    _share_patents(draws)
    return {draw.city.code: draw.years for draw in draws}
