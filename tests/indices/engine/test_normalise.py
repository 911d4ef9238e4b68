"""Normalisation methods against hand-computed values (COINr's n_* functions, Handbook Table 3)."""
import math

import numpy as np
import pytest

from indices.engine.compute import compute
from indices.engine.errors import EngineError

from .builders import indicator, matrix, methodology, node, scores, units

X = [2.0, 4.0, 6.0, 10.0]


def leaves(column, *, method="minmax", params=None, direction=1, log=False, scale=(0.0, 100.0), reference=None):
    """Normalise one column through the whole engine; return the indicator's scores."""
    tree = node("I", indicator("x", method=method, params=params, direction=direction, log=log))
    values = np.array(column, dtype=float)[:, None]
    result = compute(methodology=methodology(tree, normalisation_range=scale, availability_threshold=0.0),
                     units=units(len(column)), values=values, audit=False,
                     reference=np.array(reference, dtype=float)[:, None] if reference is not None else None)
    return scores(result, "x")


def test_minmax_maps_onto_the_range():
    assert leaves(X).tolist() == [0.0, 25.0, 50.0, 100.0]
    assert leaves(X, scale=(0.0, 1.0)).tolist() == [0.0, 0.25, 0.5, 1.0]
    assert leaves(X, scale=(1.0, 100.0)).tolist() == [1.0, 25.75, 50.5, 100.0]


def test_direction_minus_one_reverses():
    assert leaves(X, direction=-1).tolist() == [100.0, 75.0, 50.0, 0.0]


def test_missing_values_stay_missing_and_do_not_move_the_scale():
    result = leaves([2.0, math.nan, 6.0, 10.0])
    assert result[0] == 0.0 and math.isnan(result[1]) and result[2] == 50.0 and result[3] == 100.0


def test_zscore_uses_the_sample_standard_deviation():
    sd = math.sqrt((3.5**2 + 1.5**2 + 0.5**2 + 4.5**2) / 3)
    assert np.allclose(leaves(X, method="zscore"), [(x - 5.5) / sd for x in X])
    assert np.allclose(leaves(X, method="zscore", direction=-1), [(5.5 - x) / sd for x in X])


def test_goalposts_clip_beyond_the_posts():
    posts = {"lower": 3.0, "upper": 8.0}
    assert np.allclose(leaves(X, method="goalposts", params=posts), [0.0, 20.0, 60.0, 100.0])


def test_goalposts_swap_for_direction_minus_one_as_coinr():
    posts = {"lower": 3.0, "upper": 8.0}
    assert np.allclose(leaves(X, method="goalposts", params=posts, direction=-1), [100.0, 80.0, 40.0, 0.0])
    # COINr's documented examples: n_goalposts(1, c(0, 10, 1)) = 0.1, and 0.9 with direction = -1.
    ten = {"lower": 0.0, "upper": 10.0}
    assert np.allclose(leaves([1.0, 5.0], method="goalposts", params=ten, scale=(0.0, 1.0)), [0.1, 0.5])
    assert np.allclose(leaves([1.0, 5.0], method="goalposts", params=ten, direction=-1, scale=(0.0, 1.0)),
                       [0.9, 0.5])


def test_distance_to_target():
    assert np.allclose(leaves(X, method="target", params={"target": 8.0}, scale=(0.0, 1.0)),
                       [0.0, 1 / 3, 2 / 3, 4 / 3])
    assert np.allclose(leaves(X, method="target", params={"target": 8.0, "cap_max": 1}, scale=(0.0, 1.0)),
                       [0.0, 1 / 3, 2 / 3, 1.0])
    # Direction −1: (max − x) / (max − target), COINr's n_dist2targ.
    assert np.allclose(leaves(X, method="target", params={"target": 3.0}, direction=-1, scale=(0.0, 1.0)),
                       [8 / 7, 6 / 7, 4 / 7, 0.0])


def test_ratio_to_the_best_and_to_the_mean():
    assert np.allclose(leaves(X, method="ratio_best"), [20.0, 40.0, 60.0, 100.0])
    assert np.allclose(leaves(X, method="ratio_best", direction=-1), [100.0, 50.0, 100 / 3, 20.0])
    assert np.allclose(leaves(X, method="ratio_mean"), [x / 5.5 for x in X])
    assert np.allclose(leaves(X, method="ratio_mean", direction=-1), [5.5 / x for x in X])


def test_ratios_refuse_non_positive_values():
    with pytest.raises(EngineError, match="ratio_best normalisation of indicator x needs positive values, but u1"):
        leaves([2.0, 0.0, 3.0], method="ratio_best")


def test_rank_takes_the_lowest_rank_for_ties():
    assert leaves([2.0, 4.0, 4.0, 10.0], method="rank").tolist() == [1.0, 2.0, 2.0, 4.0]
    assert leaves([2.0, 4.0, 4.0, 10.0], method="rank", direction=-1).tolist() == [4.0, 2.0, 2.0, 1.0]


def test_percentile_rank_is_rank_minus_one_over_n_minus_one():
    assert np.allclose(leaves([2.0, 4.0, 4.0, 10.0], method="percentile_rank", scale=(0.0, 1.0)),
                       [0.0, 1 / 3, 1 / 3, 1.0])
    assert np.allclose(leaves([2.0, 4.0, 4.0, 10.0], method="percentile_rank"), [0.0, 100 / 3, 100 / 3, 100.0])


def test_log_transform_comes_first():
    assert np.allclose(leaves([1.0, math.e, math.e**2], log=True), [0.0, 50.0, 100.0])


def test_log_transform_refuses_non_positive_values():
    with pytest.raises(EngineError, match="indicator x is log-transformed, but u1 has the non-positive value 0"):
        leaves([1.0, 0.0, 3.0], log=True)


def test_goalposts_of_a_log_transformed_indicator_are_in_its_own_unit():
    posts = {"lower": 100.0, "upper": 75000.0}
    expected = (math.log(3829) - math.log(100)) / (math.log(75000) - math.log(100))
    assert np.allclose(leaves([3829.0, 90000.0], method="goalposts", params=posts, log=True, scale=(0.0, 1.0)),
                       [expected, 1.0])


def test_a_reference_fixes_the_scale():
    assert np.allclose(leaves(X, reference=[0.0, 20.0]), [10.0, 20.0, 30.0, 50.0])
    assert np.allclose(leaves(X, method="zscore", reference=[0.0, 20.0]),
                       [(x - 10) / math.sqrt(200) for x in X])
    # Ranks against the reference: 1 + the number of reference values below.
    assert leaves(X, method="rank", reference=[3.0, 5.0, 7.0]).tolist() == [1.0, 2.0, 3.0, 4.0]


def test_a_flat_indicator_gets_no_score_and_a_warning():
    tree = node("I", indicator("x"), indicator("y"))
    result = compute(methodology=methodology(tree), units=units(3), values=matrix([1, 5], [1, 6], [1, 7]),
                     audit=False)
    assert np.isnan(scores(result, "x")).all()
    assert scores(result, "I").tolist() == [0.0, 50.0, 100.0]  # the parent re-weights over y
    assert [warning.render() for warning in result.diagnostics.warnings] == [
        "indicator x has the same value for every unit, so minmax gives it no score"]
