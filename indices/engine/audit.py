"""Statistical audit of a run (COINr's get_stats(), get_corr(), get_corr_flags() and get_cronbach()).

Distribution statistics are taken on the data as reported (kept units, before imputation and
treatment), so they describe the data, not the engine's repairs. Correlations and Cronbach's alpha
are taken on the scores (normalised indicators, aggregated nodes), direction already applied, so a
negative correlation means two components pull the index in opposite directions.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from indices.engine.pipeline import Prepared
from indices.engine.results import Audit, CorrelationFlag, GroupAudit, IndicatorAudit
from indices.engine.stats import correlation_matrix, cronbach_alpha, distinct_counts, skew_kurtosis

HIGH_CORRELATION = 0.9
FEW_NONZERO = 0.5  # COINr get_stats(): share of non-zero values below this is flagged
FEW_UNIQUE = 0.5  # COINr get_stats(): share of unique values below this is flagged


def audit(prepared: Prepared, *, raw: np.ndarray, scores: np.ndarray) -> Audit:
    """``raw``: kept units × indicators as reported; ``scores``: kept units × items."""
    plan, settings = prepared.plan, prepared.settings
    parent_correlation = np.full(plan.size, np.nan)
    flags: list[CorrelationFlag] = []
    groups = []
    for node in sorted(plan.nodes):
        if not prepared.retained[node]:
            continue
        children = [child for child in plan.children[node] if prepared.retained[child]]
        # One matrix per node: its children and itself, for sibling and child-parent correlations.
        correlations = correlation_matrix(scores[:, [*children, node]])
        for i, child in enumerate(children):
            parent_correlation[child] = correlations[i, -1]
            flags += _flags(plan.codes[child], plan.codes[node], float(correlations[i, -1]), "parent")
            for j in range(i + 1, len(children)):
                flags += _flags(plan.codes[child], plan.codes[children[j]], float(correlations[i, j]), "group")
        groups.append(GroupAudit(
            code=plan.codes[node],
            children=tuple(plan.codes[child] for child in children),
            cronbach_alpha=cronbach_alpha(scores[:, children]),
            correlations=tuple(tuple(float(value) for value in row[:-1]) for row in correlations[:-1]),
            correlation_with_parent=float("nan"),
        ))
    groups = [replace(group, correlation_with_parent=float(parent_correlation[plan.codes.index(group.code)]))
              for group in groups]

    skews, kurtoses = skew_kurtosis(raw)
    distinct = distinct_counts(raw)
    nonzero = (raw != 0) & ~np.isnan(raw)
    reported = (~np.isnan(raw)).sum(axis=0)
    item_of_column = plan.item_of_column()
    indicators = []
    for column, indicator in enumerate(plan.indicators):
        availability = float(prepared.screening.indicator_availability[column])
        skew, kurtosis = float(skews[column]), float(kurtoses[column])
        count = reported[column]
        share_nonzero = float(nonzero[:, column].sum() / count) if count else float("nan")
        share_unique = float(distinct[column] / count) if count else float("nan")
        checks = {
            "low_availability": availability < settings.availability_threshold,
            "outliers": abs(skew) >= settings.outlier_skew and kurtosis >= settings.outlier_kurtosis,
            "few_nonzero": share_nonzero < FEW_NONZERO,
            "few_unique": share_unique < FEW_UNIQUE,
        }
        indicators.append(IndicatorAudit(
            code=indicator.code, availability=availability, skew=skew, kurtosis=kurtosis,
            share_nonzero=share_nonzero, share_unique=share_unique,
            correlation_with_parent=float(parent_correlation[item_of_column[column]]),
            flags=tuple(name for name, failed in checks.items() if failed),
        ))
    return Audit(indicators=tuple(indicators), groups=tuple(groups), flags=tuple(flags))


def _flags(first: str, second: str, correlation: float, scope: str) -> list[CorrelationFlag]:
    if correlation > HIGH_CORRELATION:
        return [CorrelationFlag(first, second, correlation, "high", scope)]
    if correlation < 0:
        return [CorrelationFlag(first, second, correlation, "negative", scope)]
    return []
