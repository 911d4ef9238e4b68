"""Monte Carlo uncertainty analysis and "drop one element" sensitivity."""
import dataclasses

import numpy as np
import pytest

from indices.engine.compute import compute
from indices.engine.spec import IndicatorSpec, NodeSpec

from .builders import identity, indicator, matrix, methodology, node, units

TREE = node("I", node("A", indicator("a1"), indicator("a2", weight=2.0)),
            node("B", indicator("b1"), indicator("b2", direction=-1)))
VALUES = np.random.default_rng(7).lognormal(size=(12, 4)) * 10


def run(values=VALUES, tree=TREE, **engine):
    engine.setdefault("normalisation_range", (1.0, 100.0))
    return compute(methodology=methodology(tree, **engine), units=units(len(values)), values=values,
                   uncertainty=True, audit=False)


def test_without_noise_or_alternatives_every_sample_is_the_nominal_run():
    result = run(uncertainty={"samples": 50, "weight_noise": 0.0, "normalisations": ("minmax",),
                              "aggregations": ("arithmetic",)})
    band = result.uncertainty.bands["I"]
    nominal = result.ranks[:, 0]
    assert band.nominal.tolist() == nominal.tolist()
    assert band.median.tolist() == band.low.tolist() == band.high.tolist() == nominal.tolist()
    assert (band.samples == nominal[:, None]).all()


def test_it_is_seeded_and_records_every_samples_parameters():
    options = {"samples": 200, "seed": 11, "weight_noise": 0.25, "normalisations": ("minmax", "rank"),
               "aggregations": ("arithmetic", "geometric")}
    first, second = run(uncertainty=options), run(uncertainty=options)
    other = run(uncertainty={**options, "seed": 12})
    parameters = first.uncertainty.parameters
    assert parameters.weight_factors.shape == (200, len(first.codes)) and parameters.item_codes == first.codes
    assert (parameters.weight_factors[:, 0] == 1.0).all()
    assert ((parameters.weight_factors >= 0.75) & (parameters.weight_factors <= 1.25)).all()
    assert set(parameters.normalisation) == {"minmax", "rank"} and set(parameters.aggregation) == {
        "arithmetic", "geometric"}
    assert np.array_equal(first.uncertainty.bands["I"].samples, second.uncertainty.bands["I"].samples)
    assert np.array_equal(parameters.weight_factors, second.uncertainty.parameters.weight_factors)
    assert not np.array_equal(parameters.weight_factors, other.uncertainty.parameters.weight_factors)


def test_every_sample_equals_a_nominal_run_with_its_parameters():
    """The vectorised batches must give what one run per sample would give."""
    result = run(uncertainty={"samples": 24, "seed": 3, "weight_noise": 0.4, "normalisations": ("minmax", "zscore"),
                              "aggregations": ("arithmetic", "harmonic")})
    parameters = result.uncertainty.parameters
    for sample in range(24):
        if parameters.failed[sample]:
            continue
        factors = dict(zip(parameters.item_codes, parameters.weight_factors[sample], strict=True))
        tree = _with(TREE, factors, parameters.normalisation[sample], parameters.aggregation[sample])
        single = compute(methodology=methodology(tree, normalisation_range=(1.0, 100.0)), units=units(12),
                         values=VALUES, audit=False)
        assert single.ranks[:, 0].tolist() == result.uncertainty.bands["I"].samples[:, sample].tolist(), sample


def test_failed_samples_are_recorded_and_left_out():
    # On 0–100, min-max gives every indicator a 0, so each geometric sample fails (COINr issue #47).
    options = {"samples": 100, "normalisations": ("minmax",), "aggregations": ("arithmetic", "geometric")}
    result = run(normalisation_range=(0.0, 100.0), uncertainty=options)
    parameters = result.uncertainty.parameters
    geometric = np.array(parameters.aggregation) == "geometric"
    assert (parameters.failed == geometric).all() and result.uncertainty.valid_samples == 100 - geometric.sum()
    message = next(error for error in parameters.errors if error)
    assert message.startswith("the geometric mean of node ") and "needs positive values, but u" in message
    assert (result.uncertainty.bands["I"].samples[:, geometric] == 0).all()


def test_rank_bands_are_percentiles_of_the_sample_ranks():
    result = run(uncertainty={"samples": 300, "weight_noise": 0.5, "normalisations": ("minmax",),
                              "aggregations": ("arithmetic",)})
    band = result.uncertainty.bands["I"]
    ranks = band.samples.astype(float)
    assert np.allclose(band.median, np.median(ranks, axis=1))
    assert np.allclose(band.low, np.quantile(ranks, 0.05, axis=1))  # R's type 7, numpy's default
    assert np.allclose(band.high, np.quantile(ranks, 0.95, axis=1))
    assert (band.low <= band.median).all() and (band.median <= band.high).all()


def test_bands_for_other_nodes_on_request():
    result = compute(methodology=methodology(TREE, uncertainty={"samples": 20}), units=units(12), values=VALUES,
                     uncertainty=True, uncertainty_nodes=["I", "A", "B"], audit=False)
    assert set(result.uncertainty.bands) == {"I", "A", "B"}


def test_sensitivity_rank_shift_when_each_element_is_dropped():
    tree = node("I", identity("a1"), identity("a2"))
    result = compute(methodology=methodology(tree), units=units(3), values=matrix([100, 0], [0, 90], [60, 60]),
                     sensitivity=True, audit=False)
    sensitivity = result.sensitivity
    assert result.ranks[:, 0].tolist() == [2, 3, 1]
    assert sensitivity.dropped == ("a1", "a2")
    # Without a1 the index is a2 (0, 90, 60): ranks 3, 1, 2; without a2 it is a1: ranks 1, 3, 2.
    assert sensitivity.rank_shift.tolist() == [[1.0, -1.0], [-2.0, 0.0], [1.0, 1.0]]
    assert sensitivity.mean_absolute_shift.tolist() == pytest.approx([4 / 3, 2 / 3])


def test_sensitivity_drops_nodes_too():
    result = compute(methodology=methodology(TREE), units=units(12), values=VALUES, sensitivity=True, audit=False)
    assert result.sensitivity.dropped == ("a1", "a2", "b1", "b2", "A", "B")
    without_b = compute(methodology=methodology(node("I", TREE.children[0])), units=units(12), values=VALUES[:, :2],
                        audit=False)
    shift = without_b.ranks[:, 0] - result.ranks[:, 0]
    assert result.sensitivity.rank_shift[:, 5].tolist() == shift.tolist()


def _with(item, factors, normalisation, aggregation):
    """The tree with a sample's weights and methods written in, as a methodologist would."""
    weight = item.weight * factors[item.code]
    if isinstance(item, IndicatorSpec):
        return dataclasses.replace(item, weight=weight, normalisation=normalisation)
    assert isinstance(item, NodeSpec)
    return dataclasses.replace(item, weight=weight, aggregation=aggregation,
                               children=tuple(_with(child, factors, normalisation, aggregation)
                                              for child in item.children))


def test_a_normalisation_that_cannot_apply_fails_its_samples_only():
    values = VALUES.copy()
    values[0, 0] = -1.0  # ratio to the best needs positive values
    result = run(values=values, uncertainty={"samples": 60, "normalisations": ("minmax", "ratio_best"),
                                             "aggregations": ("arithmetic",)})
    parameters = result.uncertainty.parameters
    ratio = np.array(parameters.normalisation) == "ratio_best"
    assert (parameters.failed == ratio).all() and ratio.any() and (~ratio).any()
    assert parameters.errors[int(np.argmax(ratio))].startswith("ratio_best normalisation of indicator a1")
