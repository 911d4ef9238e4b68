"""A methodology version as plain data: the frozen dataclasses of the tree, rules and checks, the
names the document allows, and how numbers are checked and printed."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from indices.engine.settings import EngineSettings

SCHEMA = "ccfi-methodology/1"
AGGREGATIONS = ("arithmetic", "geometric", "harmonic")
NORMALISATIONS = ("minmax", "zscore", "goalposts", "target", "ratio_best", "ratio_mean", "rank", "percentile_rank")
LANGS = ("zh-hans", "en")
BOUND_FIELDS = ("hard_min", "hard_max", "soft_min", "soft_max", "yoy_tolerance_pct")
SEVERITIES = ("error", "warning", "info")
TOLERANCE_KINDS = ("relative", "absolute")
CHECKS = ("soft_bounds", "year_on_year", "unit_slip")
MAX_DECIMALS = 10


@dataclass(frozen=True)
class Bounds:
    hard_min: float | None = None
    hard_max: float | None = None
    soft_min: float | None = None
    soft_max: float | None = None
    yoy_tolerance_pct: float | None = None


@dataclass(frozen=True)
class ContextVariableSpec:
    code: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    decimals: int = 2
    definition_zh: str = ""
    definition_en: str = ""
    bounds: Bounds = Bounds()


@dataclass(frozen=True)
class IndicatorSpec(ContextVariableSpec):
    weight: float = 1.0
    direction: int = 1
    normalisation: str = "minmax"
    normalisation_params: dict = field(default_factory=dict)
    log_transform: bool = False


@dataclass(frozen=True)
class NodeSpec:
    code: str
    name_zh: str
    name_en: str
    weight: float = 1.0
    aggregation: str = "arithmetic"
    children: tuple[NodeSpec | IndicatorSpec, ...] = ()


@dataclass(frozen=True)
class RuleSpec:
    """A cross-field rule: the target's value must match the expression within the tolerance."""

    code: str
    name_zh: str  # what the filer reads when the rule flags a value
    name_en: str
    target: str
    expression: str
    tolerance_kind: str = "relative"  # relative: |value − expected| ≤ tolerance × |expected|
    tolerance: float = 0.01
    severity: str = "warning"


@dataclass(frozen=True)
class CheckSeverities:
    """How the built-in checks grade a value (hard bounds and completeness are always errors)."""

    soft_bounds: str = "warning"
    year_on_year: str = "warning"
    unit_slip: str = "warning"


@dataclass(frozen=True)
class MethodologySpec:
    code: str
    version: str
    root: NodeSpec
    title_zh: str = ""
    title_en: str = ""
    notes: str = ""
    context_variables: tuple[ContextVariableSpec, ...] = ()
    rules: tuple[RuleSpec, ...] = ()
    checks: CheckSeverities = CheckSeverities()
    engine: EngineSettings = field(default_factory=EngineSettings)

    def walk(self):
        """Yield (path, parent code, node or indicator) depth first, root first."""
        def visit(item, path, parent_code):
            yield path, parent_code, item
            if isinstance(item, NodeSpec):
                for index, child in enumerate(item.children):
                    yield from visit(child, f"{path}.children[{index}]", item.code)

        yield from visit(self.root, "tree", None)

    def nodes(self) -> list[NodeSpec]:
        return [item for _, _, item in self.walk() if isinstance(item, NodeSpec)]

    def indicators(self) -> list[IndicatorSpec]:
        return [item for _, _, item in self.walk() if isinstance(item, IndicatorSpec)]


def is_number(value) -> bool:
    """A finite int or float; True and False are not numbers in a document."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def document_number(value: float | None) -> float | int | None:
    """Whole numbers print without a decimal point, so a document reads as it was written."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value
