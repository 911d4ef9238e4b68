"""The statistical audit: per-indicator statistics, correlations and Cronbach's alpha."""
import math

import numpy as np
import pytest

from indices.engine.compute import compute
from indices.engine.stats import cronbach_alpha, pairwise_covariance

from .builders import identity, matrix, methodology, node, units

NAN = math.nan


def run(tree, values, **engine):
    values = matrix(*values)
    return compute(methodology=methodology(tree, **engine), units=units(len(values)), values=values)


def test_indicator_statistics_and_flags():
    tree = node("I", identity("a"), identity("b"), identity("c"))
    values = [[3, 0, 1], [4, 0, 1], [5, 0, 1], [2, 0, 1], [3, 0, 1], [4, 5, 1], [5, 6, 1], [6, 7, 1], [4, NAN, 1],
              [7, NAN, 2]]
    result = run(tree, values, availability_threshold=0.5)
    a, b, c = result.audit.indicators
    assert round(a.skew, 6) == 0.359543 and round(a.kurtosis, 9) == -0.151799637  # Excel SKEW/KURT
    assert a.availability == 1.0 and b.availability == 0.8
    assert b.share_nonzero == 3 / 8 and "few_nonzero" in b.flags
    assert c.share_unique == 2 / 10 and "few_unique" in c.flags
    assert a.flags == () and "low_availability" not in b.flags
    strict = run(tree, values, availability_threshold=0.85)
    assert "low_availability" in strict.audit.indicators[1].flags and strict.diagnostics.excluded_indicators == ("b",)


def test_outliers_are_flagged_by_coinrs_rule():
    tree = node("I", identity("a"), identity("b"))
    values = [[value, value] for value in [*range(1, 11), 30, 100]]
    result = run(tree, values)
    assert "outliers" in result.audit.indicators[0].flags


def test_correlations_with_the_parent_and_within_the_group_are_flagged():
    tree = node("I", node("A", identity("a1"), identity("a2"), identity("a3")), node("B", identity("b1")))
    values = [[10, 11, 90, 5], [20, 19, 80, 6], [30, 32, 70, 4], [40, 41, 60, 8], [50, 48, 50, 7]]
    result = run(tree, values)
    group = next(group for group in result.audit.groups if group.code == "A")
    assert group.children == ("a1", "a2", "a3")
    assert group.correlations[0][1] > 0.9 and group.correlations[0][2] == pytest.approx(-1.0)
    flags = {(flag.first, flag.second, flag.kind, flag.scope) for flag in result.audit.flags}
    assert ("a1", "a2", "high", "group") in flags
    assert ("a1", "a3", "negative", "group") in flags
    assert ("a3", "A", "negative", "parent") in flags
    a1 = result.audit.indicators[0]
    assert a1.correlation_with_parent == pytest.approx(np.corrcoef(result.scores[:, 2], result.scores[:, 1])[0, 1])


def test_cronbach_alpha_as_coinr_computes_it():
    block = np.array([[1, 2], [2, 4], [3, 6]], dtype=float)
    # Covariances [[1, 2], [2, 4]]: alpha = k² × mean off-diagonal / sum = 4 × 2 / 9 = k/(k−1)(1 − Σvar/var(sum)).
    assert cronbach_alpha(block) == pytest.approx(8 / 9)


def test_covariances_are_pairwise_complete():
    block = np.array([[1, 2], [2, NAN], [3, 6], [4, 8]], dtype=float)
    covariance = pairwise_covariance(block)
    assert covariance[0, 0] == pytest.approx(np.var([1, 2, 3, 4], ddof=1))
    assert covariance[0, 1] == pytest.approx(np.cov([1, 3, 4], [2, 6, 8])[0, 1])


def test_the_audit_is_optional():
    tree = node("I", identity("a"))
    assert compute(methodology=methodology(tree), units=units(2), values=matrix([1], [2]), audit=False).audit is None
