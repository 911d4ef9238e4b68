"""The JSON document: the canonical text of a spec (dumps, to_document) and back (loads, from_document)."""
from __future__ import annotations

import json
from typing import Any

from indices.engine.settings import EngineSettings
from indices.engine.spec.model import (
    BOUND_FIELDS,
    CHECKS,
    SCHEMA,
    CheckSeverities,
    ContextVariableSpec,
    IndicatorSpec,
    MethodologySpec,
    NodeSpec,
    document_number,
)
from indices.engine.spec.problems import N_, DocumentError, Problem, publish_problems
from indices.engine.spec.reader import DocumentReader


def dumps(spec: MethodologySpec) -> str:
    """The canonical text of a document: same spec, same bytes."""
    return json.dumps(to_document(spec), ensure_ascii=False, indent=2) + "\n"


def to_document(spec: MethodologySpec) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "code": spec.code,
        "version": spec.version,
        "title": {"zh-hans": spec.title_zh, "en": spec.title_en},
        "notes": spec.notes,
        "tree": _node_document(spec.root),
        "context_variables": [_variable_document(variable) for variable in spec.context_variables],
        "rules": [
            {
                "code": rule.code,
                "name": {"zh-hans": rule.name_zh, "en": rule.name_en},
                "target": rule.target,
                "expression": rule.expression,
                "tolerance": {"kind": rule.tolerance_kind, "value": document_number(rule.tolerance)},
                "severity": rule.severity,
            }
            for rule in spec.rules
        ],
        "checks": {name: getattr(spec.checks, name) for name in CHECKS},
        "engine": engine_document(spec.engine),
    }


def engine_document(engine: EngineSettings) -> dict[str, Any]:
    document = engine.to_document()
    for key in ("availability_threshold", "outlier_skew", "outlier_kurtosis"):
        document[key] = document_number(document[key])
    document["normalisation_range"] = [document_number(bound) for bound in document["normalisation_range"]]
    document["uncertainty"]["weight_noise"] = document_number(document["uncertainty"]["weight_noise"])
    return document


def engine_from_document(document: Any) -> EngineSettings:
    """The engine section alone (the Django layer stores it apart from the tree)."""
    reader = DocumentReader()
    engine = reader.engine(document, "engine")
    if reader.problems:
        raise DocumentError(reader.problems)
    return engine


def checks_from_document(document: Any) -> CheckSeverities:
    reader = DocumentReader()
    checks = reader.checks(document, "checks")
    if reader.problems:
        raise DocumentError(reader.problems)
    return checks


def _node_document(node: NodeSpec | IndicatorSpec) -> dict[str, Any]:
    if isinstance(node, IndicatorSpec):
        return {
            "type": "indicator",
            "code": node.code,
            "name": {"zh-hans": node.name_zh, "en": node.name_en},
            "weight": document_number(node.weight),
            "direction": node.direction,
            **_variable_document(node, with_code_and_name=False),
            "normalisation": {
                "method": node.normalisation,
                "params": {key: document_number(value) for key, value in sorted(node.normalisation_params.items())},
                "log_transform": node.log_transform,
            },
        }
    return {
        "type": "node",
        "code": node.code,
        "name": {"zh-hans": node.name_zh, "en": node.name_en},
        "weight": document_number(node.weight),
        "aggregation": node.aggregation,
        "children": [_node_document(child) for child in node.children],
    }


def _variable_document(variable: ContextVariableSpec, with_code_and_name: bool = True) -> dict[str, Any]:
    head = {"code": variable.code, "name": {"zh-hans": variable.name_zh, "en": variable.name_en}}
    return {
        **(head if with_code_and_name else {}),
        "unit": {"zh-hans": variable.unit_zh, "en": variable.unit_en},
        "decimals": variable.decimals,
        "definition": {"zh-hans": variable.definition_zh, "en": variable.definition_en},
        "bounds": {name: document_number(getattr(variable.bounds, name)) for name in BOUND_FIELDS},
    }


def loads(text: str) -> MethodologySpec:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DocumentError([Problem("", N_("not valid JSON: %(error)s"), {"error": str(error)})]) from error
    return from_document(document)


def from_document(document: Any) -> MethodologySpec:
    """Parse and check a document; raise DocumentError naming every bad field."""
    reader = DocumentReader()
    spec = reader.methodology(document)
    reported = {problem.path for problem in reader.problems}
    problems = reader.problems + [problem for problem in publish_problems(spec)
                                  if _structural(problem) and problem.path not in reported]
    if problems:
        raise DocumentError(problems)
    return spec


def _structural(problem: Problem) -> bool:
    """Import takes drafts with missing bounds; it refuses what no draft may hold."""
    return problem.path.split(".")[-1] not in ("hard_min", "hard_max")
