"""Arithmetic over reported values, for cross-field rules that are data of a methodology version.

An expression names values by code in braces and last year's approved values with prev():
``{M2.1} * 1e8 / ({POP} * 1e4)`` or ``({M2.1} / prev({M2.1}) - 1) * 100``. Only numbers,
+ − × ÷ and powers are allowed; it is parsed with ``ast`` and never passed to eval().
"""
from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass

_REFERENCE = re.compile(r"prev\(\s*\{([^{}]+)\}\s*\)|\{([^{}]+)\}")
_OPERATORS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos,
}


class ExpressionError(ValueError):
    pass


@dataclass(frozen=True)
class Expression:
    text: str
    current: tuple[str, ...]  # codes read from this year's return
    previous: tuple[str, ...]  # codes read from last year's approved return
    _tree: ast.Expression

    def evaluate(self, current: Mapping[str, float | None], previous: Mapping[str, float | None]) -> float | None:
        """The value, or None when a value it needs is missing or the arithmetic is undefined."""
        names = {f"_c{index}": current.get(code) for index, code in enumerate(self.current)}
        names |= {f"_p{index}": previous.get(code) for index, code in enumerate(self.previous)}
        if any(value is None for value in names.values()):
            return None
        try:
            result = _evaluate(self._tree.body, {name: float(value) for name, value in names.items()})
        except (ZeroDivisionError, OverflowError, ValueError):
            return None
        return result if math.isfinite(result) else None


def parse_expression(text: str) -> Expression:
    current: list[str] = []
    previous: list[str] = []

    def name_for(match: re.Match) -> str:
        previous_code, current_code = match.group(1), match.group(2)
        codes, prefix, code = (previous, "_p", previous_code) if previous_code else (current, "_c", current_code)
        code = code.strip()
        if code not in codes:
            codes.append(code)
        return f"{prefix}{codes.index(code)}"

    python = _REFERENCE.sub(name_for, text)
    try:
        tree = ast.parse(python, mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"not a valid expression: {text}") from error
    for node in ast.walk(tree):
        allowed = isinstance(node, ast.Expression | ast.BinOp | ast.UnaryOp | ast.Name | ast.Load) or (
            isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool)
        ) or type(node) in _OPERATORS
        if not allowed:
            raise ExpressionError(
                f"only numbers, {{CODE}}, prev({{CODE}}), + - * / ** and brackets are allowed: {text}")
        if isinstance(node, ast.Name) and not re.fullmatch(r"_[cp]\d+", node.id):
            raise ExpressionError(f"write codes in braces, e.g. {{M2.1}}: {text}")
    if not current and not previous:
        raise ExpressionError(f"the expression reads no value: {text}")
    return Expression(text=text, current=tuple(current), previous=tuple(previous), _tree=tree)


def _evaluate(node: ast.AST, names: dict[str, float]) -> float:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return names[node.id]
    if isinstance(node, ast.UnaryOp):
        return _OPERATORS[type(node.op)](_evaluate(node.operand, names))
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, names), _evaluate(node.right, names)
        if isinstance(node.op, ast.Pow) and abs(right) > 100:
            raise OverflowError("exponent too large")
        return _OPERATORS[type(node.op)](left, right)
    raise ExpressionError(f"unexpected {type(node).__name__}")
