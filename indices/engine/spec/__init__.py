"""A methodology version as plain data: the JSON document, its validation and its diff.

Pure Python (no Django), so the engine, the import command and the admin share one parser
and one set of rules. Problems carry a path into the document (``tree.children[0].weight``)
and a message template marked with ``N_`` for translation by the Django layer.

Split by concern: ``model`` (the dataclasses and the names a document allows), ``problems``
(what is wrong, and what stops publishing), ``reader`` and ``document`` (the JSON text both
ways) and ``diff``; every public name is re-exported here, so that ``from indices.engine.spec
import X`` and ``spec.X`` keep working.
"""
from indices.engine.spec.diff import Change, ItemDiff, diff
from indices.engine.spec.document import (
    checks_from_document,
    dumps,
    engine_document,
    engine_from_document,
    from_document,
    loads,
    to_document,
)
from indices.engine.spec.model import (
    AGGREGATIONS,
    BOUND_FIELDS,
    CHECKS,
    LANGS,
    MAX_DECIMALS,
    NORMALISATIONS,
    SCHEMA,
    SEVERITIES,
    TOLERANCE_KINDS,
    Bounds,
    CheckSeverities,
    ContextVariableSpec,
    IndicatorSpec,
    MethodologySpec,
    NodeSpec,
    RuleSpec,
)
from indices.engine.spec.problems import (
    N_,
    DocumentError,
    Problem,
    bounds_problems,
    normalisation_problems,
    publish_problems,
)

__all__ = [
    "AGGREGATIONS",
    "BOUND_FIELDS",
    "CHECKS",
    "LANGS",
    "MAX_DECIMALS",
    "NORMALISATIONS",
    "SCHEMA",
    "SEVERITIES",
    "TOLERANCE_KINDS",
    "N_",
    "Bounds",
    "Change",
    "CheckSeverities",
    "ContextVariableSpec",
    "DocumentError",
    "IndicatorSpec",
    "ItemDiff",
    "MethodologySpec",
    "NodeSpec",
    "Problem",
    "RuleSpec",
    "bounds_problems",
    "checks_from_document",
    "diff",
    "dumps",
    "engine_document",
    "engine_from_document",
    "from_document",
    "loads",
    "normalisation_problems",
    "publish_problems",
    "to_document",
]
