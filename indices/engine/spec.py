"""A methodology version as plain data: the JSON document, its validation and its diff.

Pure Python (no Django), so the engine, the import command and the admin share one parser
and one set of rules. Problems carry a path into the document (``tree.children[0].weight``)
and a message template marked with ``N_`` for translation by the Django layer.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from typing import Any

from indices.engine.expressions import ExpressionError, parse_expression
from indices.engine.settings import IMPUTATIONS, NORMALISATION_RANGES, WEIGHTINGS, EngineSettings, UncertaintySettings

SCHEMA = "ccfi-methodology/1"
AGGREGATIONS = ("arithmetic", "geometric", "harmonic")
NORMALISATIONS = ("minmax", "zscore", "goalposts", "target", "ratio_best", "ratio_mean", "rank", "percentile_rank")
LANGS = ("zh-hans", "en")
BOUND_FIELDS = ("hard_min", "hard_max", "soft_min", "soft_max", "yoy_tolerance_pct")
SEVERITIES = ("error", "warning", "info")
TOLERANCE_KINDS = ("relative", "absolute")
CHECKS = ("soft_bounds", "year_on_year", "unit_slip")
MAX_DECIMALS = 10


def N_(message: str) -> str:
    """Mark a message for translation; the Django layer translates it when it shows it."""
    return message


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    params: dict = field(default_factory=dict)

    def render(self, translate=lambda message: message) -> str:
        text = translate(self.message) % self.params if self.params else translate(self.message)
        return f"{self.path}: {text}" if self.path else text


class DocumentError(ValueError):
    """An invalid methodology document; ``problems`` names every bad field."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(problem.render() for problem in problems))


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


# Checks shared with the Django models' clean().

def bounds_problems(**bounds: float | None) -> list[Problem]:
    """Bounds out of order (hard_min ≤ soft_min ≤ soft_max ≤ hard_max); the path is the field."""
    problems = []
    order = [name for name in ("hard_min", "soft_min", "soft_max", "hard_max") if bounds.get(name) is not None]
    for lower, upper in zip(order, order[1:], strict=False):
        if bounds[lower] > bounds[upper]:
            problems.append(Problem(upper, N_("must not be less than %(other)s (%(value)s)"),
                                    {"other": lower, "value": _number(bounds[lower])}))
    tolerance = bounds.get("yoy_tolerance_pct")
    if tolerance is not None and tolerance <= 0:
        problems.append(Problem("yoy_tolerance_pct", N_("must be greater than zero")))
    return problems


def normalisation_problems(method: str, params: dict) -> list[Problem]:
    required = {"goalposts": ("lower", "upper"), "target": ("target",)}.get(method, ())
    problems = [Problem("params", N_("%(method)s needs the parameter %(name)s"), {"method": method, "name": name})
                for name in required if not _is_number(params.get(name))]
    if method == "goalposts" and not problems and params["lower"] >= params["upper"]:
        problems.append(Problem("params", N_("the lower goalpost must be below the upper goalpost")))
    return problems


# Publishing.

def publish_problems(spec: MethodologySpec) -> list[Problem]:
    """What stops a version from being published: codes, weights, bounds, directions, shape."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    items = [(path, item) for path, _, item in spec.walk()] + [
        (f"context_variables[{index}]", variable) for index, variable in enumerate(spec.context_variables)
    ]
    for path, item in items:
        if item.code in seen:
            problems.append(Problem(f"{path}.code", N_("code %(code)s is used twice (also at %(other)s)"),
                                    {"code": item.code, "other": seen[item.code]}))
        seen.setdefault(item.code, path)
        if isinstance(item, NodeSpec | IndicatorSpec) and path != "tree" and not item.weight > 0:
            problems.append(Problem(f"{path}.weight", N_("weight of %(code)s must be positive"), {"code": item.code}))
        if isinstance(item, NodeSpec) and not item.children:
            problems.append(Problem(f"{path}.children", N_("node %(code)s has no children"), {"code": item.code}))
        if isinstance(item, ContextVariableSpec):
            for name in ("hard_min", "hard_max"):
                if getattr(item.bounds, name) is None:
                    problems.append(Problem(f"{path}.bounds.{name}", N_("%(code)s has no %(bound)s"),
                                            {"code": item.code, "bound": name}))
        if isinstance(item, IndicatorSpec) and item.direction not in (1, -1):
            problems.append(Problem(f"{path}.direction", N_("direction of %(code)s must be 1 or -1"),
                                    {"code": item.code}))
    if not spec.indicators():
        problems.append(Problem("tree", N_("the tree has no indicators")))
    variables = {item.code for item in [*spec.indicators(), *spec.context_variables]}
    for index, rule in enumerate(spec.rules):
        path = f"rules[{index}]"
        if rule.code in seen:
            problems.append(Problem(f"{path}.code", N_("code %(code)s is used twice (also at %(other)s)"),
                                    {"code": rule.code, "other": seen[rule.code]}))
        seen.setdefault(rule.code, path)
        if rule.target not in variables:
            problems.append(Problem(f"{path}.target", N_("%(code)s is not an indicator or context variable"),
                                    {"code": rule.target}))
        try:
            expression = parse_expression(rule.expression)
        except ExpressionError:
            continue  # the reader has reported it
        for code in sorted(set(expression.current + expression.previous) - variables):
            problems.append(Problem(f"{path}.expression", N_("%(code)s is not an indicator or context variable"),
                                    {"code": code}))
    return problems


# The JSON document.

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
                "tolerance": {"kind": rule.tolerance_kind, "value": _number(rule.tolerance)},
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
        document[key] = _number(document[key])
    document["normalisation_range"] = [_number(bound) for bound in document["normalisation_range"]]
    document["uncertainty"]["weight_noise"] = _number(document["uncertainty"]["weight_noise"])
    return document


def engine_from_document(document: Any) -> EngineSettings:
    """The engine section alone (the Django layer stores it apart from the tree)."""
    reader = _Reader()
    engine = reader.engine(document, "engine")
    if reader.problems:
        raise DocumentError(reader.problems)
    return engine


def checks_from_document(document: Any) -> CheckSeverities:
    reader = _Reader()
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
            "weight": _number(node.weight),
            "direction": node.direction,
            **_variable_document(node, with_code_and_name=False),
            "normalisation": {
                "method": node.normalisation,
                "params": {key: _number(value) for key, value in sorted(node.normalisation_params.items())},
                "log_transform": node.log_transform,
            },
        }
    return {
        "type": "node",
        "code": node.code,
        "name": {"zh-hans": node.name_zh, "en": node.name_en},
        "weight": _number(node.weight),
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
        "bounds": {name: _number(getattr(variable.bounds, name)) for name in BOUND_FIELDS},
    }


def loads(text: str) -> MethodologySpec:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DocumentError([Problem("", N_("not valid JSON: %(error)s"), {"error": str(error)})]) from error
    return from_document(document)


def from_document(document: Any) -> MethodologySpec:
    """Parse and check a document; raise DocumentError naming every bad field."""
    reader = _Reader()
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


class _Reader:
    def __init__(self):
        self.problems: list[Problem] = []

    def fail(self, path: str, message: str, **params) -> None:
        self.problems.append(Problem(path, message, params))

    def obj(self, value, path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            self.fail(path, N_("must be an object"))
            return {}
        for key in required:
            if key not in value:
                self.fail(f"{path}.{key}" if path else key, N_("is required"))
        for key in value:
            if key not in required and key not in optional:
                self.fail(f"{path}.{key}" if path else key, N_("is not a known field"))
        return value

    def text(self, value, path, *, blank=True, max_length=300) -> str:
        if not isinstance(value, str):
            self.fail(path, N_("must be a string"))
            return ""
        if not blank and not value.strip():
            self.fail(path, N_("must not be empty"))
        if len(value) > max_length:
            self.fail(path, N_("is longer than %(max)s characters"), max=max_length)
        return value

    def code(self, value, path) -> str:
        code = self.text(value, path, blank=False, max_length=30)
        if code and (code != code.strip() or any(char.isspace() for char in code)):
            self.fail(path, N_("must not contain spaces"))
        return code

    def number(self, value, path, *, nullable=False) -> float | None:
        if value is None and nullable:
            return None
        if not _is_number(value):
            self.fail(path, N_("must be a finite number"))
            return None
        return float(value)

    def bilingual(self, value, path, *, blank=True, max_length=300) -> tuple[str, str]:
        if value is None:  # a missing required key, already reported by obj()
            return "", ""
        value = self.obj(value, path, LANGS)
        return tuple(self.text(value[lang], f"{path}.{lang}", blank=blank, max_length=max_length)
                     if lang in value else "" for lang in LANGS)

    def methodology(self, document) -> MethodologySpec:
        keys = ("schema", "code", "version", "title", "notes", "tree", "context_variables")
        document = self.obj(document, "", keys, ("rules", "checks", "engine"))
        if document.get("schema", SCHEMA) != SCHEMA:
            self.fail("schema", N_("must be %(schema)s"), schema=SCHEMA)
        title_zh, title_en = self.bilingual(document.get("title", {"zh-hans": "", "en": ""}), "title", max_length=200)
        variables = document.get("context_variables", [])
        if not isinstance(variables, list):
            self.fail("context_variables", N_("must be a list"))
            variables = []
        root = self.tree_item(document.get("tree"), "tree")
        if isinstance(root, IndicatorSpec):
            self.fail("tree.type", N_("the root must be a node"))
        return MethodologySpec(
            code=self.code(document.get("code", ""), "code"),
            version=self.code(document.get("version", ""), "version"),
            title_zh=title_zh,
            title_en=title_en,
            notes=self.text(document.get("notes", ""), "notes", max_length=20000),
            root=root if isinstance(root, NodeSpec) else NodeSpec(code="", name_zh="", name_en=""),
            context_variables=tuple(self.variable(item, f"context_variables[{index}]")
                                    for index, item in enumerate(variables)),
            rules=tuple(self.rule(item, f"rules[{index}]") for index, item in enumerate(self.list(document, "rules"))),
            checks=self.checks(document.get("checks", {}), "checks"),
            engine=self.engine(document.get("engine", {}), "engine"),
        )

    def list(self, document: dict, key: str) -> list:
        value = document.get(key, [])
        if not isinstance(value, list):
            self.fail(key, N_("must be a list"))
            return []
        return value

    def choice(self, value, path, choices: tuple[str, ...]) -> str:
        if value not in choices:
            self.fail(path, N_("must be one of %(choices)s"), choices=", ".join(choices))
            return choices[0]
        return value

    def whole(self, value, path, *, minimum: int, maximum: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
            self.fail(path, N_("must be a whole number from %(min)s to %(max)s"), min=minimum, max=maximum)
            return minimum
        return value

    def share(self, value, path) -> float:
        number = self.number(value, path)
        if number is not None and not 0 <= number <= 1:
            self.fail(path, N_("must be between 0 and 1"))
        return number if number is not None else 0.0

    def rule(self, value, path) -> RuleSpec:
        value = self.obj(value, path, ("code", "name", "target", "expression", "tolerance", "severity"))
        name_zh, name_en = self.bilingual(value.get("name"), f"{path}.name", blank=False, max_length=200)
        expression = self.text(value.get("expression", ""), f"{path}.expression", blank=False, max_length=500)
        if expression:
            try:
                parse_expression(expression)
            except ExpressionError as error:
                self.fail(f"{path}.expression", N_("is not a valid expression (%(error)s)"), error=str(error))
        tolerance = self.obj(value.get("tolerance", {}), f"{path}.tolerance", ("kind", "value"))
        amount = self.number(tolerance.get("value"), f"{path}.tolerance.value")
        if amount is not None and amount <= 0:
            self.fail(f"{path}.tolerance.value", N_("must be greater than zero"))
        return RuleSpec(
            code=self.code(value.get("code", ""), f"{path}.code"),
            name_zh=name_zh,
            name_en=name_en,
            target=self.code(value.get("target", ""), f"{path}.target"),
            expression=expression,
            tolerance_kind=self.choice(tolerance.get("kind"), f"{path}.tolerance.kind", TOLERANCE_KINDS),
            tolerance=amount or 0.0,
            severity=self.choice(value.get("severity"), f"{path}.severity", SEVERITIES),
        )

    def checks(self, value, path) -> CheckSeverities:
        value = self.obj(value, path, (), CHECKS)
        return CheckSeverities(**{
            name: self.choice(value[name], f"{path}.{name}", SEVERITIES)
            for name in CHECKS if name in value
        })

    def engine(self, value, path) -> EngineSettings:
        keys = ("availability_threshold", "imputation", "outlier_treatment", "outlier_skew", "outlier_kurtosis",
                "winsorise_max", "normalisation_range", "weighting", "reference_year", "uncertainty")
        value = self.obj(value, path, (), keys)
        defaults = EngineSettings()
        settings = {}
        if "availability_threshold" in value:
            settings["availability_threshold"] = self.share(value["availability_threshold"],
                                                            f"{path}.availability_threshold")
        if "imputation" in value:
            settings["imputation"] = self.choice(value["imputation"], f"{path}.imputation", IMPUTATIONS)
        if "outlier_treatment" in value:
            if not isinstance(value["outlier_treatment"], bool):
                self.fail(f"{path}.outlier_treatment", N_("must be true or false"))
            settings["outlier_treatment"] = value["outlier_treatment"] is True
        for key in ("outlier_skew", "outlier_kurtosis"):
            if key in value:
                settings[key] = self.number(value[key], f"{path}.{key}") or getattr(defaults, key)
        if "winsorise_max" in value:
            settings["winsorise_max"] = self.whole(value["winsorise_max"], f"{path}.winsorise_max",
                                                   minimum=0, maximum=100)
        if "normalisation_range" in value:
            bounds = value["normalisation_range"]
            allowed = [list(map(_number, pair)) for pair in NORMALISATION_RANGES]
            if bounds not in allowed:
                self.fail(f"{path}.normalisation_range", N_("must be one of %(choices)s"),
                          choices=", ".join(json.dumps(pair) for pair in allowed))
            else:
                settings["normalisation_range"] = (float(bounds[0]), float(bounds[1]))
        if "weighting" in value:
            settings["weighting"] = self.choice(value["weighting"], f"{path}.weighting", WEIGHTINGS)
        if value.get("reference_year") is not None:
            settings["reference_year"] = self.whole(value["reference_year"], f"{path}.reference_year",
                                                    minimum=2000, maximum=2100)
        if "uncertainty" in value:
            settings["uncertainty"] = self.uncertainty(value["uncertainty"], f"{path}.uncertainty")
        return EngineSettings(**settings)

    def uncertainty(self, value, path) -> UncertaintySettings:
        keys = ("samples", "seed", "weight_noise", "normalisations", "aggregations")
        value = self.obj(value, path, (), keys)
        settings = {}
        if "samples" in value:
            settings["samples"] = self.whole(value["samples"], f"{path}.samples", minimum=1, maximum=100_000)
        if "seed" in value:
            settings["seed"] = self.whole(value["seed"], f"{path}.seed", minimum=0, maximum=2**32 - 1)
        if "weight_noise" in value:
            settings["weight_noise"] = self.share(value["weight_noise"], f"{path}.weight_noise")
        for key, choices in (("normalisations", NORMALISATIONS), ("aggregations", AGGREGATIONS)):
            if key in value:
                methods = self.list(value, key) if isinstance(value, dict) else []
                if not methods:
                    self.fail(f"{path}.{key}", N_("must name at least one method"))
                settings[key] = tuple(self.choice(method, f"{path}.{key}[{index}]", choices)
                                      for index, method in enumerate(methods))
        return UncertaintySettings(**settings)

    def tree_item(self, value, path) -> NodeSpec | IndicatorSpec | None:
        if not isinstance(value, dict):
            self.fail(path, N_("must be an object"))
            return None
        kind = value.get("type")
        if kind == "node":
            return self.node(value, path)
        if kind == "indicator":
            return self.indicator(value, path)
        self.fail(f"{path}.type", N_("must be \"node\" or \"indicator\""))
        return None

    def node(self, value, path) -> NodeSpec:
        value = self.obj(value, path, ("type", "code", "name", "weight", "aggregation", "children"))
        name_zh, name_en = self.bilingual(value.get("name"), f"{path}.name", blank=False, max_length=200)
        aggregation = value.get("aggregation")
        if aggregation not in AGGREGATIONS:
            self.fail(f"{path}.aggregation", N_("must be one of %(choices)s"), choices=", ".join(AGGREGATIONS))
        children = value.get("children", [])
        if not isinstance(children, list):
            self.fail(f"{path}.children", N_("must be a list"))
            children = []
        items = [self.tree_item(child, f"{path}.children[{index}]") for index, child in enumerate(children)]
        return NodeSpec(
            code=self.code(value.get("code", ""), f"{path}.code"),
            name_zh=name_zh,
            name_en=name_en,
            weight=self.number(value.get("weight"), f"{path}.weight") or 0.0,
            aggregation=aggregation,
            children=tuple(item for item in items if item is not None),
        )

    def variable_fields(self, value, path) -> dict:
        name_zh, name_en = self.bilingual(value.get("name"), f"{path}.name", blank=False, max_length=200)
        unit_zh, unit_en = self.bilingual(value.get("unit"), f"{path}.unit", blank=False, max_length=50)
        definition_zh, definition_en = self.bilingual(
            value.get("definition", {"zh-hans": "", "en": ""}), f"{path}.definition", max_length=5000)
        decimals = value.get("decimals")
        if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= MAX_DECIMALS:
            self.fail(f"{path}.decimals", N_("must be a whole number from 0 to %(max)s"), max=MAX_DECIMALS)
            decimals = 0
        bounds_value = self.obj(value["bounds"], f"{path}.bounds", BOUND_FIELDS) if "bounds" in value else {}
        bounds = Bounds(**{name: self.number(bounds_value.get(name), f"{path}.bounds.{name}", nullable=True)
                           for name in BOUND_FIELDS})
        if not any(problem.path.startswith(f"{path}.bounds") for problem in self.problems):
            for problem in bounds_problems(**{name: getattr(bounds, name) for name in BOUND_FIELDS}):
                self.fail(f"{path}.bounds.{problem.path}", problem.message, **problem.params)
        return dict(
            code=self.code(value.get("code", ""), f"{path}.code"),
            name_zh=name_zh, name_en=name_en, unit_zh=unit_zh, unit_en=unit_en, decimals=decimals,
            definition_zh=definition_zh, definition_en=definition_en, bounds=bounds,
        )

    def variable(self, value, path) -> ContextVariableSpec:
        value = self.obj(value, path, ("code", "name", "unit", "decimals", "bounds"), ("definition",))
        return ContextVariableSpec(**self.variable_fields(value, path))

    def indicator(self, value, path) -> IndicatorSpec:
        value = self.obj(value, path, ("type", "code", "name", "weight", "direction", "unit", "decimals", "bounds",
                                       "normalisation"), ("definition",))
        direction = value.get("direction")
        if direction not in (1, -1) or isinstance(direction, bool):
            self.fail(f"{path}.direction", N_("must be 1 (higher is better) or -1 (lower is better)"))
        normalisation = self.obj(value["normalisation"], f"{path}.normalisation",
                                 ("method", "params", "log_transform")) if "normalisation" in value else {}
        method = normalisation.get("method")
        if method not in NORMALISATIONS:
            self.fail(f"{path}.normalisation.method", N_("must be one of %(choices)s"),
                      choices=", ".join(NORMALISATIONS))
        params = normalisation.get("params", {})
        if not isinstance(params, dict):
            self.fail(f"{path}.normalisation.params", N_("must be an object"))
            params = {}
        known_problems = len(self.problems)
        for key, param in params.items():
            self.number(param, f"{path}.normalisation.params.{key}")
        if method in NORMALISATIONS and len(self.problems) == known_problems:
            for problem in normalisation_problems(method, params):
                self.fail(f"{path}.normalisation.{problem.path}", problem.message, **problem.params)
        log_transform = normalisation.get("log_transform", False)
        if not isinstance(log_transform, bool):
            self.fail(f"{path}.normalisation.log_transform", N_("must be true or false"))
        return IndicatorSpec(
            **self.variable_fields(value, path),
            weight=self.number(value.get("weight"), f"{path}.weight") or 0.0,
            direction=direction if direction in (1, -1) else 1,
            normalisation=method,
            normalisation_params={key: float(param) for key, param in params.items() if _is_number(param)},
            log_transform=log_transform is True,
        )


# Comparing two versions.

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


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number(value: float | None) -> float | int | None:
    """Whole numbers print without a decimal point, so a document reads as it was written."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value
