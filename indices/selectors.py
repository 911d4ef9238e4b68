"""Selectors of the indices app: functions that read."""
import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from indices.engine import spec as methodology_spec_module
from indices.engine.spec import (
    Bounds,
    ContextVariableSpec,
    IndicatorSpec,
    ItemDiff,
    MethodologySpec,
    NodeSpec,
    RuleSpec,
)
from indices.models import Indicator, IndicatorKind, MethodologyNode, MethodologyVersion, ValidationRule
from reporting.models import City, ReportingPeriod, ReturnState, ReturnValue


def methodology_spec(*, version: MethodologyVersion) -> MethodologySpec:
    """The version as plain data, read in three queries."""
    nodes = list(MethodologyNode.objects.filter(version=version).order_by("position", "code"))
    indicators = list(Indicator.objects.filter(version=version).order_by("position", "code"))
    child_nodes: dict[int | None, list[MethodologyNode]] = defaultdict(list)
    for node in nodes:
        child_nodes[node.parent_id].append(node)
    child_indicators: dict[int | None, list[Indicator]] = defaultdict(list)
    for indicator in indicators:
        if indicator.kind == IndicatorKind.SCORED:
            child_indicators[indicator.parent_id].append(indicator)

    def build(node: MethodologyNode) -> NodeSpec:
        children = [(child.position, 0, build(child)) for child in child_nodes[node.pk]]
        children += [(leaf.position, 1, _indicator_spec(leaf)) for leaf in child_indicators[node.pk]]
        children.sort(key=lambda entry: (entry[0], entry[1], entry[2].code))
        return NodeSpec(
            code=node.code, name_zh=node.name_zh, name_en=node.name_en, weight=node.weight,
            aggregation=node.aggregation, children=tuple(child for _, _, child in children),
        )

    roots = child_nodes[None]
    return MethodologySpec(
        code=version.code,
        version=version.version,
        title_zh=version.title_zh,
        title_en=version.title_en,
        notes=version.notes,
        root=build(roots[0]) if roots else NodeSpec(code="", name_zh="", name_en=""),
        context_variables=tuple(
            ContextVariableSpec(**_variable_fields(indicator))
            for indicator in indicators if indicator.kind == IndicatorKind.CONTEXT
        ),
        rules=tuple(
            RuleSpec(code=rule.code, name_zh=rule.name_zh, name_en=rule.name_en, target=rule.target,
                     expression=rule.expression, tolerance_kind=rule.tolerance_kind, tolerance=rule.tolerance,
                     severity=rule.severity)
            for rule in ValidationRule.objects.filter(version=version).order_by("position", "code")
        ),
        checks=methodology_spec_module.checks_from_document(version.check_severities or {}),
        engine=methodology_spec_module.engine_from_document(version.engine_settings or {}),
    )


def _variable_fields(indicator: Indicator) -> dict:
    return dict(
        code=indicator.code, name_zh=indicator.name_zh, name_en=indicator.name_en,
        unit_zh=indicator.unit_zh, unit_en=indicator.unit_en, decimals=indicator.decimals,
        definition_zh=indicator.definition_zh, definition_en=indicator.definition_en,
        bounds=Bounds(
            hard_min=indicator.hard_min, hard_max=indicator.hard_max, soft_min=indicator.soft_min,
            soft_max=indicator.soft_max, yoy_tolerance_pct=indicator.yoy_tolerance_pct,
        ),
    )


def _indicator_spec(indicator: Indicator) -> IndicatorSpec:
    return IndicatorSpec(
        **_variable_fields(indicator),
        weight=indicator.weight,
        direction=indicator.direction,
        normalisation=indicator.normalisation,
        normalisation_params=dict(indicator.normalisation_params or {}),
        log_transform=indicator.log_transform,
    )


@dataclass(frozen=True, eq=False)
class IndexInputs:
    """What the engine reads for a period: the cities with an approved return and their values."""

    units: tuple[str, ...]  # city codes, in a fixed order
    indicator_codes: tuple[str, ...]  # the columns of values: the methodology's indicators in tree order
    values: np.ndarray  # units × indicators, NaN = missing
    previous: np.ndarray  # last data year's approved values of the same cities (NaN where none)
    context: dict[str, dict[str, float]]  # context variables by city code (reported, not scored)
    cities_total: int

    @property
    def is_complete(self) -> bool:
        return len(self.units) == self.cities_total

    def document(self) -> dict:
        """Every value read, as JSON data (stored on the run, so it stays reproducible after amendments)."""
        def rows(matrix):
            return {unit: {code: (None if np.isnan(value) else float(value))
                           for code, value in zip(self.indicator_codes, row, strict=True)}
                    for unit, row in zip(self.units, matrix, strict=True)}
        return {"units": list(self.units), "indicators": list(self.indicator_codes), "values": rows(self.values),
                "previous": rows(self.previous), "context": self.context}


def index_inputs(*, period: ReportingPeriod, spec: MethodologySpec,
                 replace: dict[str, dict[str, float | None]] | None = None) -> IndexInputs:
    """The approved values of ``period`` laid out for ``spec`` (matched by indicator code, so a draft
    methodology can be tried on the same data). ``replace`` swaps in one city's values, e.g. a
    submitted return's, to preview what approving it would do."""
    indicator_codes = tuple(indicator.code for indicator in spec.indicators())
    context_codes = {variable.code for variable in spec.context_variables}
    current = _approved_values(period_id=period.pk)
    earlier = _approved_values(data_year=period.data_year - 1)
    for unit, values in (replace or {}).items():
        current[unit] = values
    units = tuple(sorted(current))
    return IndexInputs(
        units=units, indicator_codes=indicator_codes,
        values=_matrix(current, units, indicator_codes), previous=_matrix(earlier, units, indicator_codes),
        context={unit: {code: value for code, value in current[unit].items() if code in context_codes}
                 for unit in units},
        cities_total=City.objects.count(),
    )


def _approved_values(*, period_id: int | None = None, data_year: int | None = None) -> dict[str, dict]:
    period_filter = ({"indicator_return__period_id": period_id} if period_id is not None
                     else {"indicator_return__period__data_year": data_year})
    rows = ReturnValue.objects.filter(indicator_return__state=ReturnState.APPROVED, **period_filter).values_list(
        "indicator_return__city__code", "indicator__code", "value")
    result: dict[str, dict[str, float | None]] = defaultdict(dict)
    for city, code, value in rows:
        result[city][code] = None if value is None else float(value)
    return result


def _matrix(values: dict[str, dict], units: tuple[str, ...], codes: tuple[str, ...]) -> np.ndarray:
    matrix = np.full((len(units), len(codes)), np.nan)
    for row, unit in enumerate(units):
        for column, code in enumerate(codes):
            value = values.get(unit, {}).get(code)
            if value is not None:
                matrix[row, column] = value
    return matrix


def methodology_document(*, version: MethodologyVersion) -> str:
    """The version's canonical JSON document."""
    return methodology_spec_module.dumps(methodology_spec(version=version))


def methodology_diff(*, old: MethodologyVersion, new: MethodologyVersion) -> list[ItemDiff]:
    return methodology_spec_module.diff(methodology_spec(version=old), methodology_spec(version=new))


def methodology_next_free_label(*, code: str, version: str) -> str:
    """The label a clone of ``version`` gets by default: 2025.1 → 2025.2 (or the next free one)."""
    taken = set(MethodologyVersion.objects.filter(code=code).values_list("version", flat=True))
    match = re.fullmatch(r"(.*?)(\d+)", version)
    stem, number = (match.group(1), int(match.group(2))) if match else (f"{version}.", 0)
    number += 1
    while f"{stem}{number}" in taken:
        number += 1
    return f"{stem}{number}"

