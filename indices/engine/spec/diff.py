"""Comparing two versions: every node, indicator, context variable, rule and setting that changed."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from indices.engine.spec.document import engine_document
from indices.engine.spec.model import BOUND_FIELDS, CHECKS, ContextVariableSpec, IndicatorSpec, MethodologySpec


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ItemDiff:
    code: str
    kind: str  # "node", "indicator" or "context"
    status: str  # "added", "removed" or "changed"
    name: str
    changes: tuple[Change, ...] = ()


def diff(old: MethodologySpec, new: MethodologySpec) -> list[ItemDiff]:
    """Every node, indicator and context variable added, removed or changed, in the new tree's order."""
    old_items, new_items = _flatten(old), _flatten(new)
    result = []
    for code, (kind, item) in new_items.items():
        if code not in old_items:
            result.append(ItemDiff(code, kind, "added", item["name_zh"]))
            continue
        previous = old_items[code][1]
        changes = tuple(Change(name, previous.get(name), value)
                        for name, value in item.items() if previous.get(name) != value)
        if changes:
            result.append(ItemDiff(code, kind, "changed", item["name_zh"], changes))
    result.extend(ItemDiff(code, kind, "removed", item["name_zh"])
                  for code, (kind, item) in old_items.items() if code not in new_items)
    return result


def _flatten(spec: MethodologySpec) -> dict[str, tuple[str, dict]]:
    flat = {}
    for _, parent_code, item in spec.walk():
        values = {f.name: getattr(item, f.name) for f in fields(item) if f.name not in ("children", "bounds")}
        values["parent"] = parent_code
        if isinstance(item, ContextVariableSpec):
            values.update({name: getattr(item.bounds, name) for name in BOUND_FIELDS})
        flat[item.code] = ("indicator" if isinstance(item, IndicatorSpec) else "node", values)
    for variable in spec.context_variables:
        values = {f.name: getattr(variable, f.name) for f in fields(variable) if f.name != "bounds"}
        values.update({name: getattr(variable.bounds, name) for name in BOUND_FIELDS})
        flat[variable.code] = ("context", values)
    for rule in spec.rules:
        flat[f"rule:{rule.code}"] = ("rule", {f.name: getattr(rule, f.name) for f in fields(rule)})
    settings = {f"checks.{name}": getattr(spec.checks, name) for name in CHECKS}
    settings.update(_dotted("engine", engine_document(spec.engine)))
    flat["settings"] = ("settings", {"name_zh": "", **settings})
    return flat


def _dotted(prefix: str, document: dict) -> dict[str, Any]:
    flat = {}
    for key, value in document.items():
        if isinstance(value, dict):
            flat.update(_dotted(f"{prefix}.{key}", value))
        else:
            flat[f"{prefix}.{key}"] = value
    return flat
