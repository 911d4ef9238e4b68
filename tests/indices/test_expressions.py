"""Cross-field rule expressions: arithmetic over codes, parsed safely."""
import pytest

from indices.engine.expressions import ExpressionError, parse_expression


def test_it_evaluates_current_and_previous_values():
    per_resident = parse_expression("{M2.1} * 1e8 / ({POP} * 1e4)")
    growth = parse_expression("({M2.1} / prev({M2.1}) - 1) * 100")
    assert per_resident.current == ("M2.1", "POP")
    assert growth.previous == ("M2.1",)
    assert per_resident.evaluate({"M2.1": 8922.53, "POP": 3191.43}, {}) == pytest.approx(27957.9, rel=1e-5)
    assert growth.evaluate({"M2.1": 8922.53}, {"M2.1": 8118.77}) == pytest.approx(9.9, abs=0.001)


def test_a_missing_value_or_undefined_arithmetic_gives_none():
    growth = parse_expression("({M2.1} / prev({M2.1}) - 1) * 100")
    assert growth.evaluate({"M2.1": 100}, {}) is None
    assert growth.evaluate({"M2.1": 100}, {"M2.1": 0}) is None
    assert growth.evaluate({"M2.1": None}, {"M2.1": 5}) is None


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')",
    "{M2.1}.real",
    "M2",
    "abs({M2.1})",
    "[{M2.1}]",
    "{M2.1} if 1 else 2",
    "3 * 4",
    "{M2.1} +",
])
def test_it_refuses_anything_but_arithmetic_over_codes(text):
    with pytest.raises(ExpressionError):
        parse_expression(text)
