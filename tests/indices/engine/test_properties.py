"""Properties that must hold for any data (hypothesis)."""
import dataclasses
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from indices.engine.compute import compute
from indices.engine.errors import EngineError
from indices.engine.settings import IMPUTATIONS
from indices.engine.spec import AGGREGATIONS, NodeSpec

from .builders import indicator, methodology, node, units

COLUMNS = 5
GOALPOSTS = {"lower": 0.0, "upper": 1000.0}


def tree(aggregations=("arithmetic",) * 3, weights=(1.0,) * 7, method="minmax", params=None,
         directions=(1,) * COLUMNS):
    leaves = [indicator(f"x{index}", weight=weights[index], method=method, params=params,
                        direction=directions[index]) for index in range(COLUMNS)]
    return node("I", node("A", *leaves[:3], weight=weights[5], aggregation=aggregations[1]),
                node("B", *leaves[3:], weight=weights[6], aggregation=aggregations[2]), aggregation=aggregations[0])


def matrices(*, low=0.1, high=1000.0, min_units=2, max_units=9, values=None):
    element = values if values is not None else st.floats(low, high, allow_nan=False)
    return st.integers(min_units, max_units).flatmap(
        lambda count: st.lists(st.lists(element, min_size=COLUMNS, max_size=COLUMNS), min_size=count,
                               max_size=count).map(lambda rows: np.array(rows, dtype=float)))


ties_or_not = st.one_of(st.floats(0.1, 1000.0, allow_nan=False), st.integers(1, 4).map(float))


@settings(database=None, deadline=None, max_examples=60)
@given(values=matrices(values=ties_or_not), data=st.data(),
       aggregations=st.tuples(*[st.sampled_from(AGGREGATIONS)] * 3))
def test_ranks_are_permutation_equivariant(values, data, aggregations):
    order = np.array(data.draw(st.permutations(range(len(values)))))
    spec = methodology(tree(aggregations), normalisation_range=(1.0, 100.0))
    names = units(len(values))
    result = compute(methodology=spec, units=names, values=values, audit=False)
    shuffled = compute(methodology=spec, units=[names[index] for index in order], values=values[order], audit=False)
    assert np.array_equal(shuffled.ranks, result.ranks[order])
    assert np.array_equal(shuffled.scores, result.scores[order], equal_nan=True)


@settings(database=None, deadline=None, max_examples=60)
@given(values=matrices(), factor=st.floats(0.01, 100.0), which=st.sampled_from(["I", "A", "B"]),
       weights=st.tuples(*[st.floats(0.1, 10.0)] * 7))
def test_scaling_all_weights_of_siblings_changes_nothing(values, factor, which, weights):
    base = tree(weights=weights)
    scaled = _scale_children(base, which, factor)
    names = units(len(values))
    before = compute(methodology=methodology(base), units=names, values=values, audit=False)
    after = compute(methodology=methodology(scaled), units=names, values=values, audit=False)
    np.testing.assert_allclose(after.scores, before.scores, rtol=1e-9, atol=1e-9)
    root = before.scores[:, 0]
    gaps = np.abs(root[:, None] - root[None, :])[~np.eye(len(root), dtype=bool)]
    if gaps.size == 0 or gaps.min() > 1e-6:
        assert np.array_equal(after.ranks[:, 0], before.ranks[:, 0])


@settings(database=None, deadline=None, max_examples=80)
@given(values=matrices(low=0.0, high=1000.0), unit=st.integers(0, 8), column=st.integers(0, COLUMNS - 1),
       raise_by=st.floats(0.0, 2000.0), directions=st.tuples(*[st.sampled_from([1, -1])] * COLUMNS),
       weights=st.tuples(*[st.floats(0.1, 10.0)] * 7))
def test_with_goalposts_raising_a_positive_indicator_never_lowers_the_arithmetic_composite(
        values, unit, column, raise_by, directions, weights):
    assume(unit < len(values))
    directions = list(directions)
    directions[column] = 1
    spec = methodology(tree(weights=weights, method="goalposts", params=GOALPOSTS, directions=directions))
    names = units(len(values))
    raised = values.copy()
    raised[unit, column] += raise_by
    before = compute(methodology=spec, units=names, values=values, audit=False)
    after = compute(methodology=spec, units=names, values=raised, audit=False)
    assert after.scores[unit, 0] >= before.scores[unit, 0] - 1e-9
    others = np.arange(len(values)) != unit
    assert np.array_equal(after.scores[others], before.scores[others])


maybe_missing = st.one_of(st.floats(0.1, 1000.0, allow_nan=False), st.just(math.nan))


@settings(database=None, deadline=None, max_examples=80)
@given(values=matrices(values=maybe_missing), previous=matrices(values=maybe_missing, min_units=9),
       imputation=st.sampled_from(IMPUTATIONS))
def test_imputation_never_changes_an_observed_value(values, previous, imputation):
    spec = methodology(tree(), imputation=imputation, availability_threshold=0.0)
    try:
        result = compute(methodology=spec, units=units(len(values)), values=values,
                         previous=previous[:len(values)], audit=False)
    except EngineError as error:
        assert "no indicator has enough data" in str(error) or "no unit has enough data" in str(error)
        return
    observed = ~np.isnan(values)
    assert np.array_equal(result.values[observed], values[observed])
    imputed = result.diagnostics.imputed
    assert not (imputed & observed).any()
    assert not np.isnan(result.values[imputed]).any()


@settings(database=None, deadline=None, max_examples=60)
@given(values=matrices(min_units=3))
def test_geometric_refuses_zeros_naming_the_node_and_unit(values):
    for column in range(COLUMNS):
        assume(values[:, column].max() > values[:, column].min())
    spec = methodology(tree(("arithmetic", "geometric", "arithmetic")), normalisation_range=(0.0, 100.0))
    names = units(len(values))
    with pytest.raises(EngineError) as error:
        compute(methodology=spec, units=names, values=values, audit=False)
    assert error.value.node == "A" and error.value.unit in names
    child = error.value.params["child"]
    column = int(child[1:])
    assert values[names.index(error.value.unit), column] == values[:, column].min()  # its min-max score is 0
    assert f"node A needs positive values, but {error.value.unit} has {child} = 0" in str(error.value)


def _scale_children(item: NodeSpec, code: str, factor: float) -> NodeSpec:
    children = tuple(_scale_children(child, code, factor) if isinstance(child, NodeSpec) else child
                     for child in item.children)
    if item.code == code:
        children = tuple(dataclasses.replace(child, weight=child.weight * factor) for child in children)
    return dataclasses.replace(item, children=children)
