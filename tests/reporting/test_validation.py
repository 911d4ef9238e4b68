"""The one validation service: admission errors, graded checks, rules, completeness, unit slips."""
from decimal import Decimal

import pytest
from django.utils import translation

from indices.demo import demo_methodology_spec, demo_values
from indices.engine import spec as spec_module
from reporting import validation

D = Decimal


@pytest.fixture(scope="module")
def ccfi():
    return demo_methodology_spec()


@pytest.fixture(scope="module")
def years(ccfi):
    values = demo_values(methodology=ccfi)["500000"]
    return values[2023], values[2024]


def checks_of(findings, code=None):
    return {(finding.code, finding.check, finding.severity) for finding in findings
            if code is None or finding.code == code}


def test_valid_values_raise_nothing(ccfi, years):
    previous, current = years
    result = validation.validate(ccfi, raw={code: str(value) for code, value in current.items()}, stored={},
                                 previous=previous, for_submission=True)
    assert result.findings == []
    assert result.accepted["M2.1"] == D("8922.53")


def test_a_hard_bound_error_names_code_value_and_bound_in_chinese(ccfi):
    result = validation.validate(ccfi, raw={"M4.1": "35"}, stored={})
    (error,) = result.errors
    assert (error.code, error.check) == ("M4.1", "hard_bounds")
    with translation.override("zh-hans"):
        assert error.render() == "M4.1：35 高于可能的最大值 30 %，该数值未被接受。"
    with translation.override("en"):
        assert error.render() == "M4.1: 35 is above the highest possible value 30 %; the value was not accepted."
    assert "M4.1" not in result.accepted and result.rejected == {"M4.1"}


@pytest.mark.parametrize(("raw", "check"), [("abc", "type"), ("1.234", "decimals"), ("-1", "hard_bounds"),
                                            ("1e20", "type")])
def test_admission_errors(ccfi, raw, check):
    result = validation.validate(ccfi, raw={"M2.1": raw}, stored={})
    assert checks_of(result.findings) == {("M2.1", check, "error")}


def test_numbers_are_read_as_people_write_them(ccfi):
    result = validation.validate(ccfi, raw={"M2.1": "8,922.53", "M1.1": "８３", "M1.2": " 3 "}, stored={})
    assert result.accepted == {"M2.1": D("8922.53"), "M1.1": D(83), "M1.2": D(3)}


def test_a_blank_is_missing_never_zero(ccfi):
    result = validation.validate(ccfi, raw={"M2.1": "", "M1.1": None}, stored={"M2.1": D(5)})
    assert result.accepted == {"M2.1": None, "M1.1": None}
    assert checks_of(validation.missing(ccfi, result.values), "M2.1") == {("M2.1", "missing", "error")}


def test_soft_bounds_are_a_warning(ccfi):
    result = validation.validate(ccfi, raw={"M4.1": "5"}, stored={})
    (warning,) = result.findings
    assert (warning.check, warning.severity) == ("soft_bounds", "warning")
    assert result.codes_needing_explanation() == {"M4.1"}
    with translation.override("en"):
        assert warning.render() == "M4.1: 5 is above the usual maximum 4 %; explain it or correct it."


def test_year_on_year_change_beyond_tolerance_is_a_warning(ccfi, years):
    previous, _ = years
    grown = (previous["POP"] * D("1.07")).quantize(D("0.01"))
    result = validation.validate(ccfi, raw={"POP": str(grown)}, stored={}, previous=previous)
    assert checks_of(result.findings) == {("POP", "year_on_year", "warning")}
    with translation.override("en"):
        assert "+7.0 % from last year's approved value 3191.43 (more than ±5 %)" in result.findings[0].render()


def test_severities_come_from_the_methodology_version(small_document):
    small_document["checks"] = {"soft_bounds": "info", "year_on_year": "error"}
    methodology = spec_module.from_document(small_document)
    result = validation.validate(methodology, raw={"A.1": "600", "POP": "200"}, stored={},
                                 previous={"A.1": D(590), "POP": D(100)})
    assert checks_of(result.findings) == {("A.1", "soft_bounds", "info"), ("POP", "year_on_year", "error")}
    # A graded error is not an admission error: the value is stored, submission is blocked.
    assert result.accepted["POP"] == D(200)


def test_cross_field_rules_use_their_own_tolerance_and_severity(ccfi, years):
    previous, current = years
    stored = dict(current)
    per_resident = stored["M2.3"]
    result = validation.validate(ccfi, raw={"M2.3": str((per_resident * D("1.02")).quantize(D(1)))}, stored=stored,
                                 previous=previous)
    assert ("M2.3", "rule:R-M2.3", "warning") in checks_of(result.findings)
    with translation.override("en"):
        text = next(f for f in result.findings if f.check == "rule:R-M2.3").render()
    assert "Rule R-M2.3: Consumer loans per resident should equal" in text
    # Within 1 %: no finding.
    result = validation.validate(ccfi, raw={"M2.3": str(per_resident + 100)}, stored=stored, previous=previous)
    assert "rule:R-M2.3" not in {f.check for f in result.findings}


def test_growth_rule_reads_last_years_approved_value(ccfi, years):
    previous, current = years
    result = validation.validate(ccfi, raw={"M2.2": str(current["M2.2"] + D("0.6"))}, stored=current,
                                 previous=previous)
    assert ("M2.2", "rule:R-M2.2", "warning") in checks_of(result.findings)
    result = validation.validate(ccfi, raw={"M2.2": str(current["M2.2"] + D("0.4"))}, stored=current,
                                 previous=previous)
    assert ("M2.2", "rule:R-M2.2", "warning") not in checks_of(result.findings)


def test_rules_skip_when_an_input_is_missing(ccfi):
    result = validation.validate(ccfi, raw={"M2.3": "27958"}, stored={})
    assert not any(f.check.startswith("rule:") for f in result.findings)


@pytest.mark.parametrize(("factor", "slip_zh", "slip_en"), [(D(10) ** 8, "元", "yuan"),
                                                             (D(10) ** 4, "万元", "10 thousand yuan")])
def test_a_unit_slip_gets_a_specific_hint(ccfi, years, factor, slip_zh, slip_en):
    previous, _ = years
    value = previous["M2.1"] * factor * D("1.05")
    result = validation.validate(ccfi, raw={"M2.1": f"{value:.2f}"}, stored={}, previous=previous)
    hints = [f for f in result.findings if f.check == "unit_slip"]
    assert len(hints) == 1
    with translation.override("zh-hans"):
        assert f"是否误以{slip_zh}而非亿元填报" in hints[0].render()
    with translation.override("en"):
        assert f"was it entered in {slip_en} instead of 100 million yuan?" in hints[0].render()
    # The year-on-year message would only repeat it.
    assert "year_on_year" not in {f.check for f in result.findings}


def test_a_unit_slip_against_peers_when_there_is_no_last_year(ccfi):
    peers = {"POP": [D(1000), D(1200), D(900), D(3000)]}
    result = validation.validate(ccfi, raw={"POP": "2000"}, stored={}, peers=peers)
    assert {f.check for f in result.findings} == set()
    result = validation.validate(ccfi, raw={"BORROWERS": "4000000"}, stored={},
                                 peers={"BORROWERS": [D(300), D(400), D(500)]})
    assert "unit_slip" in {f.check for f in result.findings if f.code == "BORROWERS"}


def test_a_refused_value_still_gets_the_unit_hint(ccfi, years):
    previous, _ = years
    result = validation.validate(ccfi, raw={"M2.1": str(previous["M2.1"] * 10 ** 8)}, stored={}, previous=previous)
    assert checks_of(result.findings) == {("M2.1", "hard_bounds", "error"), ("M2.1", "unit_slip", "info")}


def test_completeness_lists_every_missing_value(ccfi, years):
    _, current = years
    partial = {code: value for code, value in current.items() if code not in ("M1.1", "POP")}
    result = validation.validate(ccfi, raw={}, stored=partial, for_submission=True)
    assert checks_of(result.findings) == {("M1.1", "missing", "error"), ("POP", "missing", "error")}


def test_observation_status_in_either_language():
    assert validation.admit_status("M1.1", "初步") == ("provisional", [])
    assert validation.admit_status("M1.1", "Estimated") == ("estimated", [])
    assert validation.admit_status("M1.1", "") == ("final", [])
    status, errors = validation.admit_status("M1.1", "guess")
    assert status is None and errors[0].check == "status"
