"""A published composite index reproduced: the UNDP Human Development Index (HDI).

Method, from UNDP, Human Development Report 2020, Technical notes, Technical note 1: goalposts
life expectancy 20–85 years, expected years of schooling 0–18, mean years of schooling 0–15,
GNI per capita (2017 PPP $) 100–75,000 on the natural log; a value beyond a goalpost scores the
bound (expected schooling "capped at 18", income above $75,000 scores 1); the education index is
the arithmetic mean of its two indices and the HDI the geometric mean of the three dimension indices.

In the engine: goalposts normalisation onto 0–1, ``log_transform`` for income (the goalposts are
written in dollars and transformed with it), an arithmetic education node, a geometric root.
"""
import itertools
import math

import numpy as np
import pytest

from indices.engine.compute import compute

from .builders import indicator, methodology, node

HDI = methodology(
    node(
        "HDI",
        indicator("LE", method="goalposts", params={"lower": 20, "upper": 85}),
        node("EDU", indicator("EYS", method="goalposts", params={"lower": 0, "upper": 18}),
             indicator("MYS", method="goalposts", params={"lower": 0, "upper": 15})),
        indicator("GNI", method="goalposts", params={"lower": 100, "upper": 75000}, log=True),
        aggregation="geometric",
    ),
    normalisation_range=(0.0, 1.0),
)

# UNDP, Human Development Report 2020, Table 1 "Human Development Index and its components" (2019 values):
# country: (HDI, life expectancy at birth, expected years of schooling, mean years of schooling,
# GNI per capita in 2017 PPP $).
HDR_2020_TABLE_1 = {
    "Norway": (0.957, 82.4, 18.1, 12.9, 66494),
    "Ireland": (0.955, 82.3, 18.7, 12.7, 68371),
    "Switzerland": (0.955, 83.8, 16.3, 13.4, 69394),
    "Germany": (0.947, 81.3, 17.0, 14.2, 55314),
    "Australia": (0.944, 83.4, 22.0, 12.7, 48085),
    "Singapore": (0.938, 83.6, 16.4, 11.6, 88155),
    "United States": (0.926, 78.9, 16.3, 13.4, 63826),
    "Japan": (0.919, 84.6, 15.2, 12.9, 42932),
    "Liechtenstein": (0.919, 80.7, 14.9, 12.5, 131032),
    "Qatar": (0.848, 80.2, 12.0, 9.7, 92418),
    "Costa Rica": (0.810, 80.3, 15.7, 8.7, 18486),
    "Brazil": (0.765, 75.9, 15.4, 8.0, 14263),
    "China": (0.761, 76.9, 14.0, 8.1, 16057),
    "South Africa": (0.709, 64.1, 13.8, 10.2, 12129),
    "India": (0.645, 69.7, 12.2, 6.5, 6681),
    "Ghana": (0.611, 64.1, 11.5, 7.3, 5269),
    "Chad": (0.398, 54.2, 7.3, 2.5, 1555),
    "Niger": (0.394, 62.4, 6.5, 2.1, 1201),
}


def technical_note_hdi(life, expected, mean, income):
    """Technical note 1, written out independently of the engine."""
    health = (min(max(life, 20), 85) - 20) / (85 - 20)
    education = (min(expected, 18) / 18 + min(mean, 15) / 15) / 2
    income_index = (math.log(min(max(income, 100), 75000)) - math.log(100)) / (math.log(75000) - math.log(100))
    return (health * education * income_index) ** (1 / 3)


@pytest.fixture(scope="module")
def result():
    countries = list(HDR_2020_TABLE_1)
    values = np.array([HDR_2020_TABLE_1[country][1:] for country in countries], dtype=float)
    return compute(methodology=HDI, units=countries, values=values)


def test_the_engine_computes_the_technical_note_formula(result):
    for country, (_, *inputs) in HDR_2020_TABLE_1.items():
        assert math.isclose(result.score(country, "HDI"), technical_note_hdi(*inputs), rel_tol=1e-12), country


def test_it_reproduces_the_printed_hdi_within_the_rounding_of_the_printed_components(result):
    """Table 1 prints the components rounded (0.1 year, $1), so the printed HDI (3 decimals) must lie
    within the range the engine gives over every rounding of them; half the last digit either side."""
    for country, (printed, life, expected, mean, income) in HDR_2020_TABLE_1.items():
        corners = [technical_note_hdi(life + a, expected + b, mean + c, income + d)
                   for a, b, c, d in itertools.product((-0.05, 0.05), (-0.05, 0.05), (-0.05, 0.05), (-0.5, 0.5))]
        assert min(corners) - 0.0005 <= printed <= max(corners) + 0.0005, country
        assert abs(result.score(country, "HDI") - printed) < 0.0016, country


def test_most_printed_values_are_matched_exactly(result):
    """From the rounded components, these 11 of the 18 give the printed HDI to all three decimals; the other
    7 (Ireland, Switzerland, Germany, Qatar, China, India, Chad) are off by at most 0.0015, which the
    rounding of their components accounts for (test above)."""
    exact = ["Norway", "Australia", "Singapore", "Liechtenstein", "United States", "Japan", "Costa Rica",
             "Brazil", "South Africa", "Ghana", "Niger"]
    assert [round(result.score(country, "HDI"), 3) for country in exact] == [
        HDR_2020_TABLE_1[country][0] for country in exact]


def test_caps_score_the_goalpost(result):
    assert result.score("Australia", "EYS") == 1.0  # 22.0 expected years, capped at 18
    assert result.score("Liechtenstein", "GNI") == 1.0  # $131,032, above $75,000
    assert result.score("Norway", "LE") == pytest.approx((82.4 - 20) / 65)


def test_the_worked_example_of_the_technical_notes():
    """HDR 2020 Technical note 1, worked example (Sudan): GNI per capita $3,829 gives an income index of
    0.5506, and the dimension indices 0.6971, 0.3447 and 0.5506 give an HDI of 0.510."""
    income = compute(methodology=HDI, units=["Sudan"], values=np.array([[65.3, 7.9, 3.8, 3829.0]]), audit=False)
    assert round(income.score("Sudan", "GNI"), 4) == 0.5506
    dimensions = methodology(
        node("HDI", *(indicator(code, method="goalposts", params={"lower": 0, "upper": 1})
                      for code in ("health", "education", "income")), aggregation="geometric"),
        normalisation_range=(0.0, 1.0),
    )
    hdi = compute(methodology=dimensions, units=["Sudan"], values=np.array([[0.6971, 0.3447, 0.5506]]), audit=False)
    assert round(hdi.score("Sudan", "HDI"), 3) == 0.510
