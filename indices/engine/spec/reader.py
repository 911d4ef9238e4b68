"""Reading a JSON document into a MethodologySpec, field by field, collecting every problem on the way."""
from __future__ import annotations

import json

from indices.engine.expressions import ExpressionError, parse_expression
from indices.engine.settings import IMPUTATIONS, NORMALISATION_RANGES, WEIGHTINGS, EngineSettings, UncertaintySettings
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
    document_number,
    is_number,
)
from indices.engine.spec.problems import N_, Problem, bounds_problems, normalisation_problems


class DocumentReader:
    """Reads one document; each method returns its part (a placeholder when it is bad) and records
    in ``problems`` every field that is wrong, so that one pass names them all."""

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
        if not is_number(value):
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
            allowed = [list(map(document_number, pair)) for pair in NORMALISATION_RANGES]
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
            normalisation_params={key: float(param) for key, param in params.items() if is_number(param)},
            log_transform=log_transform is True,
        )
