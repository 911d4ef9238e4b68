"""Filters of the reader pages: method names in the active language, ranks and weights for display."""
from django import template

from indices.reports import formatting
from methodology.models import Aggregation, Direction, Normalisation

register = template.Library()


@register.filter
def aggregation_label(value: str) -> str:
    return Aggregation(value).label if value in Aggregation.values else value


@register.filter
def normalisation_label(value: str) -> str:
    return Normalisation(value).label if value in Normalisation.values else value


@register.filter
def direction_label(value: int) -> str:
    return Direction(value).label if value in Direction.values else str(value)


@register.filter
def percent(value, digits: int = 1) -> str:
    """A fraction as the reports' percent: 0.125 → "12.5%"."""
    return formatting.percent(None if value is None else float(value) * 100, int(digits))


@register.filter
def rank_band(row) -> str:
    """The 5th–95th percentile rank of a row or profile item, e.g. "3–7"."""
    low, high = getattr(row, "rank_p05", None), getattr(row, "rank_p95", None)
    if low is None or high is None:
        return "—"
    return f"{low:.0f}–{high:.0f}"


# The same number formats as the PDF reports: grouped digits, a real minus sign, a dash for no value.
register.filter("number", formatting.number)
register.filter("signed", formatting.signed)
register.filter("rank_change", formatting.rank_change)


@register.filter
def audit_flags(flags) -> str:
    """``{{ row.flags|audit_flags }}``: the audit's flags as words, not codes."""
    return ", ".join(formatting.audit_flag_label(flag) for flag in flags or ())
