"""Weights, aggregation and ranks, against hand-computed cases."""
import math

import numpy as np
import pytest

from indices.engine.compute import compute
from indices.engine.errors import EngineError

from .builders import identity, indicator, matrix, methodology, node, ranks, scores, units


def run(tree, values, **engine):
    values = matrix(*values)
    return compute(methodology=methodology(tree, **engine), units=units(len(values)), values=values, audit=False)


def test_weighted_arithmetic_mean():
    result = run(node("I", identity("a"), identity("b", weight=3.0)), [[20, 80]])
    assert scores(result, "I").tolist() == [65.0]


def test_weighted_geometric_mean():
    equal = run(node("I", identity("a"), identity("b"), aggregation="geometric"), [[4, 16]])
    weighted = run(node("I", identity("a"), identity("b", weight=3.0), aggregation="geometric"), [[4, 16]])
    assert math.isclose(scores(equal, "I")[0], 8.0)
    assert math.isclose(scores(weighted, "I")[0], 4**0.25 * 16**0.75)


def test_weighted_harmonic_mean():
    equal = run(node("I", identity("a"), identity("b"), aggregation="harmonic"), [[2, 6]])
    weighted = run(node("I", identity("a"), identity("b", weight=3.0), aggregation="harmonic"), [[2, 6]])
    assert math.isclose(scores(equal, "I")[0], 3.0)
    assert math.isclose(scores(weighted, "I")[0], 4 / (1 / 2 + 3 / 6))


@pytest.mark.parametrize("aggregation", ["geometric", "harmonic"])
def test_geometric_and_harmonic_refuse_non_positive_values_naming_node_and_unit(aggregation):
    tree = node("I", node("G", indicator("a"), indicator("b"), aggregation=aggregation))
    with pytest.raises(EngineError) as error:
        run(tree, [[1, 5], [2, 6], [3, 7]])
    assert error.value.node == "G" and error.value.unit == "u0"
    assert str(error.value) == (f"the {aggregation} mean of node G needs positive values, but u0 has a = 0; "
                                "normalise onto 1–100 or use the arithmetic mean")


def test_geometric_works_on_the_1_to_100_range():
    tree = node("I", indicator("a"), indicator("b"), aggregation="geometric")
    result = run(tree, [[1, 5], [2, 6], [3, 7]], normalisation_range=(1.0, 100.0))
    assert np.allclose(scores(result, "I"), [1.0, 50.5, 100.0])


def test_weights_are_relative_within_siblings():
    small = run(node("I", identity("a", weight=1.0), identity("b", weight=3.0)), [[20, 80], [50, 10]])
    large = run(node("I", identity("a", weight=10.0), identity("b", weight=30.0)), [[20, 80], [50, 10]])
    assert scores(small, "I").tolist() == scores(large, "I").tolist() == [65.0, 20.0]


def test_equal_weighting_ignores_declared_weights():
    result = run(node("I", identity("a"), identity("b", weight=3.0)), [[20, 80]], weighting="equal")
    assert scores(result, "I").tolist() == [50.0]
    assert result.weights["b"] == 0.5


def test_entropy_weighting():
    result = run(node("I", identity("a"), identity("b")), [[0, 0], [50, 100], [100, 100]], weighting="entropy")

    def divergence(p):
        p = np.array(p)
        p = p[p > 0]
        return 1 + (p * np.log(p)).sum() / math.log(3)

    # a rescales to (0, 0.5, 1): p = (0, 1/3, 2/3); b to (0, 1, 1): p = (0, 1/2, 1/2).
    d_a, d_b = divergence([0, 1 / 3, 2 / 3]), divergence([0, 1 / 2, 1 / 2])
    assert math.isclose(result.weights["a"], d_a / (d_a + d_b))
    assert math.isclose(result.weights["b"], d_b / (d_a + d_b))
    assert np.allclose(scores(result, "I"), [0.0, 50 * result.weights["a"] + 100 * result.weights["b"],
                                             100.0])


def test_effective_weights_multiply_down_the_tree():
    tree = node("I", node("A", identity("a1"), identity("a2", weight=3.0)), node("B", identity("b1"), weight=2.0))
    result = run(tree, [[10, 20, 30]])
    assert result.effective_weights == pytest.approx(
        {"I": 1.0, "A": 1 / 3, "a1": 1 / 12, "a2": 3 / 12, "B": 2 / 3, "b1": 2 / 3})
    assert sum(result.effective_weights[code] for code in result.indicator_codes) == pytest.approx(1.0)


def test_a_node_can_mix_indicators_and_nodes():
    tree = node("I", identity("a"), node("B", identity("b1"), identity("b2")))
    result = run(tree, [[20, 40, 80]])
    assert scores(result, "B").tolist() == [60.0] and scores(result, "I").tolist() == [40.0]


def test_ranks_use_unrounded_scores_and_ties_take_the_lowest_rank():
    result = run(node("I", identity("a")), [[50], [80], [50], [20], [50.000000001]])
    assert ranks(result, "I").tolist() == [3, 1, 3, 5, 2]
    assert result.rank("u1", "I") == 1 and result.score("u3", "a") == 20.0


def test_scores_and_ranks_cover_every_node_and_indicator_in_tree_order():
    tree = node("I", node("A", identity("a1"), identity("a2")), node("B", identity("b1")))
    result = run(tree, [[10, 20, 30], [40, 50, 60]])
    assert result.codes == ("I", "A", "a1", "a2", "B", "b1")
    assert result.indicator_codes == ("a1", "a2", "b1")
    assert result.ranks.tolist() == [[2, 2, 2, 2, 2, 2], [1, 1, 1, 1, 1, 1]]
