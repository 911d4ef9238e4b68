"""The engine's entry point: a methodology and a matrix of values in, scores, ranks and diagnostics out.

Pure Python and NumPy, no Django: the Django layer loads the values, calls ``compute()`` and stores
the result; the ``compute_index`` command does the same from files. The same inputs always give
bit-identical outputs on a machine (no randomness except the seeded Monte Carlo), and
``input_hash()`` names the inputs so a run can be found again and reused.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import numpy as np

from indices.engine import spec
from indices.engine.aggregate import LeafBlocks, aggregate
from indices.engine.audit import audit as audit_run
from indices.engine.errors import EngineError
from indices.engine.impute import IMPUTATION_SOURCES
from indices.engine.pipeline import Prepared, prepare
from indices.engine.results import Diagnostics, EngineResult, ImputedCell, frozen
from indices.engine.settings import IMPUTATIONS, NORMALISATION_RANGES, WEIGHTINGS, EngineSettings
from indices.engine.spec import AGGREGATIONS, N_, NORMALISATIONS, MethodologySpec
from indices.engine.stats import ranks_descending_rows
from indices.engine.tree import TreePlan, declared_weights, effective_weights, plan_tree, sibling_shares
from indices.engine.uncertainty import analyse_sensitivity, analyse_uncertainty, failure_error

# Bump whenever a change can alter any score, rank or diagnostic: it is part of the input hash,
# so runs computed by an older engine are not reused.
ENGINE_VERSION = "1.0.0"


def compute(*, methodology: MethodologySpec, units: Sequence[str], values: np.ndarray,
            settings: EngineSettings | None = None, previous: np.ndarray | None = None,
            reference: np.ndarray | None = None, audit: bool = True, uncertainty: bool = False,
            sensitivity: bool = False, uncertainty_nodes: Sequence[str] | None = None) -> EngineResult:
    """Compute the index.

    ``values`` is units × indicators with the columns in ``methodology.indicators()`` order and NaN
    for a missing value; ``previous`` (same shape, same units) feeds ``last_period`` imputation;
    ``reference`` (any units × the same indicators) fixes the normalisation scale to a reference
    year. ``settings`` defaults to the methodology's own engine settings. ``uncertainty_nodes`` names
    the nodes that get rank bands (the root by default; every node costs one more ranking per sample).
    Raises EngineError, whose message names the node, indicator or unit at fault.
    """
    settings = settings if settings is not None else methodology.engine
    _check_settings(settings)
    plan = plan_tree(methodology)
    units = tuple(str(unit) for unit in units)
    if len(set(units)) != len(units):
        raise EngineError(N_("a unit is listed twice"))
    values = _matrix(values, rows=len(units), columns=len(plan.indicators), name="values")
    previous = _matrix(previous, rows=len(units), columns=len(plan.indicators), name="previous")
    reference = _matrix(reference, rows=None, columns=len(plan.indicators), name="reference")
    if reference is not None:
        _check_reference(reference, plan.indicators)
    digest = input_hash(methodology=methodology, settings=settings, units=units, values=values,
                        previous=previous, reference=reference)

    prepared = prepare(plan=plan, settings=settings, units=units, values=values, previous=previous,
                       reference=reference)
    resolved_weights, scores, ranks = _nominal_scores(prepared, unit_count=len(units))

    shares = sibling_shares(plan, resolved_weights, prepared.retained)
    effective = effective_weights(plan, shares)
    uncertainty_result = None
    if uncertainty:
        uncertainty_result = analyse_uncertainty(prepared, weights=resolved_weights, nominal_ranks=ranks,
                                                 nodes=_node_items(plan, uncertainty_nodes))
    return EngineResult(
        engine_version=ENGINE_VERSION,
        input_hash=digest,
        units=units,
        codes=plan.codes,
        parents={code: plan.codes[parent] if parent >= 0 else None
                 for code, parent in zip(plan.codes, plan.parent, strict=True)},
        levels=_levels(plan),
        indicator_codes=plan.indicator_codes,
        scores=frozen(scores),
        ranks=frozen(ranks),
        values=frozen(prepared.values),
        weights={code: float(share) for code, share in zip(plan.codes, shares, strict=True)},
        effective_weights={code: float(weight) for code, weight in zip(plan.codes, effective, strict=True)},
        diagnostics=_diagnostics(prepared, settings, reference is not None),
        audit=audit_run(prepared, raw=values[prepared.rows], scores=scores[prepared.rows]) if audit else None,
        uncertainty=uncertainty_result,
        sensitivity=analyse_sensitivity(prepared, weights=resolved_weights) if sensitivity else None,
    )


def _nominal_scores(prepared: Prepared, *, unit_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nominal run: the resolved weight of every item, then scores and ranks, units × items
    (NaN and no rank for a unit the screening dropped)."""
    plan, settings = prepared.plan, prepared.settings
    weights = declared_weights(plan, settings.weighting, prepared.retained)
    nominal = aggregate(plan, LeafBlocks(plan, prepared.leaves), weights[None, :], methods=plan.aggregation,
                        keep=range(plan.size), entropy=settings.weighting == "entropy")
    if nominal.failures[0] is not None:
        failure = nominal.failures[0]
        raise failure_error(prepared, failure, method=plan.aggregation[failure.node])
    # Item-major (items × units): each item's row is contiguous, which makes ranking it fast; the
    # result shows the transposed views (units × items).
    kept_by_item = np.stack([nominal.scores[item][:, 0] for item in range(plan.size)])
    if prepared.rows.size == unit_count:
        scores_by_item = kept_by_item
    else:
        scores_by_item = np.full((plan.size, unit_count), np.nan)
        scores_by_item[:, prepared.rows] = kept_by_item
    return nominal.weights[0], scores_by_item.T, ranks_descending_rows(scores_by_item).T


def input_hash(*, methodology: MethodologySpec, units: Sequence[str], values: np.ndarray,
               settings: EngineSettings | None = None, previous: np.ndarray | None = None,
               reference: np.ndarray | None = None) -> str:
    """SHA-256 of everything that decides the outputs: engine version, the methodology document as
    canonical JSON, the settings, the units and every value (NaN written one way). Last period's values
    count only when they are used (``last_period`` imputation). ``compute()`` returns the same hash
    as ``EngineResult.input_hash``; call this first to find a run that can be reused."""
    settings = settings if settings is not None else methodology.engine
    digest = hashlib.sha256()

    def part(label: str, *payloads) -> None:
        size = sum(memoryview(payload).nbytes for payload in payloads)
        digest.update(label.encode() + b"\0" + size.to_bytes(8, "big"))
        for payload in payloads:
            digest.update(payload)

    part("engine", ENGINE_VERSION.encode())
    part("methodology", _canonical_json(spec.to_document(methodology)))
    part("settings", _canonical_json(spec.engine_document(settings)))
    part("units", "\x1f".join(str(unit) for unit in units).encode())
    part("values", *_matrix_parts(values))
    if previous is not None and settings.imputation == "last_period":
        part("previous", *_matrix_parts(previous))
    if reference is not None:
        part("reference", *_matrix_parts(reference))
    return digest.hexdigest()


def _canonical_json(document) -> bytes:
    """The document's canonical JSON text, compact (same content as ``spec.dumps``, faster to write)."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _matrix_parts(matrix: np.ndarray) -> tuple[bytes, bytes]:
    """Shape, then the values as little-endian doubles with every NaN written with the same bits."""
    matrix = np.ascontiguousarray(matrix, dtype="<f8")
    missing = np.isnan(matrix)
    if missing.any():
        matrix = np.ascontiguousarray(np.where(missing, np.float64("nan"), matrix), dtype="<f8")
    return np.array(matrix.shape, dtype="<i8").tobytes(), matrix.tobytes()  # also for no units at all


def _matrix(matrix, *, rows: int | None, columns: int, name: str) -> np.ndarray | None:
    if matrix is None:
        return None
    try:
        matrix = np.array(matrix, dtype=float)
    except (TypeError, ValueError) as error:
        raise EngineError(N_("%(name)s must be numbers"), {"name": name}) from error
    if matrix.ndim != 2 or matrix.shape[1] != columns or (rows is not None and matrix.shape[0] != rows):
        expected = f"{rows if rows is not None else 'n'} × {columns}"
        raise EngineError(N_("%(name)s must be a %(expected)s matrix (units × indicators), not %(shape)s"),
                          {"name": name, "expected": expected, "shape": " × ".join(map(str, matrix.shape))})
    if np.isinf(matrix).any():
        raise EngineError(N_("%(name)s contain an infinite value"), {"name": name})
    return matrix


def _check_reference(reference: np.ndarray, indicators) -> None:
    """A reference year fixes each indicator's scale, so each needs at least one reference value."""
    for column, indicator in enumerate(indicators):
        if np.isnan(reference[:, column]).all():
            raise EngineError(N_("the reference year has no value of indicator %(indicator)s"),
                              {"indicator": indicator.code})


def _check_settings(settings: EngineSettings) -> None:
    problems = []
    if settings.imputation not in IMPUTATIONS:
        problems.append(("imputation", settings.imputation))
    if settings.weighting not in WEIGHTINGS:
        problems.append(("weighting", settings.weighting))
    if tuple(map(float, settings.normalisation_range)) not in NORMALISATION_RANGES:
        problems.append(("normalisation_range", settings.normalisation_range))
    if not 0 <= settings.availability_threshold <= 1:
        problems.append(("availability_threshold", settings.availability_threshold))
    for method in settings.uncertainty.normalisations:
        if method not in NORMALISATIONS:
            problems.append(("uncertainty.normalisations", method))
    for method in settings.uncertainty.aggregations:
        if method not in AGGREGATIONS:
            problems.append(("uncertainty.aggregations", method))
    if not 0 <= settings.uncertainty.weight_noise <= 1:
        problems.append(("uncertainty.weight_noise", settings.uncertainty.weight_noise))
    if problems:
        name, value = problems[0]
        raise EngineError(N_("the engine setting %(name)s cannot be %(value)s"), {"name": name, "value": value})


def _levels(plan: TreePlan) -> dict[str, int]:
    levels = [0] * plan.size
    for item in range(1, plan.size):
        levels[item] = levels[plan.parent[item]] + 1
    return dict(zip(plan.codes, levels, strict=True))


def _node_items(plan: TreePlan, codes: Sequence[str] | None) -> list[int]:
    if not codes:
        return [0]
    items = []
    for code in codes:
        if code not in plan.codes or plan.is_indicator(plan.codes.index(code)):
            raise EngineError(N_("%(code)s is not a node of the tree"), {"code": code})
        items.append(plan.codes.index(code))
    return items


def _diagnostics(prepared: Prepared, settings: EngineSettings, reference_used: bool) -> Diagnostics:
    plan, screening = prepared.plan, prepared.screening
    units = prepared.units
    source = IMPUTATION_SOURCES.get(settings.imputation, "")
    cells = tuple(ImputedCell(units[row], plan.indicators[column].code, float(prepared.values[row, column]), source)
                  for row, column in zip(*np.nonzero(prepared.imputed), strict=True))
    return Diagnostics(
        indicator_availability=frozen(screening.indicator_availability),
        unit_availability=frozen(screening.unit_availability),
        excluded_units=tuple(unit for unit, kept in zip(units, screening.kept_units, strict=True) if not kept),
        excluded_indicators=tuple(indicator.code for indicator, kept
                                  in zip(plan.indicators, screening.kept_indicators, strict=True) if not kept),
        empty_nodes=tuple(plan.codes[node] for node in sorted(plan.nodes) if not prepared.retained[node]),
        imputation=settings.imputation,
        imputed=frozen(prepared.imputed),
        imputed_cells=cells,
        treatments=prepared.treatments,
        warnings=prepared.warnings,
        reference_used=reference_used,
    )
