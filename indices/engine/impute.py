"""Data availability screening and imputation (COINr's Screen() and Impute(), by column)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indices.engine.errors import EngineError
from indices.engine.spec import N_

IMPUTATION_SOURCES = {"group_mean": "mean", "group_median": "median", "last_period": "last_period"}


@dataclass(frozen=True, eq=False)
class Screening:
    indicator_availability: np.ndarray  # share of units reporting each indicator
    unit_availability: np.ndarray  # share of the kept indicators each unit reports
    kept_indicators: np.ndarray  # bool per column
    kept_units: np.ndarray  # bool per unit


def screen(values: np.ndarray, *, threshold: float) -> Screening:
    """Drop indicators, then units, below the availability threshold.

    Indicators are judged over all units first, and units then over the indicators that remain, so
    an indicator nobody reports does not push every unit under the threshold. A share equal to the
    threshold passes (the COIN Tool's "at least 65%").
    """
    present = ~np.isnan(values)
    units, columns = values.shape
    indicator_availability = present.mean(axis=0) if units else np.zeros(columns)
    kept_indicators = indicator_availability >= threshold
    if kept_indicators.any():
        unit_availability = present[:, kept_indicators].mean(axis=1)
    else:
        unit_availability = np.zeros(units)
    return Screening(
        indicator_availability=indicator_availability,
        unit_availability=unit_availability,
        kept_indicators=kept_indicators,
        kept_units=unit_availability >= threshold,
    )


def impute(values: np.ndarray, *, method: str, previous: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fill missing cells; return the filled matrix and the mask of filled cells.

    ``group_mean`` and ``group_median`` fill with the indicator's mean or median over the units
    (COINr's ``i_mean`` / ``i_median`` applied by column); ``last_period`` copies the unit's value of
    the previous period; ``none`` fills nothing, so parents re-weight over the children present.
    Observed cells are never written: the result is ``where(missing, fill, values)``, or ``values``
    itself when nothing is filled (the engine never writes to it).
    """
    missing = np.isnan(values)
    if method == "none" or not missing.any():
        return values, np.zeros(values.shape, dtype=bool)
    if method == "group_mean":
        with np.errstate(invalid="ignore"):
            fill = np.broadcast_to(_column_statistic(values, np.nanmean), values.shape)
    elif method == "group_median":
        fill = np.broadcast_to(_column_statistic(values, np.nanmedian), values.shape)
    elif method == "last_period":
        if previous is None:
            raise EngineError(N_("imputation from the last period needs last period's values"))
        fill = previous
    else:
        raise EngineError(N_("unknown imputation %(method)s"), {"method": method})
    filled = np.where(missing, fill, values)
    return filled, missing & ~np.isnan(filled)


def _column_statistic(values: np.ndarray, statistic) -> np.ndarray:
    result = np.full(values.shape[1], np.nan)
    reported = (~np.isnan(values)).any(axis=0)
    if reported.any():
        result[reported] = statistic(values[:, reported], axis=0)
    return result
