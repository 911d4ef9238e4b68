"""Outlier treatment: COINr's Treat() with check_SkewKurt, winsorise and log_CT."""
import math

import numpy as np

from indices.engine.compute import compute
from indices.engine.stats import skew_kurtosis
from indices.engine.treat import winsorise

from .builders import indicator, methodology, node, units

EXPONENTIAL_TAIL = [*range(1, 21), 100, 200, 400, 800, 1600, 3200]


def run(column, **engine):
    tree = node("I", indicator("x"))
    engine = {"outlier_treatment": True, "availability_threshold": 0.0, **engine}
    return compute(methodology=methodology(tree, **engine), units=units(len(column)),
                   values=np.array(column, dtype=float)[:, None], audit=False)


def excel_skew(x):
    """Excel SKEW, written out: n / ((n − 1)(n − 2)) × Σ((x − mean) / s)³."""
    x = np.asarray(x, dtype=float)
    n, s = x.size, x.std(ddof=1)
    return n / ((n - 1) * (n - 2)) * (((x - x.mean()) / s) ** 3).sum()


def excel_kurt(x):
    """Excel KURT, written out: n(n + 1) / ((n − 1)(n − 2)(n − 3)) Σz⁴ − 3(n − 1)² / ((n − 2)(n − 3))."""
    x = np.asarray(x, dtype=float)
    n, s = x.size, x.std(ddof=1)
    z4 = (((x - x.mean()) / s) ** 4).sum()
    return n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * z4 - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))


def test_skew_and_kurtosis_are_excels():
    data = [3, 4, 5, 2, 3, 4, 5, 6, 4, 7]  # Microsoft's SKEW and KURT documentation example
    skew, kurtosis = skew_kurtosis(np.array(data, dtype=float))
    assert round(skew[0], 6) == 0.359543
    assert round(kurtosis[0], 9) == -0.151799637
    assert math.isclose(skew[0], excel_skew(data)) and math.isclose(kurtosis[0], excel_kurt(data))


def test_an_indicator_within_the_limits_is_left_alone():
    result = run([3, 4, 5, 2, 3, 4, 5, 6, 4, 7])
    assert result.diagnostics.treatments == ()


def test_it_winsorises_one_point_as_in_coinrs_example():
    # COINr's Treat() example: 1..10 with outliers 30 and 100; skew 3.06, kurtosis 9.74 fail the check,
    # and moving 100 to the next value (30) passes (skew 1.71, kurtosis 1.82).
    column = [*range(1, 11), 30, 100]
    result = run(column)
    (treatment,) = result.diagnostics.treatments
    assert treatment.method == "winsorise" and treatment.winsorised == 1
    assert [(point.unit, point.original, point.treated) for point in treatment.points] == [("u11", 100.0, 30.0)]
    assert round(treatment.skew_before, 2) == 3.06 and round(treatment.kurtosis_before, 2) == 9.74
    assert round(treatment.skew_after, 2) == 1.71 and treatment.passes_after
    assert result.values[:, 0].tolist() == column  # treatment never shows in the reported data
    assert result.scores[:, 1].tolist()[-2:] == [100.0, 100.0]


def test_it_winsorises_one_point_at_a_time_up_to_the_limit():
    result = run(EXPONENTIAL_TAIL, winsorise_max=2)
    (treatment,) = result.diagnostics.treatments
    assert treatment.method == "winsorise" and treatment.winsorised == 2
    assert [(point.original, point.treated) for point in treatment.points] == [(1600.0, 800.0), (3200.0, 800.0)]


def test_it_falls_back_to_log_ct_on_the_original_values():
    result = run(EXPONENTIAL_TAIL, winsorise_max=1)
    (treatment,) = result.diagnostics.treatments
    assert treatment.method == "log_ct" and treatment.winsorised == 0
    logged = np.log(np.array(EXPONENTIAL_TAIL) - 1 + 0.01 * (3200 - 1))
    expected = (logged - logged.min()) / (logged.max() - logged.min()) * 100
    assert np.allclose(result.scores[:, 1], expected)
    assert treatment.points == ()  # the log moves every value; points list only winsorised ones


def test_negative_skew_winsorises_the_low_end():
    winsorised, count = winsorise(-np.array([*range(1, 11), 30, 100], dtype=float), winsorise_max=5,
                                  skew_threshold=2.0, kurtosis_threshold=3.5)
    assert count == 1 and winsorised[-1] == -30.0


def test_tied_extremes_move_together_as_in_coinr():
    winsorised, count = winsorise(np.array([*range(1, 21), 500, 500], dtype=float), winsorise_max=1,
                                  skew_threshold=2.0, kurtosis_threshold=3.5)
    assert count == 2 and winsorised[-2:].tolist() == [20.0, 20.0]


def test_too_few_values_are_reported_not_treated():
    result = run([1.0, 2.0, 100.0])
    assert [treatment.method for treatment in result.diagnostics.treatments] == ["too_few_values"]


def test_with_a_reference_the_treatment_is_fitted_on_the_reference_and_applied_to_both():
    tree = node("I", indicator("x"))
    reference = np.array([*range(1, 11), 30, 100], dtype=float)[:, None]  # capped at 30, as above
    result = compute(methodology=methodology(tree, outlier_treatment=True), units=units(4),
                     values=np.array([[5.0], [50.0], [200.0], [1.0]]), reference=reference, audit=False)
    (treatment,) = result.diagnostics.treatments
    assert treatment.method == "winsorise"
    assert [(point.unit, point.original, point.treated) for point in treatment.points] == [
        ("u1", 50.0, 30.0), ("u2", 200.0, 30.0)]
    assert np.allclose(result.scores[:, 1], [(5 - 1) / 29 * 100, 100.0, 100.0, 0.0])
    assert result.diagnostics.reference_used
