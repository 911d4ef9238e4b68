"""Normalisation of indicators onto a common scale, COINr's ``n_*`` functions by another name.

As in COINr's Normalise(), an indicator of direction −1 is multiplied by −1 before it is normalised,
so that higher always scores better. The methods and their COINr counterparts:

- ``minmax``: ``n_minmax`` — (x − min) / (max − min);
- ``zscore``: ``n_zscore`` — (x − mean) / sample SD (mean 0, SD 1);
- ``goalposts``: ``n_goalposts`` with ``trunc2posts`` — (x − lower) / (upper − lower), clipped to [0, 1];
  for direction −1 the posts swap, (upper − x) / (upper − lower), as COINr's iMeta goalposts do;
- ``target``: ``n_dist2targ`` — (x − min) / (target − min), or (max − x) / (max − target) for −1;
  ``cap_max`` (param, 1 = on, COINr's default off) caps it at 1;
- ``ratio_best``: the Handbook's distance to the best (Table 3) — x / max, or min / x for −1 (COINr's
  ``n_fracmax`` would give x / min for −1, which rewards the worst, so it is not copied);
- ``ratio_mean``: the Handbook's ratio to the mean — x / mean, or mean / x for −1;
- ``rank``: ``n_rank`` — rank of the value, 1 = worst, ties take the lowest rank ("min");
- ``percentile_rank``: ``n_prank`` — (rank − 1) / (n − 1).

Methods whose result lies in [0, 1] (min-max, goalposts, target, ratio to the best, percentile rank)
are then mapped linearly onto the version's range (0–100 by default; on 0–1 they equal COINr's
values exactly). Z-scores, ranks and ratios to the mean keep their own scale.

With a reference (a fixed reference year) the constants (min, max, mean, SD, best, the values
ranked against) come from the reference values, so scores of different years share one scale.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from indices.engine.errors import NON_POSITIVE_RATIO, EngineError, EngineWarning
from indices.engine.spec import N_
from indices.engine.stats import quiet_nan_warnings, ranks_ascending_min

REQUIRED_PARAMS = {"goalposts": ("lower", "upper"), "target": ("target",)}
FLAT_INDICATOR = N_("indicator %(indicator)s has the same value for every unit, so %(method)s gives it no score")


def normalise(block: np.ndarray, *, methods: Sequence[str], directions: np.ndarray, params: Sequence[dict],
              scale: tuple[float, float], codes: Sequence[str], units: Sequence[str],
              reference: np.ndarray | None = None) -> tuple[np.ndarray, tuple[EngineWarning, ...]]:
    """Normalise each column with its own method; columns sharing a method are done together."""
    kinds = list(dict.fromkeys(methods))
    if len(kinds) == 1:
        return _normalise_method(block, method=kinds[0], directions=directions, params=list(params), scale=scale,
                                 codes=list(codes), units=units, reference=reference)
    result = np.full(block.shape, np.nan)
    warnings: list[EngineWarning] = []
    methods = np.asarray(methods)
    for method in kinds:
        columns = np.flatnonzero(methods == method)
        result[:, columns], found = _normalise_method(
            block[:, columns], method=method, directions=directions[columns],
            params=[params[column] for column in columns], scale=scale,
            codes=[codes[column] for column in columns], units=units,
            reference=reference[:, columns] if reference is not None else None,
        )
        warnings.extend(found)
    return result, tuple(warnings)


def _normalise_method(block, *, method, directions, params, scale, codes, units, reference):
    oriented = block * directions
    basis = reference * directions if reference is not None else oriented
    warnings: list[EngineWarning] = []
    with np.errstate(invalid="ignore", divide="ignore"), quiet_nan_warnings():
        if method == "minmax":
            low, high = np.nanmin(basis, axis=0), np.nanmax(basis, axis=0)
            spread = high - low
            warnings += _flat(spread, codes, method)
            unit_score = oriented  # in place from here (basis no longer needed): the hot path at 3,000 × 150
            unit_score -= low
            unit_score /= np.where(spread > 0, spread, np.nan)
        elif method == "zscore":
            mean = np.nanmean(basis, axis=0)
            deviation = np.nanstd(basis, axis=0, ddof=1)
            warnings += _flat(np.nan_to_num(deviation), codes, method)
            return (oriented - mean) / np.where(deviation > 0, deviation, np.nan), warnings
        elif method == "goalposts":
            lower = np.array([param["lower"] for param in params])
            upper = np.array([param["upper"] for param in params])
            post_low = np.where(directions > 0, lower, -upper)
            post_high = np.where(directions > 0, upper, -lower)
            unit_score = np.clip((oriented - post_low) / (post_high - post_low), 0.0, 1.0)
        elif method == "target":
            target = np.array([param["target"] for param in params]) * directions
            low = np.nanmin(basis, axis=0)
            distance = target - low
            warnings += _flat(distance, codes, method)
            unit_score = (oriented - low) / np.where(distance != 0, distance, np.nan)
            capped = np.array([bool(param.get("cap_max", 0)) for param in params])
            unit_score = np.where(capped & (unit_score > 1), 1.0, unit_score)
        elif method in ("ratio_best", "ratio_mean"):
            _require_positive(block, reference, method=method, codes=codes, units=units)
            raw_basis = reference if reference is not None else block
            if method == "ratio_best":
                best = np.where(directions > 0, np.nanmax(raw_basis, axis=0), np.nanmin(raw_basis, axis=0))
            else:
                best = np.nanmean(raw_basis, axis=0)
            unit_score = np.where(directions > 0, block / best, best / block)
            if method == "ratio_mean":
                return unit_score, warnings
        elif method == "rank":
            return _ranks(oriented, reference=basis if reference is not None else None), warnings
        elif method == "percentile_rank":
            ranks = _ranks(oriented, reference=basis if reference is not None else None)
            counts = (~np.isnan(basis)).sum(axis=0).astype(float)
            unit_score = (ranks - 1) / np.where(counts > 1, counts - 1, np.nan)
        else:
            raise EngineError(N_("unknown normalisation %(method)s"), {"method": method})
    low_end, high_end = scale
    unit_score *= high_end - low_end
    unit_score += low_end
    return unit_score, warnings


def _ranks(oriented: np.ndarray, *, reference: np.ndarray | None) -> np.ndarray:
    """Ascending "min" ranks; against a reference, 1 + the number of reference values below."""
    if reference is None:
        return ranks_ascending_min(oriented)
    ranks = np.full(oriented.shape, np.nan)
    for column in range(oriented.shape[1]):
        known = np.sort(reference[~np.isnan(reference[:, column]), column])
        present = ~np.isnan(oriented[:, column])
        ranks[present, column] = 1 + np.searchsorted(known, oriented[present, column], side="left")
    return ranks


def _flat(spread: np.ndarray, codes, method) -> list[EngineWarning]:
    return [EngineWarning(FLAT_INDICATOR, {"indicator": code, "method": method})
            for code, width in zip(codes, spread, strict=True) if width == 0]


def _require_positive(block, reference, *, method, codes, units) -> None:
    for column, code in enumerate(codes):
        bad = np.flatnonzero(block[:, column] <= 0)
        if bad.size:
            raise EngineError(NON_POSITIVE_RATIO, {"method": method, "indicator": code, "unit": units[bad[0]],
                                                   "value": _format(block[bad[0], column])},
                              indicator=code, unit=units[bad[0]])
        if reference is not None and (reference[:, column] <= 0).any():
            raise EngineError(NON_POSITIVE_RATIO, {"method": method, "indicator": code, "unit": "reference",
                                                   "value": _format(np.nanmin(reference[:, column]))},
                              indicator=code)


def _format(value: float) -> str:
    return f"{value:.6g}"
