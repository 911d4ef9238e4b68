"""What is wrong with a document or a version: problems with a path into the document and a message
template marked with ``N_`` for translation by the Django layer; the checks shared with the
Django models' clean() and those that stop a version from being published."""
from __future__ import annotations

from dataclasses import dataclass, field

from indices.engine.expressions import ExpressionError, parse_expression
from indices.engine.spec.model import (
    ContextVariableSpec,
    IndicatorSpec,
    MethodologySpec,
    NodeSpec,
    document_number,
    is_number,
)


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

# Checks shared with the Django models' clean().

def bounds_problems(**bounds: float | None) -> list[Problem]:
    """Bounds out of order (hard_min ≤ soft_min ≤ soft_max ≤ hard_max); the path is the field."""
    problems = []
    order = [name for name in ("hard_min", "soft_min", "soft_max", "hard_max") if bounds.get(name) is not None]
    for lower, upper in zip(order, order[1:], strict=False):
        if bounds[lower] > bounds[upper]:
            problems.append(Problem(upper, N_("must not be less than %(other)s (%(value)s)"),
                                    {"other": lower, "value": document_number(bounds[lower])}))
    tolerance = bounds.get("yoy_tolerance_pct")
    if tolerance is not None and tolerance <= 0:
        problems.append(Problem("yoy_tolerance_pct", N_("must be greater than zero")))
    return problems


def normalisation_problems(method: str, params: dict) -> list[Problem]:
    required = {"goalposts": ("lower", "upper"), "target": ("target",)}.get(method, ())
    problems = [Problem("params", N_("%(method)s needs the parameter %(name)s"), {"method": method, "name": name})
                for name in required if not is_number(params.get(name))]
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
