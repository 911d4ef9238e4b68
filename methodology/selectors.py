"""Selectors of the methodology app: a version as the engine's plain data, its document, diffs."""
import re
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import QuerySet

from indices.engine import spec as methodology_spec_module
from indices.engine.errors import EngineError
from indices.engine.spec import (
    Bounds,
    ContextVariableSpec,
    IndicatorSpec,
    ItemDiff,
    MethodologySpec,
    NodeSpec,
    RuleSpec,
)
from indices.engine.tree import document_weights
from methodology.models import (
    Indicator,
    IndicatorKind,
    MethodologyNode,
    MethodologyState,
    MethodologyVersion,
    ValidationRule,
)

_PUBLISHED_SPECS: dict[tuple[int, object], MethodologySpec] = {}
_PUBLISHED_INDICATORS: dict[tuple[int, object], dict[int, Indicator]] = {}


def methodology_spec(*, version: MethodologyVersion) -> MethodologySpec:
    """The version as plain data. A published (or retired) version is frozen, so it is read once per
    process; a draft is read every time, as it may have changed since."""
    if version.is_draft or version.published_at is None:
        return methodology_spec_fresh(version=version)
    key = (version.pk, version.published_at)
    if key not in _PUBLISHED_SPECS:
        _PUBLISHED_SPECS[key] = methodology_spec_fresh(version=version)
    return _PUBLISHED_SPECS[key]


def methodology_indicators(*, version: MethodologyVersion) -> dict[int, Indicator]:
    """The version's indicators and context variables by id, for naming a return's values. A published
    version's are read once per process, as its spec is; a draft's every time. Shared: never change them."""
    if version.is_draft or version.published_at is None:
        return _indicators_by_id(version)
    key = (version.pk, version.published_at)
    if key not in _PUBLISHED_INDICATORS:
        _PUBLISHED_INDICATORS[key] = _indicators_by_id(version)
    return _PUBLISHED_INDICATORS[key]


def _indicators_by_id(version: MethodologyVersion) -> dict[int, Indicator]:
    return {indicator.pk: indicator for indicator in Indicator.objects.filter(version=version)}


def methodology_spec_fresh(*, version: MethodologyVersion) -> MethodologySpec:
    """The version as plain data, read from the database in three queries, never from the cache."""
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


@dataclass(frozen=True)
class TreeRow:
    """A node or an indicator of a version's tree, as the admin shows it: indented, with its weights."""

    code: str
    name_zh: str
    name_en: str
    level: int  # 0 the index
    is_indicator: bool
    weight: float  # as declared in the document
    share: float | None  # share among its siblings; None when the tree cannot be computed
    effective: float | None  # weight in the index (product of the shares down the path)
    children: tuple["TreeRow", ...] = ()


def methodology_weights(*, version: MethodologyVersion) -> tuple[dict[str, float], dict[str, float]]:
    """Sibling shares and effective weights by code from the document; empty for a tree the engine refuses
    (a draft being built)."""
    try:
        return document_weights(methodology_spec(version=version))
    except EngineError:
        return {}, {}


def methodology_tree(*, version: MethodologyVersion) -> TreeRow | None:
    """The version's tree in tree order (the engine's walk), with declared, sibling and effective weights."""
    spec = methodology_spec(version=version)
    if not spec.root.code:
        return None
    shares, effective = methodology_weights(version=version)

    def row(item, level: int) -> TreeRow:
        children = tuple(row(child, level + 1) for child in getattr(item, "children", ()))
        return TreeRow(code=item.code, name_zh=item.name_zh, name_en=item.name_en, level=level,
                       is_indicator=isinstance(item, IndicatorSpec), weight=float(getattr(item, "weight", 1.0)),
                       share=shares.get(item.code), effective=effective.get(item.code), children=children)

    return row(spec.root, 0)


@dataclass(frozen=True)
class WeightChange:
    code: str
    name_zh: str
    name_en: str
    old: float | None  # effective weight in the old version; None: not there (or not computable)
    new: float | None

    @property
    def delta(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old


def methodology_weight_diff(*, old: MethodologyVersion, new: MethodologyVersion,
                            tolerance: float = 1e-9) -> list[WeightChange]:
    """Every node and indicator whose effective weight differs between the versions, in the new tree's order,
    then those only the old one has. A declared weight changes the effective weights of its siblings and
    everything below: this lists them all."""
    old_spec, new_spec = methodology_spec(version=old), methodology_spec(version=new)
    old_weights, new_weights = methodology_weights(version=old)[1], methodology_weights(version=new)[1]
    items = {item.code: item for _, _, item in old_spec.walk()} | {item.code: item for _, _, item in new_spec.walk()}
    order = [item.code for _, _, item in new_spec.walk()]
    order += [item.code for _, _, item in old_spec.walk() if item.code not in set(order)]
    changes = []
    for code in order:
        before, after = old_weights.get(code), new_weights.get(code)
        if before is not None and after is not None and abs(before - after) <= tolerance:
            continue
        if before is None and after is None:
            continue
        item = items[code]
        changes.append(WeightChange(code=code, name_zh=item.name_zh, name_en=item.name_en, old=before, new=after))
    return changes


def methodology_tree_order(*, version: MethodologyVersion) -> list[str]:
    """The codes of the version's nodes and indicators in tree order (the engine's walk, depth first),
    then its context variables: the order the admin lists them in."""
    spec = methodology_spec(version=version)
    return [item.code for _, _, item in spec.walk() if item.code] + [item.code for item in spec.context_variables]


def methodology_drafts() -> QuerySet[MethodologyVersion]:
    """Versions still being written (a methodologist's unfinished work), newest first."""
    return MethodologyVersion.objects.filter(state=MethodologyState.DRAFT).order_by("-created_at", "-id")
