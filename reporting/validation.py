"""The one validation service for reported values: the form, the import and the API all call it.

Pure functions over a methodology (``MethodologySpec``), the values being entered, last year's
approved values and the other cities' values for the period. Nothing here reads the database.

Two stages:
- *admission* (``admit_value``): type, decimal places and hard bounds. A failure is an **error**
  and the value is not stored.
- *assessment* (``assess``): soft bounds, year-on-year change, unit-scale slips and the version's
  cross-field rules, each graded by the methodology version (error, warning or info). A warning
  needs a written explanation before the return can be submitted. At submission every value must
  also be present.

Messages are untranslated templates with parameters (``Finding.message``/``params``) so that they
can be stored and shown later in the reader's language; ``Finding.render()`` translates them.
"""
from __future__ import annotations

import statistics
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

from ccfi_portal.i18n import is_chinese
from indices.engine.expressions import Expression, ExpressionError, parse_expression
from indices.engine.spec import ContextVariableSpec, MethodologySpec
from methodology.models import Severity

CHECK_TYPE = "type"
CHECK_DECIMALS = "decimals"
CHECK_HARD_BOUNDS = "hard_bounds"
CHECK_MISSING = "missing"
CHECK_STATUS = "status"
CHECK_TEXT = "text"
CHECK_SOFT_BOUNDS = "soft_bounds"
CHECK_YEAR_ON_YEAR = "year_on_year"
CHECK_UNIT_SLIP = "unit_slip"
RULE_PREFIX = "rule:"

# What the database column holds (24 digits, 8 after the point): a value must have at most 16 digits
# before the point and 8 after it, whatever its indicator allows.
MAX_INTEGER_DIGITS = 16
MAX_DECIMAL_PLACES = 8

# The free texts of a value and the characters each may hold (source_note is a 500-character column).
TEXT_LIMITS = {"source_note": 500, "explanation": 4000}
FIELD_NAMES = {
    "observation_status": ("观测状态", "observation status"),
    "source_note": ("数据来源", "source"), "explanation": ("情况说明", "explanation"),
}
# Line breaks and tabs are text; every other control character (NUL among them) and lone surrogates are refused.
ALLOWED_CONTROLS = frozenset("\t\n\r")

OBSERVATION_STATUSES = ("final", "provisional", "estimated")
# Older or looser words people type in a spreadsheet's status column; the codes and the form's own labels
# (ObservationStatus, both languages) are added by observation_status_code.
STATUS_ALIASES = {
    "正式": "final", "最终": "final", "初步": "provisional", "初值": "provisional", "暂定": "provisional",
    "估计": "estimated", "估算": "estimated", "推算": "estimated",
}

# Unit-scale slips: for a unit, the factor by which a slipped value is too large and the unit the
# filer probably typed it in. Values too small by the factor were typed in the larger unit.
SLIP_UNITS: dict[str, dict[int, tuple[str, str]]] = {
    "亿元": {10 ** 4: ("万元", "10 thousand yuan"), 10 ** 8: ("元", "yuan")},
    "万元": {10 ** 4: ("元", "yuan")},
    "万人": {10 ** 4: ("人", "persons")},
    "万户": {10 ** 4: ("户", "merchants")},
}
SLIP_UNITS_TOO_SMALL: dict[str, dict[int, tuple[str, str]]] = {
    "元/人": {10 ** 4: ("万元/人", "10 thousand yuan per person")},
    "元": {10 ** 4: ("万元", "10 thousand yuan"), 10 ** 8: ("亿元", "100 million yuan")},
}
SLIP_FACTORS = (10 ** 8, 10 ** 4)
# How far from the exact power of ten a ratio may be and still look like a slip (a factor of 3
# either way: real growth of 300 % or a fall of 67 % in one year is itself flagged as a change).
SLIP_SPREAD = 3
# Peers' median is used as the reference when there is no last year's value and this many peers.
MIN_PEERS_FOR_SLIP = 3


def lang_text(zh: str, en: str) -> dict[str, str]:
    """A parameter shown in the reader's language."""
    return {"zh-hans": zh, "en": en}


def render_message(message: str, params: Mapping | None = None) -> str:
    """A stored message template in the active language."""
    language = "zh-hans" if is_chinese() else "en"
    resolved = {
        key: (value.get(language) or value.get("en", "")) if isinstance(value, dict) else value
        for key, value in (params or {}).items()
    }
    text = gettext(message)
    return text % resolved if resolved else text


@dataclass(frozen=True)
class Finding:
    code: str
    check: str
    severity: str
    message: str
    params: dict = field(default_factory=dict)

    def render(self) -> str:
        return render_message(self.message, self.params)

    @property
    def needs_explanation(self) -> bool:
        return self.severity == Severity.WARNING


@dataclass
class ValidationResult:
    accepted: dict[str, Decimal | None]  # admitted values from the input, by code
    values: dict[str, Decimal | None]  # stored values with the admitted ones applied
    findings: list[Finding]

    @property
    def rejected(self) -> set[str]:
        return {finding.code for finding in self.findings if finding.severity == Severity.ERROR
                and finding.check in (CHECK_TYPE, CHECK_DECIMALS, CHECK_HARD_BOUNDS, CHECK_STATUS, CHECK_TEXT)}

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == Severity.ERROR]

    def for_code(self, code: str) -> list[Finding]:
        return [finding for finding in self.findings if finding.code == code]

    def codes_needing_explanation(self) -> set[str]:
        return {finding.code for finding in self.findings if finding.needs_explanation}


def variables(spec: MethodologySpec) -> dict[str, ContextVariableSpec]:
    """Every value a return holds, in form order: the scored indicators, then the context variables."""
    return {item.code: item for item in (*spec.indicators(), *spec.context_variables)}


def number_text(value: Decimal | float | int | None) -> str:
    """A number as people write it: no exponent, no trailing zeros after the point. A number no column
    holds (only ever in a refusal's message) keeps its short exponent form: 1E+1000000, not a million digits."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        value = Decimal(repr(value))
    value = Decimal(value)
    if value.is_zero():
        return "0"
    if not -40 < value.adjusted() < 40:
        return str(value)
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _unit(variable: ContextVariableSpec) -> dict[str, str]:
    return lang_text(variable.unit_zh, variable.unit_en)


# Admission: what blocks a value from being stored.

def parse_number(raw: object) -> Decimal | None:
    """The number in what a user typed or a spreadsheet holds; None when blank.

    Accepts full-width digits and thousands separators (1,234.5 / 1 234.5); raises ValueError
    for anything else, including text such as "n/a" (a missing value is a blank, never a zero).
    The number is exact and unbounded (1e1000000 parses); ``admit_value`` judges its size without
    any arithmetic that could overflow.
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, Decimal):
        number = raw
    elif isinstance(raw, int | float):
        number = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip()
        if not text:
            return None
        for separator in (",", " ", "\u00a0", "'", "_"):
            text = text.replace(separator, "")
        try:
            number = Decimal(text)
        except InvalidOperation as error:
            raise ValueError(raw) from error
    if not number.is_finite():
        raise ValueError(raw)
    return number


def decimal_places(value: Decimal) -> int:
    """Significant places after the point, read from the digits (no context: 1E-2000000 has 2000000)."""
    _sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or not any(digits):
        return 0
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing_zeros))


def shown(raw: object, size: int = 50) -> str:
    """What someone entered, for a message: control characters written as U+XXXX, cut to ``size``."""
    text = str(raw)
    short = "".join(f"U+{ord(char):04X}" if unicodedata.category(char) in ("Cc", "Cs") else char
                    for char in text[:size])
    return short + "…" if len(text) > size else short


def control_character(text: str) -> str | None:
    """The first character a text may not hold (NUL, other control characters, lone surrogates), as U+XXXX."""
    for char in text:
        if char not in ALLOWED_CONTROLS and unicodedata.category(char) in ("Cc", "Cs"):
            return f"U+{ord(char):04X}"
    return None


def normal_text(raw: object) -> str:
    """A text as stored: one kind of line break (a spreadsheet keeps no CR), no surrounding spaces."""
    return str(raw or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _field(name: str) -> dict[str, str]:
    return lang_text(*FIELD_NAMES[name])


def admit_text(code: str, name: str, raw: object) -> tuple[str | None, list[Finding]]:
    """A source note or explanation as stored, or the error refusing it: control characters and texts
    over the field's limit are refused whole, never cleaned or cut."""
    text = normal_text(raw)
    char = control_character(text)
    if char:
        return None, [Finding(code, CHECK_TEXT, Severity.ERROR,
                              N_("%(code)s: the %(field)s contains a control character (%(char)s), which is not "
                                 "accepted."), {"code": shown(code, 30), "field": _field(name), "char": char})]
    if len(text) > TEXT_LIMITS[name]:
        return None, [Finding(code, CHECK_TEXT, Severity.ERROR,
                              N_("%(code)s: the %(field)s has %(length)s characters; at most %(max)s are accepted."),
                              {"code": shown(code, 30), "field": _field(name), "length": len(text),
                               "max": TEXT_LIMITS[name]})]
    return text, []


def admit_value(variable: ContextVariableSpec, raw: object) -> tuple[Decimal | None, list[Finding]]:
    """Type, decimal places and hard bounds: the value to store, or the errors that refuse it."""
    code = variable.code
    try:
        value = parse_number(raw)
    except ValueError:
        return None, [Finding(code, CHECK_TYPE, Severity.ERROR, N_("%(code)s: “%(raw)s” is not a number."),
                              {"code": code, "raw": shown(raw)})]
    if value is None:
        return None, []
    # Size and places from the digits and the exponent alone: abs() or normalize() of 1E+1000000 overflows.
    if not value.is_zero() and value.adjusted() >= MAX_INTEGER_DIGITS:
        return None, [Finding(code, CHECK_TYPE, Severity.ERROR,
                              N_("%(code)s: %(value)s is too large to be a reported value (at most %(digits)s digits "
                                 "before the point)."),
                              {"code": code, "value": shown(number_text(value), 30), "digits": MAX_INTEGER_DIGITS})]
    places, allowed = decimal_places(value), min(variable.decimals, MAX_DECIMAL_PLACES)
    if places > allowed:
        return None, [Finding(
            code, CHECK_DECIMALS, Severity.ERROR,
            N_("%(code)s: %(value)s has %(places)s decimal places; at most %(max)s are allowed."),
            {"code": code, "value": shown(number_text(value), 30), "places": places, "max": allowed})]
    if value.is_zero():
        value = Decimal(0)  # 0E-2000000 is zero; store it without its exponent
    findings = []
    bounds = variable.bounds
    if bounds.hard_min is not None and value < Decimal(repr(bounds.hard_min)):
        findings.append(Finding(
            code, CHECK_HARD_BOUNDS, Severity.ERROR,
            N_("%(code)s: %(value)s is below the lowest possible value %(bound)s %(unit)s; the value was not "
               "accepted."),
            {"code": code, "value": number_text(value), "bound": number_text(bounds.hard_min),
             "unit": _unit(variable)}))
    if bounds.hard_max is not None and value > Decimal(repr(bounds.hard_max)):
        findings.append(Finding(
            code, CHECK_HARD_BOUNDS, Severity.ERROR,
            N_("%(code)s: %(value)s is above the highest possible value %(bound)s %(unit)s; the value was not "
               "accepted."),
            {"code": code, "value": number_text(value), "bound": number_text(bounds.hard_max),
             "unit": _unit(variable)}))
    return (None if findings else value), findings


@lru_cache(maxsize=1)
def _status_words() -> dict[str, str]:
    from django.utils import translation

    from reporting.models import ObservationStatus  # lazy: the models module imports this one

    words = dict(STATUS_ALIASES)
    for language in ("zh-hans", "en"):
        with translation.override(language):
            words |= {str(label).lower(): value for value, label in ObservationStatus.choices}
    return words | {value: value for value in OBSERVATION_STATUSES}


def observation_status_code(raw: object) -> str | None:
    """The status code for what someone wrote: the code, the form's label in either language (终值, Provisional)
    or an older word (初步); case and surrounding spaces do not matter. None when it is no status."""
    text = unicodedata.normalize("NFKC", str(raw or "")).strip().lower()
    return _status_words().get(text)


def observation_status_label(code: str) -> str:
    """The form's label of a status code in the active language; an unknown code is shown as it is."""
    from reporting.models import ObservationStatus  # lazy: the models module imports this one

    try:
        return str(ObservationStatus(code).label)
    except ValueError:
        return code


def admit_status(code: str, raw: object) -> tuple[str | None, list[Finding]]:
    """An observation status from a form or a spreadsheet cell (either language); blank means final."""
    char = control_character(str(raw or ""))
    if char:
        return None, [Finding(code, CHECK_STATUS, Severity.ERROR,
                              N_("%(code)s: the %(field)s contains a control character (%(char)s), which is not "
                                 "accepted."), {"code": shown(code, 30), "field": _field("observation_status"),
                                                "char": char})]
    if not unicodedata.normalize("NFKC", str(raw or "")).strip():
        return "final", []
    status = observation_status_code(raw)
    if status is None:
        return None, [Finding(code, CHECK_STATUS, Severity.ERROR,
                              N_("%(code)s: “%(raw)s” is not an observation status (final, provisional or "
                                 "estimated)."), {"code": shown(code, 30), "raw": shown(raw, 30)})]
    return status, []


# Assessment: what a stored value still needs (an explanation, a look, a correction).

@lru_cache(maxsize=256)
def _expression(text: str) -> Expression | None:
    try:
        return parse_expression(text)
    except ExpressionError:
        return None


def _float_values(values: Mapping[str, Decimal | None]) -> dict[str, float | None]:
    return {code: (float(value) if value is not None else None) for code, value in values.items()}


def _median(values: Sequence[Decimal]) -> Decimal | None:
    usable = [value for value in values if value is not None]
    return statistics.median(usable) if usable else None


def unit_slip(variable: ContextVariableSpec, value: Decimal, *, previous: Decimal | None,
              peers: Sequence[Decimal] = ()) -> Finding | None:
    """A value about 10⁴ or 10⁸ times (or 1/10⁴, 1/10⁸ of) last year's or its peers' median."""
    reference, reference_kind = previous, lang_text("上年审核值", "last year's approved value")
    if not reference:
        positive = [peer for peer in peers if peer is not None and peer > 0]
        if len(positive) < MIN_PEERS_FOR_SLIP:
            return None
        reference, reference_kind = _median(positive), lang_text("其他城市中位数", "the other cities' median")
    if not reference or reference <= 0 or value <= 0:
        return None
    ratio = value / reference
    for factor in SLIP_FACTORS:
        for too_large in (True, False):
            scaled = ratio / factor if too_large else ratio * factor
            if Decimal(1) / SLIP_SPREAD <= scaled <= SLIP_SPREAD:
                return _slip_finding(variable, value, reference, reference_kind, factor, too_large)
    if variable.unit_zh == "%" and Decimal(1) / SLIP_SPREAD <= ratio * 100 <= SLIP_SPREAD:
        return Finding(variable.code, CHECK_UNIT_SLIP, Severity.WARNING,
                       N_("%(code)s: %(value)s is about 1/100 of %(reference_kind)s (%(reference)s); was it entered "
                          "as a fraction instead of a percentage (e.g. 0.05 instead of 5)?"),
                       {"code": variable.code, "value": number_text(value), "reference": number_text(reference),
                        "reference_kind": reference_kind})
    return None


def _slip_finding(variable, value, reference, reference_kind, factor, too_large) -> Finding:
    exponent = "⁴" if factor == 10 ** 4 else "⁸"
    params = {"code": variable.code, "value": number_text(value), "reference": number_text(reference),
              "reference_kind": reference_kind, "unit": _unit(variable),
              "factor": f"10{exponent}" if too_large else f"1/10{exponent}"}
    table = SLIP_UNITS if too_large else SLIP_UNITS_TOO_SMALL
    slipped = table.get(variable.unit_zh, {}).get(factor)
    if slipped:
        params["slip_unit"] = lang_text(*slipped)
        message = N_("%(code)s: %(value)s is about %(factor)s times %(reference_kind)s (%(reference)s); was it "
                     "entered in %(slip_unit)s instead of %(unit)s?")
    else:
        message = N_("%(code)s: %(value)s is about %(factor)s times %(reference_kind)s (%(reference)s); check the "
                     "unit: the value must be in %(unit)s.")
    return Finding(variable.code, CHECK_UNIT_SLIP, Severity.WARNING, message, params)


def assess_refused(variable: ContextVariableSpec, raw: object, *, previous: Decimal | None,
                   peers: Sequence[Decimal] = ()) -> Finding | None:
    """The unit-slip hint for a value refused at its hard bounds: "entered in 元 instead of 亿元?"."""
    try:
        value = parse_number(raw)
    except ValueError:
        return None
    if value is None or value.is_zero() or value.adjusted() >= MAX_INTEGER_DIGITS \
            or decimal_places(value) > MAX_DECIMAL_PLACES:
        return None  # no column holds it: no ratio to compute (it could overflow)
    finding = unit_slip(variable, value, previous=previous, peers=peers)
    # Shown next to the error, graded as information: the error already blocks the value.
    return Finding(finding.code, finding.check, Severity.INFO, finding.message, finding.params) if finding else None


def assess(spec: MethodologySpec, values: Mapping[str, Decimal | None], *,
           previous: Mapping[str, Decimal | None] | None = None,
           peers: Mapping[str, Sequence[Decimal]] | None = None,
           codes: Iterable[str] | None = None) -> list[Finding]:
    """Soft bounds, year-on-year change, unit slips and cross-field rules for stored values.

    ``codes`` limits the single-value checks to some values (the rules always see all of them).
    """
    previous = previous or {}
    peers = peers or {}
    checks = spec.checks
    all_variables = variables(spec)
    selected = set(all_variables if codes is None else codes)
    findings: list[Finding] = []
    for code, variable in all_variables.items():
        value = values.get(code)
        if code not in selected or value is None:
            continue
        bounds = variable.bounds
        last = previous.get(code)
        slip = unit_slip(variable, value, previous=last, peers=peers.get(code, ()))
        if slip is not None:
            findings.append(Finding(code, slip.check, checks.unit_slip, slip.message, slip.params))
        if bounds.soft_min is not None and value < Decimal(repr(bounds.soft_min)):
            findings.append(Finding(
                code, CHECK_SOFT_BOUNDS, checks.soft_bounds,
                N_("%(code)s: %(value)s is below the usual minimum %(bound)s %(unit)s; explain it or correct it."),
                {"code": code, "value": number_text(value), "bound": number_text(bounds.soft_min),
                 "unit": _unit(variable)}))
        if bounds.soft_max is not None and value > Decimal(repr(bounds.soft_max)):
            findings.append(Finding(
                code, CHECK_SOFT_BOUNDS, checks.soft_bounds,
                N_("%(code)s: %(value)s is above the usual maximum %(bound)s %(unit)s; explain it or correct it."),
                {"code": code, "value": number_text(value), "bound": number_text(bounds.soft_max),
                 "unit": _unit(variable)}))
        if slip is None and bounds.yoy_tolerance_pct is not None and last:
            change = (value / last - 1) * 100
            if abs(change) > Decimal(repr(bounds.yoy_tolerance_pct)):
                findings.append(Finding(
                    code, CHECK_YEAR_ON_YEAR, checks.year_on_year,
                    N_("%(code)s: %(value)s is %(change)s %% from last year's approved value %(previous)s (more "
                       "than ±%(tolerance)s %%); explain the change or correct it."),
                    {"code": code, "value": number_text(value), "previous": number_text(last),
                     "change": f"{change:+.1f}", "tolerance": number_text(bounds.yoy_tolerance_pct)}))
    findings.extend(_rule_findings(spec, values, previous, all_variables, selected))
    order = {code: index for index, code in enumerate(all_variables)}
    findings.sort(key=lambda finding: order.get(finding.code, len(order)))
    return findings


def _rule_findings(spec, values, previous, all_variables, selected) -> list[Finding]:
    findings = []
    current_floats, previous_floats = _float_values(values), _float_values(previous)
    for rule in spec.rules:
        target = values.get(rule.target)
        expression = _expression(rule.expression)
        if target is None or expression is None or rule.target not in selected:
            continue
        expected = expression.evaluate(current_floats, previous_floats)
        if expected is None:
            continue  # a value it needs is missing: completeness reports that at submission
        gap = abs(float(target) - expected)
        allowed = rule.tolerance * abs(expected) if rule.tolerance_kind == "relative" else rule.tolerance
        if gap <= allowed + 1e-9:
            continue
        variable = all_variables.get(rule.target)
        places = (variable.decimals if variable else 2) + 1
        findings.append(Finding(
            rule.target, f"{RULE_PREFIX}{rule.code}", rule.severity,
            N_("%(code)s: %(value)s does not agree with the expected %(expected)s. Rule %(rule_code)s: %(rule)s."),
            {"code": rule.target, "value": number_text(target),
             "expected": number_text(round(Decimal(expected), places)),
             "rule_code": rule.code, "rule": lang_text(rule.name_zh, rule.name_en)}))
    return findings


def missing(spec: MethodologySpec, values: Mapping[str, Decimal | None]) -> list[Finding]:
    """Completeness at submission: every indicator and context variable has a value."""
    return [Finding(code, CHECK_MISSING, Severity.ERROR, N_("%(code)s is missing; every value is needed to submit."),
                    {"code": code})
            for code in variables(spec) if values.get(code) is None]


def validate(spec: MethodologySpec, *, raw: Mapping[str, object], stored: Mapping[str, Decimal | None],
             previous: Mapping[str, Decimal | None] | None = None,
             peers: Mapping[str, Sequence[Decimal]] | None = None,
             for_submission: bool = False) -> ValidationResult:
    """Admit what was entered, merge it into the stored values, then assess the whole return.

    ``raw`` holds only the values being entered (form fields or spreadsheet cells, as typed);
    a refused value leaves the stored one in place. The single-value checks cover the entered
    values, or all values at submission; the rules always see the whole return.
    """
    all_variables = variables(spec)
    accepted: dict[str, Decimal | None] = {}
    findings: list[Finding] = []
    for code, raw_value in raw.items():
        variable = all_variables.get(code)
        if variable is None:
            findings.append(Finding(code, CHECK_TYPE, Severity.ERROR,
                                    N_("%(code)s is not an indicator or context variable of this methodology."),
                                    {"code": shown(code, 30)}))
            continue
        value, errors = admit_value(variable, raw_value)
        if errors:
            findings.extend(errors)
            hint = assess_refused(variable, raw_value, previous=(previous or {}).get(code),
                                  peers=(peers or {}).get(code, ()))
            if hint is not None:
                findings.append(hint)
        else:
            accepted[code] = value
    merged = {code: stored.get(code) for code in all_variables}
    merged.update(accepted)
    findings.extend(assess(spec, merged, previous=previous, peers=peers,
                           codes=None if for_submission else accepted.keys()))
    if for_submission:
        findings.extend(missing(spec, merged))
    return ValidationResult(accepted=accepted, values=merged, findings=findings)
