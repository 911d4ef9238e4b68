"""The data steps before aggregation: screening, imputation, log transform, outlier treatment and
normalisation (COINr's Screen → Impute → Treat → Normalise, in that order)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from indices.engine.errors import NON_POSITIVE_LOG, EngineError, EngineWarning
from indices.engine.impute import Screening, impute, screen
from indices.engine.normalise import REQUIRED_PARAMS, normalise
from indices.engine.settings import EngineSettings
from indices.engine.spec import N_
from indices.engine.treat import Treatment, treat
from indices.engine.tree import TreePlan, retained_items

PARAMS_IN_INDICATOR_UNITS = ("lower", "upper", "target")


@dataclass(frozen=True, eq=False)
class Prepared:
    """Everything about the data that does not depend on weights or aggregation."""

    plan: TreePlan
    settings: EngineSettings
    units: tuple[str, ...]  # every unit given
    rows: np.ndarray  # indices of the units kept
    screening: Screening
    retained: np.ndarray  # bool per item
    values: np.ndarray  # all units × indicators: observed values plus imputed ones (kept units)
    imputed: np.ndarray  # bool, all units × indicators
    treated: np.ndarray  # kept units × indicators, after log transform and outlier treatment
    treated_reference: np.ndarray | None
    treatments: tuple[Treatment, ...]
    methods: tuple[str, ...]  # nominal normalisation per column
    directions: np.ndarray
    params: tuple[dict, ...]  # per column, goalposts and targets log-transformed with their indicator
    leaves: np.ndarray  # kept units × indicators, normalised (NaN for excluded indicators)
    warnings: tuple[EngineWarning, ...]

    @property
    def kept_units(self) -> tuple[str, ...]:
        return tuple(self.units[row] for row in self.rows)

    def normalised_with(self, method: str) -> np.ndarray:
        """The leaves if every indicator used ``method`` (those lacking its parameters keep their own)."""
        methods = [method if all(name in params for name in REQUIRED_PARAMS.get(method, ())) else nominal
                   for nominal, params in zip(self.methods, self.params, strict=True)]
        if tuple(methods) == self.methods:
            return self.leaves
        return normalise_leaves(self, methods)[0]


def prepare(*, plan: TreePlan, settings: EngineSettings, units: tuple[str, ...], values: np.ndarray,
            previous: np.ndarray | None, reference: np.ndarray | None) -> Prepared:
    """Screen, impute, transform, treat and normalise; ``values`` is read, never written."""
    screening = screen(values, threshold=settings.availability_threshold)
    rows = np.flatnonzero(screening.kept_units)
    kept_columns = screening.kept_indicators
    retained = retained_items(plan, kept_columns)
    if not retained[0]:
        raise EngineError(N_("no indicator has enough data: every indicator is below the availability threshold"))
    if not rows.size:
        raise EngineError(N_("no unit has enough data: every unit is below the availability threshold"))
    kept_units = tuple(units[row] for row in rows)
    filled, all_values, imputed = _impute_kept(values, previous, rows=rows, unit_count=len(units),
                                               kept_columns=kept_columns, method=settings.imputation)
    treated, treated_reference, treatments = _transform_and_treat(
        filled, reference, plan=plan, settings=settings, kept_columns=kept_columns, kept_units=kept_units)
    indicators = plan.indicators
    unnormalised = Prepared(
        plan=plan, settings=settings, units=units, rows=rows, screening=screening, retained=retained,
        values=all_values, imputed=imputed, treated=treated, treated_reference=treated_reference,
        treatments=treatments,
        methods=tuple(indicator.normalisation for indicator in indicators),
        directions=np.array([float(indicator.direction) for indicator in indicators]),
        params=tuple(_indicator_params(indicator) for indicator in indicators),
        leaves=np.empty(0), warnings=(),
    )
    leaves, warnings = normalise_leaves(unnormalised, unnormalised.methods)
    return replace(unnormalised, leaves=leaves, warnings=warnings)


def _impute_kept(values: np.ndarray, previous: np.ndarray | None, *, rows: np.ndarray, unit_count: int,
                 kept_columns: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Impute the kept units' gaps in the kept indicators. Returns the kept units' filled values,
    every unit's values with those filled in, and where a value was imputed (every unit)."""
    every_unit = rows.size == unit_count
    kept_values = values if every_unit else values[rows]
    filled, imputed_rows = impute(kept_values, method=method,
                                  previous=previous if every_unit or previous is None else previous[rows])
    if not kept_columns.all():
        filled[:, ~kept_columns] = kept_values[:, ~kept_columns]
        imputed_rows[:, ~kept_columns] = False
    if every_unit:
        return filled, filled, imputed_rows
    all_values = values.copy()
    all_values[rows] = filled
    imputed = np.zeros(values.shape, dtype=bool)
    imputed[rows] = imputed_rows
    return filled, all_values, imputed


def _transform_and_treat(filled: np.ndarray, reference: np.ndarray | None, *, plan: TreePlan,
                         settings: EngineSettings, kept_columns: np.ndarray, kept_units: tuple[str, ...],
                         ) -> tuple[np.ndarray, np.ndarray | None, tuple[Treatment, ...]]:
    """Blank the excluded indicators, take logs where asked and treat outliers, in the values and the
    reference alike. ``filled`` is copied before anything is written to it."""
    indicators = plan.indicators
    logged = np.array([indicator.log_transform for indicator in indicators], dtype=bool)
    changes = not kept_columns.all() or logged.any() or settings.outlier_treatment
    treated = filled.copy() if changes else filled  # nothing below writes to it unless it changes
    if not kept_columns.all():
        treated[:, ~kept_columns] = np.nan
    treated_reference = reference.copy() if reference is not None else None
    if treated_reference is not None:
        treated_reference[:, ~kept_columns] = np.nan
    logged_codes = [indicator.code for indicator, on in zip(indicators, logged, strict=True) if on]
    if logged.any():
        treated[:, logged] = _log(treated[:, logged], codes=logged_codes, units=kept_units)
        if treated_reference is not None:
            treated_reference[:, logged] = _log(treated_reference[:, logged], codes=logged_codes, units=None)
    treatments: tuple[Treatment, ...] = ()
    if settings.outlier_treatment:
        columns = np.flatnonzero(kept_columns)
        block, reference_block, treatments = treat(
            treated[:, columns], units=kept_units, codes=[indicators[column].code for column in columns],
            winsorise_max=settings.winsorise_max, skew_threshold=settings.outlier_skew,
            kurtosis_threshold=settings.outlier_kurtosis,
            reference=treated_reference[:, columns] if treated_reference is not None else None,
        )
        treated[:, columns] = block
        if treated_reference is not None:
            treated_reference[:, columns] = reference_block
    return treated, treated_reference, treatments


def normalise_leaves(prepared: Prepared, methods: Sequence[str]) -> tuple[np.ndarray, tuple[EngineWarning, ...]]:
    """Normalise the treated values of the kept indicators; excluded indicators stay NaN."""
    kept = prepared.screening.kept_indicators
    reference = prepared.treated_reference
    options = {"scale": prepared.settings.normalisation_range, "units": prepared.kept_units}
    if kept.all():
        return normalise(prepared.treated, methods=list(methods), directions=prepared.directions,
                         params=list(prepared.params), codes=list(prepared.plan.indicator_codes),
                         reference=reference, **options)
    leaves = np.full(prepared.treated.shape, np.nan)
    if not kept.any():
        return leaves, ()
    columns = np.flatnonzero(kept)
    leaves[:, columns], warnings = normalise(
        prepared.treated[:, columns],
        methods=[methods[column] for column in columns],
        directions=prepared.directions[columns],
        params=[prepared.params[column] for column in columns],
        codes=[prepared.plan.indicators[column].code for column in columns],
        reference=reference[:, columns] if reference is not None else None,
        **options,
    )
    return leaves, warnings


def _indicator_params(indicator) -> dict:
    """Goalposts and targets are written in the indicator's own unit; a log-transformed indicator
    is normalised in log units, so they are log-transformed with it (HDI: ln 100 to ln 75,000)."""
    params = dict(indicator.normalisation_params)
    missing = [name for name in REQUIRED_PARAMS.get(indicator.normalisation, ()) if name not in params]
    if missing:
        raise EngineError(N_("%(method)s normalisation of %(indicator)s needs the parameter %(name)s"),
                          {"method": indicator.normalisation, "indicator": indicator.code, "name": missing[0]},
                          indicator=indicator.code)
    if indicator.normalisation == "goalposts" and not params["lower"] < params["upper"]:
        raise EngineError(N_("the lower goalpost of %(indicator)s must be below the upper goalpost"),
                          {"indicator": indicator.code}, indicator=indicator.code)
    if indicator.log_transform:
        for name in PARAMS_IN_INDICATOR_UNITS:
            if name in params:
                if params[name] <= 0:
                    raise EngineError(N_("indicator %(indicator)s is log-transformed, so its %(name)s must be "
                                         "positive"), {"indicator": indicator.code, "name": name},
                                      indicator=indicator.code)
                params[name] = float(np.log(params[name]))
    return params


def _log(block: np.ndarray, *, codes: Sequence[str], units: Sequence[str] | None) -> np.ndarray:
    bad = ~np.isnan(block) & (block <= 0)
    if bad.any():
        row, column = (int(index[0]) for index in np.nonzero(bad))
        unit = units[row] if units is not None else "the reference data"
        raise EngineError(NON_POSITIVE_LOG, {"indicator": codes[column], "unit": unit,
                                             "value": f"{block[row, column]:.6g}"},
                          indicator=codes[column], unit=units[row] if units is not None else None)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log(block)
