"""Engine settings of a methodology version: the document's ``engine`` section.

Per-indicator settings (direction, normalisation method and parameters, log transform) and
per-node settings (weight, aggregation) live in the tree; these are the version-wide ones.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

IMPUTATIONS = ("none", "group_mean", "group_median", "last_period")
WEIGHTINGS = ("explicit", "equal", "entropy")
NORMALISATION_RANGES = ((0.0, 100.0), (0.0, 1.0), (1.0, 100.0))


@dataclass(frozen=True)
class UncertaintySettings:
    """Monte Carlo uncertainty analysis: each sample perturbs weights and may swap methods."""

    samples: int = 1000
    seed: int = 2025
    weight_noise: float = 0.25  # each weight is multiplied by U(1 − noise, 1 + noise)
    normalisations: tuple[str, ...] = ("minmax", "zscore")  # alternatives drawn per sample
    aggregations: tuple[str, ...] = ("arithmetic", "geometric")


@dataclass(frozen=True)
class EngineSettings:
    availability_threshold: float = 0.65  # share of data a unit or an indicator needs, else excluded
    imputation: str = "none"
    outlier_treatment: bool = False
    outlier_skew: float = 2.0  # treated when |skew| >= this ...
    outlier_kurtosis: float = 3.5  # ... and excess kurtosis >= this (COINr's check_SkewKurt)
    winsorise_max: int = 5  # points winsorised one at a time before falling back to a log transform
    normalisation_range: tuple[float, float] = (0.0, 100.0)
    weighting: str = "explicit"
    reference_year: int | None = None  # min-max and goalposts against this year's data when set
    uncertainty: UncertaintySettings = field(default_factory=UncertaintySettings)

    def to_document(self) -> dict:
        document = asdict(self)
        document["normalisation_range"] = list(self.normalisation_range)
        document["uncertainty"]["normalisations"] = list(self.uncertainty.normalisations)
        document["uncertainty"]["aggregations"] = list(self.uncertainty.aggregations)
        return document
