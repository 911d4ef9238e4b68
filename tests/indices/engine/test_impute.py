"""Data availability and imputation, against hand-computed cases."""
import math

import numpy as np
import pytest

from indices.engine.compute import compute
from indices.engine.errors import EngineError

from .builders import identity, matrix, methodology, node, ranks, scores, units

NAN = math.nan


def two_indicators(**engine):
    return methodology(node("I", identity("a"), identity("b", weight=3.0)), **engine)


def test_units_and_indicators_below_the_threshold_are_excluded():
    tree = node("I", identity("a"), identity("b"), identity("c"))
    values = matrix([10, 20, 30], [20, 40, NAN], [30, NAN, NAN], [40, 60, 50])
    result = compute(methodology=methodology(tree), units=units(4), values=values, audit=False)
    diagnostics = result.diagnostics
    assert diagnostics.indicator_availability.tolist() == [1.0, 0.75, 0.5]
    assert diagnostics.excluded_indicators == ("c",)
    # Units are judged on the indicators that remain: u2 has 1 of 2 (0.5 < 0.65).
    assert diagnostics.unit_availability.tolist() == [1.0, 1.0, 0.5, 1.0]
    assert diagnostics.excluded_units == ("u2",)
    assert np.isnan(result.scores[2]).all() and (result.ranks[2] == 0).all()
    assert result.effective_weights["c"] == 0.0 and result.effective_weights["a"] == 0.5
    assert scores(result, "I")[[0, 1, 3]].tolist() == [15.0, 30.0, 50.0]
    assert ranks(result, "I").tolist() == [3, 2, 0, 1]


def test_a_node_left_without_indicators_is_reported():
    tree = node("I", node("A", identity("a")), node("B", identity("b")))
    values = matrix([10, NAN], [20, NAN], [30, 5])
    result = compute(methodology=methodology(tree), units=units(3), values=values, audit=False)
    assert result.diagnostics.empty_nodes == ("B",)
    assert scores(result, "I").tolist() == [10.0, 20.0, 30.0]


def test_no_imputation_reweights_over_the_children_present():
    result = compute(methodology=two_indicators(availability_threshold=0.5), units=units(2),
                     values=matrix([20, 40], [NAN, 80]), audit=False)
    assert scores(result, "I").tolist() == [(20 + 3 * 40) / 4, 80.0]
    assert not result.diagnostics.imputed.any()


def test_group_mean_and_median_fill_with_the_indicators_mean_and_median():
    values = matrix([1, 10], [NAN, 10], [3, 10], [10, 10])
    # Screening comes first (COINr: Screen, then Impute): u1 reports 1 of 2 indicators, so 0.5 must pass.
    mean = compute(methodology=two_indicators(imputation="group_mean", availability_threshold=0.5), units=units(4),
                   values=values, audit=False)
    median = compute(methodology=two_indicators(imputation="group_median", availability_threshold=0.5),
                     units=units(4), values=values, audit=False)
    assert mean.values[1, 0] == 14 / 3 and median.values[1, 0] == 3.0
    assert mean.diagnostics.imputed.tolist() == [[False, False], [True, False], [False, False], [False, False]]
    (cell,) = median.diagnostics.imputed_cells
    assert (cell.unit, cell.indicator, cell.value, cell.source) == ("u1", "a", 3.0, "median")


def test_last_period_fills_from_the_previous_matrix_where_it_can():
    values = matrix([NAN, 10], [NAN, 20], [5, 30])
    previous = matrix([7, 1], [NAN, 2], [9, 3])
    result = compute(methodology=two_indicators(imputation="last_period", availability_threshold=0.3),
                     units=units(3), values=values, previous=previous, audit=False)
    assert result.values[:, 0].tolist()[0] == 7.0 and math.isnan(result.values[1, 0])
    assert result.diagnostics.imputed[:, 0].tolist() == [True, False, False]
    assert scores(result, "I")[1] == 20.0  # still missing: re-weighted over b


def test_last_period_needs_the_previous_values():
    with pytest.raises(EngineError, match="needs last period's values"):
        compute(methodology=two_indicators(imputation="last_period"), units=units(2),
                values=matrix([NAN, 1], [2, 3]), audit=False)


def test_imputation_never_changes_an_observed_value():
    values = matrix([1, NAN], [NAN, 5], [3, 6], [4, 7], [100, 8])
    for method in ("group_mean", "group_median"):
        result = compute(methodology=two_indicators(imputation=method, availability_threshold=0.5), units=units(5),
                         values=values, audit=False)
        observed = ~np.isnan(values)
        assert (result.values[observed] == values[observed]).all()
        assert (result.diagnostics.imputed == ~observed).all()
