"""The methodology document parser, publish checks and diff (pure Python)."""
import dataclasses

import pytest

from indices.engine import spec


def test_it_parses_and_dumps_canonically(small_document):
    parsed = spec.from_document(small_document)
    assert [indicator.code for indicator in parsed.indicators()] == ["A.1", "A.2", "B.1"]
    assert spec.loads(spec.dumps(parsed)) == parsed
    assert spec.dumps(spec.loads(spec.dumps(parsed))) == spec.dumps(parsed)


def test_it_names_the_bad_field(small_document):
    small_document["tree"]["children"][0]["children"][1]["direction"] = 0
    small_document["tree"]["children"][1]["aggregation"] = "median"
    with pytest.raises(spec.DocumentError) as error:
        spec.from_document(small_document)
    paths = [problem.path for problem in error.value.problems]
    assert paths == ["tree.children[0].children[1].direction", "tree.children[1].aggregation"]


def test_it_rejects_unknown_and_missing_fields(small_document):
    small_document["tree"]["children"][0]["colour"] = "red"
    del small_document["context_variables"][0]["unit"]
    with pytest.raises(spec.DocumentError) as error:
        spec.from_document(small_document)
    assert {problem.path for problem in error.value.problems} == {
        "tree.children[0].colour", "context_variables[0].unit"}


def test_it_rejects_duplicate_codes_and_non_positive_weights(small_document):
    small_document["tree"]["children"][1]["children"][0]["code"] = "A.1"
    small_document["tree"]["children"][0]["weight"] = 0
    with pytest.raises(spec.DocumentError) as error:
        spec.from_document(small_document)
    rendered = str(error.value)
    assert "tree.children[0].weight" in rendered
    assert "tree.children[1].children[0].code: code A.1 is used twice" in rendered


def test_it_rejects_bounds_out_of_order(small_document):
    small_document["tree"]["children"][0]["children"][0]["bounds"]["soft_max"] = 2000
    with pytest.raises(spec.DocumentError) as error:
        spec.from_document(small_document)
    assert [problem.path for problem in error.value.problems] == ["tree.children[0].children[0].bounds.hard_max"]


def test_goalposts_need_both_posts(small_document):
    small_document["tree"]["children"][0]["children"][0]["normalisation"] = {
        "method": "goalposts", "params": {"lower": 10}, "log_transform": False}
    with pytest.raises(spec.DocumentError, match="goalposts needs the parameter upper"):
        spec.from_document(small_document)


def test_import_accepts_missing_bounds_that_publish_refuses(small_document):
    small_document["tree"]["children"][0]["children"][0]["bounds"]["hard_max"] = None
    parsed = spec.from_document(small_document)
    assert [problem.path for problem in spec.publish_problems(parsed)] == [
        "tree.children[0].children[0].bounds.hard_max"]


def test_it_rejects_text_that_is_not_json():
    with pytest.raises(spec.DocumentError, match="not valid JSON"):
        spec.loads("{")


def test_diff_reports_added_removed_and_changed(small_document):
    old = spec.from_document(small_document)
    group_a = old.root.children[0]
    changed_indicator = dataclasses.replace(
        group_a.children[0], weight=2.0, bounds=dataclasses.replace(group_a.children[0].bounds, hard_max=900.0))
    new_indicator = dataclasses.replace(group_a.children[1], code="A.3")
    new_root = dataclasses.replace(old.root, children=(
        dataclasses.replace(group_a, children=(changed_indicator, new_indicator)), old.root.children[1]))
    new = dataclasses.replace(old, root=new_root)

    changes = {(item.code, item.status): item for item in spec.diff(old, new)}
    assert set(changes) == {("A.1", "changed"), ("A.3", "added"), ("A.2", "removed")}
    assert {(change.field, change.old, change.new) for change in changes["A.1", "changed"].changes} == {
        ("weight", 1.0, 2.0), ("hard_max", 1000.0, 900.0)}


def test_rules_checks_and_engine_round_trip(small_document):
    small_document["rules"] = [{
        "code": "R1", "name": {"zh-hans": "甲乙之和", "en": "A.1 is twice B.1"}, "target": "A.1",
        "expression": "{B.1} * 2", "tolerance": {"kind": "absolute", "value": 0.5}, "severity": "error"}]
    small_document["checks"] = {"unit_slip": "info"}
    small_document["engine"] = {"imputation": "group_median", "normalisation_range": [1, 100],
                                "uncertainty": {"samples": 200, "aggregations": ["geometric"]}}
    parsed = spec.from_document(small_document)
    assert parsed.rules[0].tolerance == 0.5
    assert parsed.checks.unit_slip == "info"
    assert parsed.checks.soft_bounds == "warning"
    assert parsed.engine.normalisation_range == (1.0, 100.0)
    assert parsed.engine.uncertainty.samples == 200
    assert parsed.engine.uncertainty.aggregations == ("geometric",)
    assert spec.loads(spec.dumps(parsed)) == parsed


def test_bad_rules_and_settings_name_their_fields(small_document):
    small_document["rules"] = [
        {"code": "R1", "name": {"zh-hans": "规则", "en": "Rule"}, "target": "X.9", "expression": "{A.1} + {Q}",
         "tolerance": {"kind": "relative", "value": 0}, "severity": "fatal"},
        {"code": "R2", "name": {"zh-hans": "规则", "en": "Rule"}, "target": "A.1", "expression": "open('x')",
         "tolerance": {"kind": "ratio", "value": 1}, "severity": "info"},
    ]
    small_document["engine"] = {"imputation": "magic", "normalisation_range": [0, 10], "colour": "red"}
    with pytest.raises(spec.DocumentError) as error:
        spec.from_document(small_document)
    paths = {problem.path for problem in error.value.problems}
    assert paths == {
        "rules[0].tolerance.value", "rules[0].severity", "rules[0].target", "rules[0].expression",
        "rules[1].expression", "rules[1].tolerance.kind",
        "engine.imputation", "engine.normalisation_range", "engine.colour",
    }


def test_diff_reports_rule_and_setting_changes(small_document):
    old = spec.from_document(small_document)
    small_document["engine"] = {"weighting": "entropy"}
    small_document["checks"] = {"soft_bounds": "error"}
    new = spec.from_document(small_document)
    settings = next(item for item in spec.diff(old, new) if item.kind == "settings")
    assert {(change.field, change.old, change.new) for change in settings.changes} == {
        ("engine.weighting", "explicit", "entropy"), ("checks.soft_bounds", "warning", "error")}
