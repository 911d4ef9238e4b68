"""What a run of the engine returns. Arrays are read-only, so a result cannot drift after it is hashed."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from indices.engine.errors import EngineWarning
from indices.engine.treat import Treatment


@dataclass(frozen=True)
class ImputedCell:
    unit: str
    indicator: str
    value: float
    source: str  # "mean", "median" or "last_period"


@dataclass(frozen=True, eq=False)
class Diagnostics:
    """Why a unit or indicator has no score, which cells were filled, which indicators were treated."""

    indicator_availability: np.ndarray  # per indicator column: share of all units reporting it
    unit_availability: np.ndarray  # per unit: share of the kept indicators it reports
    excluded_units: tuple[str, ...]
    excluded_indicators: tuple[str, ...]
    empty_nodes: tuple[str, ...]  # nodes left without any kept indicator
    imputation: str
    imputed: np.ndarray  # bool, units × indicators
    imputed_cells: tuple[ImputedCell, ...]
    treatments: tuple[Treatment, ...]  # indicators the outlier rule treated (or could not check)
    warnings: tuple[EngineWarning, ...]
    reference_used: bool


@dataclass(frozen=True, eq=False)
class RankBand:
    """Ranks of every unit over the Monte Carlo samples (NaN for units without a score)."""

    nominal: np.ndarray  # int, 0 = no rank
    median: np.ndarray
    low: np.ndarray  # 5th percentile
    high: np.ndarray  # 95th percentile
    mean: np.ndarray
    samples: np.ndarray  # int32, units × samples: the rank in every sample (0 = failed sample or no score)


@dataclass(frozen=True, eq=False)
class SampleParameters:
    """The parameters of every Monte Carlo sample, so any sample can be recomputed on its own."""

    item_codes: tuple[str, ...]  # columns of ``weight_factors``: every tree item, root first
    weight_factors: np.ndarray  # samples × items: the factor each declared weight was multiplied by
    normalisation: tuple[str, ...]  # per sample
    aggregation: tuple[str, ...]  # per sample
    failed: np.ndarray  # bool per sample
    errors: tuple[str | None, ...]  # why a sample failed (node and unit named), None if it did not


@dataclass(frozen=True, eq=False)
class UncertaintyResult:
    samples: int
    seed: int
    weight_noise: float
    valid_samples: int
    bands: dict[str, RankBand]  # node code → rank band
    parameters: SampleParameters


@dataclass(frozen=True, eq=False)
class SensitivityResult:
    """Rank shift of every unit when one element is dropped and its siblings re-weighted."""

    dropped: tuple[str, ...]  # every kept indicator, then every kept node below the root, in tree order
    rank_shift: np.ndarray  # units × dropped: rank without the element − nominal rank (NaN: no rank)
    mean_absolute_shift: np.ndarray  # per dropped element, over the ranked units (COINr's MeanAbsDiff)


@dataclass(frozen=True)
class IndicatorAudit:
    code: str
    availability: float
    skew: float
    kurtosis: float
    share_nonzero: float
    share_unique: float
    correlation_with_parent: float
    flags: tuple[str, ...]  # low_availability, outliers, few_nonzero, few_unique


@dataclass(frozen=True)
class GroupAudit:
    code: str
    children: tuple[str, ...]
    cronbach_alpha: float
    correlations: tuple[tuple[float, ...], ...]  # between the children, pairwise complete
    correlation_with_parent: float  # NaN for the root


@dataclass(frozen=True)
class CorrelationFlag:
    first: str
    second: str
    correlation: float
    kind: str  # "high" (> 0.9) or "negative" (< 0)
    scope: str  # "group" (siblings) or "parent" (an item and its parent)


@dataclass(frozen=True, eq=False)
class Audit:
    indicators: tuple[IndicatorAudit, ...]
    groups: tuple[GroupAudit, ...]
    flags: tuple[CorrelationFlag, ...]


@dataclass(frozen=True, eq=False)
class EngineResult:
    """Scores and ranks of every unit at every node (indicators: their normalised values)."""

    engine_version: str
    input_hash: str
    units: tuple[str, ...]
    codes: tuple[str, ...]  # every tree item in tree order, root first: the columns of scores and ranks
    parents: dict[str, str | None]  # each item's parent code (None for the root)
    levels: dict[str, int]  # each item's depth: 0 the index, 1 its children, ...
    indicator_codes: tuple[str, ...]  # the columns of values
    scores: np.ndarray  # units × codes, unrounded; NaN = no score
    ranks: np.ndarray  # units × codes, int; 1 = best, ties share the lowest rank; 0 = no score
    values: np.ndarray  # units × indicators: the data scored, observed values plus imputed ones
    weights: dict[str, float]  # each item's weight as a share of its siblings (0 if excluded)
    effective_weights: dict[str, float]  # each item's weight in the index (root 1)
    diagnostics: Diagnostics
    audit: Audit | None = None
    uncertainty: UncertaintyResult | None = None
    sensitivity: SensitivityResult | None = None

    def score(self, unit: str, code: str) -> float | None:
        value = self.scores[self.units.index(unit), self.codes.index(code)]
        return None if np.isnan(value) else float(value)

    def rank(self, unit: str, code: str) -> int | None:
        value = int(self.ranks[self.units.index(unit), self.codes.index(code)])
        return value or None

    @property
    def root(self) -> str:
        return self.codes[0]

    def document(self) -> dict:
        """Everything but the per-unit matrices, as plain JSON data (for IndexRun.diagnostics)."""
        diagnostics = self.diagnostics
        document = {
            "engine_version": self.engine_version,
            "input_hash": self.input_hash,
            "weights": self.weights,
            "effective_weights": self.effective_weights,
            "availability": {
                "indicators": dict(zip(self.indicator_codes, _plain(diagnostics.indicator_availability),
                                       strict=True)),
                "units": dict(zip(self.units, _plain(diagnostics.unit_availability), strict=True)),
            },
            "excluded_units": list(diagnostics.excluded_units),
            "excluded_indicators": list(diagnostics.excluded_indicators),
            "empty_nodes": list(diagnostics.empty_nodes),
            "imputation": diagnostics.imputation,
            "imputed_cells": [_plain(asdict(cell)) for cell in diagnostics.imputed_cells],
            "treatments": [_plain(asdict(treatment)) for treatment in diagnostics.treatments],
            "warnings": [{"message": warning.message, "params": warning.params, "text": warning.render()}
                         for warning in diagnostics.warnings],
            "reference_used": diagnostics.reference_used,
        }
        if self.audit is not None:
            document["audit"] = _plain({"indicators": [asdict(item) for item in self.audit.indicators],
                                        "groups": [asdict(group) for group in self.audit.groups],
                                        "flags": [asdict(flag) for flag in self.audit.flags]})
        if self.uncertainty is not None:
            parameters = self.uncertainty.parameters
            document["uncertainty"] = {
                "samples": self.uncertainty.samples, "seed": self.uncertainty.seed,
                "weight_noise": self.uncertainty.weight_noise, "valid_samples": self.uncertainty.valid_samples,
                "nodes": list(self.uncertainty.bands),
                "failures": [{"sample": sample, "error": error} for sample, error in enumerate(parameters.errors)
                             if error],
            }
        if self.sensitivity is not None:
            document["sensitivity"] = dict(zip(self.sensitivity.dropped,
                                               _plain(self.sensitivity.mean_absolute_shift), strict=True))
        return document


def _plain(value):
    """JSON-ready: tuples to lists, NumPy numbers to Python ones, NaN to None."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def frozen(array: np.ndarray) -> np.ndarray:
    """The array made read-only in place (the engine creates every array it returns)."""
    array = np.asarray(array)
    array.flags.writeable = False
    return array
