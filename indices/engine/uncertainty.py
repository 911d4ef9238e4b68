"""Monte Carlo uncertainty analysis and "drop one element" sensitivity, vectorised over samples.

Uncertainty follows COINr's ``get_sensitivity(SA_type = "UA")`` and the Handbook §7: every sample
multiplies each declared weight by U(1 − noise, 1 + noise) (COINr's ``get_noisy_weights``), draws
one normalisation method and one aggregation method from the version's lists, and recomputes the
index; each unit's median rank and 5th–95th percentile ranks (R's default quantile, type 7) are
reported. A sample whose geometric or harmonic mean meets a non-positive value fails, is recorded
with its reason, and is left out of the statistics, as COINr's failed regenerations are.

Samples sharing a normalisation and an aggregation method form one batch that goes up the tree as
units × samples matrices (see aggregate.py): there is no Python loop over samples.

Sensitivity follows COINr's ``remove_elements()``: drop each indicator and each node in turn,
re-weight the siblings, and report every unit's rank shift and the mean absolute shift.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from indices.engine.aggregate import AggregationFailure, LeafBlocks, aggregate
from indices.engine.errors import NON_POSITIVE_AGGREGATION, EngineError
from indices.engine.pipeline import Prepared
from indices.engine.results import RankBand, SampleParameters, SensitivityResult, UncertaintyResult
from indices.engine.spec import N_
from indices.engine.stats import quiet_nan_warnings, ranks_descending

CELLS_PER_BATCH = 200_000  # units × samples per pass up the tree: small enough to stay in the CPU cache


def analyse_uncertainty(prepared: Prepared, *, weights: np.ndarray, nominal_ranks: np.ndarray,
                        nodes: Sequence[int] = (0,)) -> UncertaintyResult:
    """Rank bands of the ``nodes`` (item indices; the root by default) over the Monte Carlo samples.

    ``weights`` are the resolved nominal weights per item (entropy weights already computed);
    ``nominal_ranks`` are every unit's nominal ranks, units × items (0 = no rank).
    """
    plan = prepared.plan
    options = prepared.settings.uncertainty
    if options.samples < 1:
        raise EngineError(N_("the uncertainty analysis needs at least one sample"))
    if not options.normalisations or not options.aggregations:
        raise EngineError(N_("the uncertainty analysis needs at least one normalisation and one aggregation"))
    generator = np.random.default_rng(options.seed)
    factors = generator.uniform(1.0 - options.weight_noise, 1.0 + options.weight_noise,
                                size=(options.samples, plan.size))
    factors[:, 0] = 1.0
    normalisation_draw = generator.integers(len(options.normalisations), size=options.samples)
    aggregation_draw = generator.integers(len(options.aggregations), size=options.samples)
    sample_weights = weights[None, :] * factors
    scores, errors = _sample_scores(prepared, sample_weights, normalisation_draw=normalisation_draw,
                                    aggregation_draw=aggregation_draw, nodes=nodes)
    failed = np.array([error is not None for error in errors], dtype=bool)
    bands = {}
    for node in nodes:
        node_scores = scores[node]
        node_scores[:, failed] = np.nan
        bands[plan.codes[node]] = _band(node_scores, failed, nominal_ranks[:, node], rows=prepared.rows)
    return UncertaintyResult(
        samples=options.samples,
        seed=options.seed,
        weight_noise=options.weight_noise,
        valid_samples=int((~failed).sum()),
        bands=bands,
        parameters=SampleParameters(
            item_codes=plan.codes,
            weight_factors=_read_only(factors),
            normalisation=tuple(options.normalisations[index] for index in normalisation_draw),
            aggregation=tuple(options.aggregations[index] for index in aggregation_draw),
            failed=_read_only(failed),
            errors=tuple(errors),
        ),
    )


def _sample_scores(prepared: Prepared, sample_weights: np.ndarray, *, normalisation_draw: np.ndarray,
                   aggregation_draw: np.ndarray, nodes: Sequence[int],
                   ) -> tuple[dict[int, np.ndarray], list[str | None]]:
    """Every sample's scores of the ``nodes`` (units × samples each) and why a sample failed (None if
    it did not). Samples run in batches that share a normalisation and an aggregation."""
    plan = prepared.plan
    options = prepared.settings.uncertainty
    units = prepared.rows.size
    scores = {node: np.full((units, options.samples), np.nan) for node in nodes}
    errors: list[str | None] = [None] * options.samples
    for normalisation_index, normalisation in enumerate(options.normalisations):
        in_normalisation = normalisation_draw == normalisation_index
        if not in_normalisation.any():
            continue
        try:
            blocks = LeafBlocks(plan, prepared.normalised_with(normalisation))
        except EngineError as error:  # e.g. a ratio of non-positive values: these samples fail, as in COINr
            for sample in np.flatnonzero(in_normalisation):
                errors[sample] = error.render()
            continue
        for aggregation_index, aggregation in enumerate(options.aggregations):
            batch = np.flatnonzero(in_normalisation & (aggregation_draw == aggregation_index))
            methods = [aggregation] * plan.size
            for chunk in _chunks(batch, units):
                result = aggregate(plan, blocks, sample_weights[chunk], methods=methods, keep=nodes)
                for node in nodes:
                    scores[node][:, chunk] = result.scores[node]
                for position, sample in enumerate(chunk):
                    failure = result.failures[position]
                    if failure is not None:
                        errors[sample] = failure_error(prepared, failure, method=aggregation).render()
    return scores, errors


def analyse_sensitivity(prepared: Prepared, *, weights: np.ndarray) -> SensitivityResult:
    """Rank shift of every kept unit at the root when each kept indicator or node is dropped."""
    plan = prepared.plan
    dropped = [item for item in range(1, plan.size) if prepared.retained[item] and plan.is_indicator(item)]
    dropped += [item for item in range(1, plan.size) if prepared.retained[item] and not plan.is_indicator(item)]
    scenario_weights = np.repeat(weights[None, :], len(dropped) + 1, axis=0)
    scenario_weights[np.arange(1, len(dropped) + 1), dropped] = 0.0
    blocks = LeafBlocks(plan, prepared.leaves)
    units = prepared.rows.size
    root_scores = np.empty((units, len(dropped) + 1))
    offset = 0
    for chunk in _chunks(np.arange(len(dropped) + 1), units):
        result = aggregate(plan, blocks, scenario_weights[chunk], methods=plan.aggregation, keep=(0,))
        root_scores[:, offset:offset + len(chunk)] = result.scores[0]
        offset += len(chunk)
    ranks = ranks_descending(root_scores).astype(float)
    ranks[ranks == 0] = np.nan
    shift = ranks[:, 1:] - ranks[:, :1]
    with np.errstate(invalid="ignore"):
        ranked = (~np.isnan(shift)).sum(axis=0)
        mean_shift = np.where(ranked > 0, np.nansum(np.abs(shift), axis=0) / np.maximum(ranked, 1), np.nan)
    full_shift = np.full((len(prepared.units), len(dropped)), np.nan)
    full_shift[prepared.rows] = shift
    return SensitivityResult(
        dropped=tuple(plan.codes[item] for item in dropped),
        rank_shift=_read_only(full_shift),
        mean_absolute_shift=_read_only(mean_shift),
    )


def failure_error(prepared: Prepared, failure: AggregationFailure, *, method: str) -> EngineError:
    """The error a geometric or harmonic mean raises, naming node, child and unit."""
    plan = prepared.plan
    node, unit = plan.codes[failure.node], prepared.units[prepared.rows[failure.unit]]
    return EngineError(NON_POSITIVE_AGGREGATION,
                       {"method": method, "node": node, "unit": unit, "child": plan.codes[failure.child],
                        "value": f"{failure.value:.6g}"}, node=node, unit=unit)


def _band(scores: np.ndarray, failed: np.ndarray, nominal: np.ndarray, *, rows: np.ndarray) -> RankBand:
    """Median, 5th and 95th percentile and mean rank of each kept unit; NaN for the others."""
    statistics = np.full((4, nominal.size), np.nan)
    sample_ranks = np.zeros((nominal.size, failed.size), dtype=np.int32)
    valid = ~failed
    if valid.any():
        ranks = ranks_descending(scores[:, valid])
        sample_ranks[np.ix_(rows, np.flatnonzero(valid))] = ranks
        ranks = ranks.astype(float)
        ranks[ranks == 0] = np.nan
        if np.isnan(ranks).any():
            median, quantiles, mean = np.nanmedian, np.nanquantile, np.nanmean
        else:
            median, quantiles, mean = np.median, np.quantile, np.mean
        with np.errstate(invalid="ignore"), quiet_nan_warnings():
            statistics[0, rows] = median(ranks, axis=1)
            statistics[1, rows], statistics[2, rows] = quantiles(ranks, [0.05, 0.95], axis=1)
            statistics[3, rows] = mean(ranks, axis=1)
    return RankBand(nominal=_read_only(nominal), median=_read_only(statistics[0]), low=_read_only(statistics[1]),
                    high=_read_only(statistics[2]), mean=_read_only(statistics[3]),
                    samples=_read_only(sample_ranks))


def _chunks(samples: np.ndarray, units: int):
    size = max(1, CELLS_PER_BATCH // max(units, 1))
    for start in range(0, len(samples), size):
        yield samples[start:start + size]


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array)
    array.flags.writeable = False
    return array
