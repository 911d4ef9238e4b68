"""Outlier treatment exactly as COINr's Treat() with its default specification.

For each indicator: ``check_SkewKurt`` fails when |skew| ≥ 2 AND excess kurtosis ≥ 3.5. A failing
indicator is winsorised one point at a time (the highest value takes the next highest when the skew
is positive, the lowest the next lowest when it is negative; tied points move together) while it
still fails and fewer than ``winsorise_max`` points are winsorised. If it still fails, the
winsorisation is dropped and COINr's ``log_CT`` is applied to the original values instead:
``log(x − min + 0.01 × (max − min))``.

A treatment is fitted on one data set and can be applied to another: with a reference year the
treatment is fitted on the reference values, so both years share the same caps or log shift.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from indices.engine.stats import skew_kurtosis


@dataclass(frozen=True)
class TreatedPoint:
    unit: str
    original: float
    treated: float


@dataclass(frozen=True)
class Treatment:
    """What the outlier rule did to one indicator."""

    indicator: str
    method: str  # "winsorise", "log_ct", or "too_few_values" (fewer than 4 values: skew/kurtosis undefined)
    skew_before: float
    kurtosis_before: float
    skew_after: float
    kurtosis_after: float
    passes_after: bool  # whether the treated values pass the check (log_CT is kept even if not, as in COINr)
    winsorised: int  # COINr's ``nwin``; 0 for log_ct
    points: tuple[TreatedPoint, ...]  # winsorised (or, with a reference, clipped) values; log_ct moves all


@dataclass(frozen=True)
class TreatmentFit:
    """The treatment as a function any vector can go through."""

    kind: str  # "clip" or "log_ct"
    lower: float
    upper: float

    def apply(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "clip":
            return np.clip(x, self.lower, self.upper)
        floor, shift = self.lower, self.upper
        with np.errstate(invalid="ignore"):
            return np.log(np.maximum(x, floor) - floor + shift)


def passes(x: np.ndarray, *, skew_threshold: float, kurtosis_threshold: float) -> bool | None:
    """COINr's check_SkewKurt; None when the statistics are undefined (too few values, no spread)."""
    skew, kurtosis = (float(value[0]) for value in skew_kurtosis(x))
    if np.isnan(skew) or np.isnan(kurtosis):
        return None
    return bool(abs(skew) < skew_threshold or kurtosis < kurtosis_threshold)


def winsorise(x: np.ndarray, *, winsorise_max: int, skew_threshold: float,
              kurtosis_threshold: float) -> tuple[np.ndarray, int]:
    """COINr's ``winsorise()``: the treated vector and ``nwin`` (points at the last capped end(s))."""
    x = x.copy()
    thresholds = {"skew_threshold": skew_threshold, "kurtosis_threshold": kurtosis_threshold}
    passing = passes(x, **thresholds) is not False
    high: np.ndarray = np.array([], dtype=np.int64)
    low: np.ndarray = np.array([], dtype=np.int64)
    winsorised = 0
    while not passing and winsorised < winsorise_max:
        skew = skew_kurtosis(x)[0][0]
        if skew >= 0:
            high = np.flatnonzero(x == np.nanmax(x))
            rest = np.delete(x, high)
            x[high] = np.nanmax(rest)
        else:
            low = np.flatnonzero(x == np.nanmin(x))
            rest = np.delete(x, low)
            x[low] = np.nanmin(rest)
        winsorised = len(high) + len(low)
        passing = passes(x, **thresholds) is not False
    return x, winsorised


def fit_treatment(x: np.ndarray, *, winsorise_max: int, skew_threshold: float,
                  kurtosis_threshold: float) -> tuple[TreatmentFit | None, int]:
    """Decide the treatment of one indicator from its values; None when it passes untreated."""
    thresholds = {"skew_threshold": skew_threshold, "kurtosis_threshold": kurtosis_threshold}
    if passes(x, **thresholds) is not False:
        return None, 0
    winsorised, count = winsorise(x, winsorise_max=winsorise_max, **thresholds)
    if passes(winsorised, **thresholds) is not False:
        return TreatmentFit("clip", float(np.nanmin(winsorised)), float(np.nanmax(winsorised))), count
    low, high = float(np.nanmin(x)), float(np.nanmax(x))
    return TreatmentFit("log_ct", low, 0.01 * (high - low)), 0


def treat(block: np.ndarray, *, units: Sequence[str], codes: Sequence[str], winsorise_max: int,
          skew_threshold: float, kurtosis_threshold: float,
          reference: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None, tuple[Treatment, ...]]:
    """Treat every column; fit on ``reference`` when given, and apply the fit to both matrices.

    Returns the treated block, the treated reference (or None) and one record per treated indicator.
    """
    basis = reference if reference is not None else block
    skews, kurtoses = skew_kurtosis(basis)
    treated = block.copy()
    treated_reference = reference.copy() if reference is not None else None
    records = []
    for column, code in enumerate(codes):
        skew, kurtosis = float(skews[column]), float(kurtoses[column])
        if np.isnan(skew) or np.isnan(kurtosis):
            if (~np.isnan(basis[:, column])).sum() < 4:
                records.append(Treatment(code, "too_few_values", skew, kurtosis, skew, kurtosis, True, 0, ()))
            continue
        if abs(skew) < skew_threshold or kurtosis < kurtosis_threshold:
            continue
        fit, count = fit_treatment(basis[:, column], winsorise_max=winsorise_max, skew_threshold=skew_threshold,
                                   kurtosis_threshold=kurtosis_threshold)
        original = block[:, column]
        treated[:, column] = fit.apply(original)
        if treated_reference is not None:
            treated_reference[:, column] = fit.apply(reference[:, column])
        after = treated_reference[:, column] if treated_reference is not None else treated[:, column]
        skew_after, kurtosis_after = (float(value[0]) for value in skew_kurtosis(after))
        changed = ~np.isnan(original) & (treated[:, column] != original)
        if fit.kind == "log_ct":
            changed &= original < fit.lower  # below the reference's floor: clipped before the log
        points = tuple(TreatedPoint(units[row], float(original[row]), float(treated[row, column]))
                       for row in np.flatnonzero(changed))
        records.append(Treatment(
            indicator=code,
            method="winsorise" if fit.kind == "clip" else "log_ct",
            skew_before=skew,
            kurtosis_before=kurtosis,
            skew_after=skew_after,
            kurtosis_after=kurtosis_after,
            passes_after=passes(after, skew_threshold=skew_threshold,
                                kurtosis_threshold=kurtosis_threshold) is not False,
            winsorised=count,
            points=points,
        ))
    return treated, treated_reference, tuple(records)
