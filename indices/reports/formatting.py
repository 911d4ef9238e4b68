"""Numbers as a reader of each language expects them.

Chinese counts large amounts in 万 (10⁴) and 亿 (10⁸): 12,345 亿元 reads 1.23万亿元. English groups
thousands and names millions, billions and trillions: the same amount is CNY 1.23 trillion. Table
cells keep the indicator's own unit (given once in the header) and only group digits, so a column
never mixes scales.
"""
from __future__ import annotations

import math

from django.utils.translation import gettext as _

from ccfi_portal.i18n import is_chinese

DASH = "—"


def number(value: float | None, decimals: int = 1) -> str:
    """Grouped digits, fixed decimals, a real minus sign; a dash for no value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return DASH
    text = f"{abs(value):,.{decimals}f}"
    return f"−{text}" if value < 0 and float(text.replace(",", "")) != 0 else text


def score(value: float | None) -> str:
    return number(value, 1)


def signed(value: float | None, decimals: int = 1) -> str:
    """+2.5 / −1.0 / ±0.0"""
    if value is None:
        return DASH
    if round(value, decimals) == 0:
        return f"±{number(0.0, decimals)}"
    return f"+{number(value, decimals)}" if value > 0 else number(value, decimals)


def rank_change(change: int | None) -> str:
    """▲3 moved up three places, ▼2 down two, – unchanged or unknown."""
    if change is None:
        return DASH
    if change > 0:
        return f"▲{change}"
    if change < 0:
        return f"▼{-change}"
    return "="


def percent(value: float | None, decimals: int = 1) -> str:
    return DASH if value is None else f"{number(value, decimals)}%"


def _zh_scaled(value: float, decimals: int) -> tuple[str, str]:
    """A plain number in 万/亿 steps: (digits, prefix of the unit)."""
    magnitude = abs(value)
    if magnitude >= 1e12:
        return number(value / 1e12, decimals), "万亿"
    if magnitude >= 1e8:
        return number(value / 1e8, decimals), "亿"
    if magnitude >= 1e4:
        return number(value / 1e4, decimals), "万"
    return number(value, decimals), ""


def _en_scaled(value: float, decimals: int) -> tuple[str, str]:
    magnitude = abs(value)
    if magnitude >= 1e12:
        return number(value / 1e12, decimals), " trillion"
    if magnitude >= 1e9:
        return number(value / 1e9, decimals), " billion"
    if magnitude >= 1e6:
        return number(value / 1e6, decimals), " million"
    return number(value, decimals), ""


# Units whose Chinese form carries a scale: the multiplier to plain units, and the plain unit.
_SCALED_UNITS = {
    "亿元": (1e8, "元", "CNY"),
    "万元": (1e4, "元", "CNY"),
    "元": (1.0, "元", "CNY"),
    "万人": (1e4, "人", "persons"),
    "万户": (1e4, "户", "merchants"),
}

# Quantities whose sum over the cities means something (shown as national totals).
SUMMABLE_UNITS = frozenset({"亿元", "万元", "万人"})


def amount(value: float | None, *, unit_zh: str, unit_en: str, language: str, decimals: int = 2) -> str:
    """A quantity for running text: 4.72万亿元 / CNY 4.72 trillion; 2,487.45万人 / 24.87 million persons.

    Units without a scale (%, 件, 每万人, ...) are written as the number followed by the unit.
    """
    if value is None:
        return DASH
    scaled = _SCALED_UNITS.get(unit_zh)
    if scaled is None:
        unit = unit_zh if is_chinese(language) else unit_en
        separator = "" if is_chinese(language) or unit.startswith("%") else " "
        return f"{number(value, decimals)}{separator}{unit}"
    multiplier, plain_zh, plain_en = scaled
    plain = value * multiplier
    if is_chinese(language):
        digits, prefix = _zh_scaled(plain, decimals)
        return f"{digits}{prefix}{plain_zh}"
    digits, suffix = _en_scaled(plain, decimals)
    if plain_en == "CNY":
        return f"CNY {digits}{suffix}"
    return f"{digits}{suffix} {plain_en}"


def audit_flag_label(flag: str) -> str:
    """A statistical audit's flag (few_unique, outliers...) in the active language; an unknown one as it is."""
    return {"low_availability": _("low availability"), "outliers": _("outliers"),
            "few_nonzero": _("few non-zero values"), "few_unique": _("few distinct values")}.get(flag, flag)
