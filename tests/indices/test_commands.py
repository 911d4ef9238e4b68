"""export_methodology and import_methodology: the JSON round trip and clear refusals."""
import json

import pytest
from django.core.management import CommandError, call_command

from methodology.models import Indicator, MethodologyVersion

pytestmark = pytest.mark.django_db


def _export(tmp_path, name: str, code="TEST", version="1.0") -> bytes:
    path = tmp_path / name
    call_command("export_methodology", code, version, out=str(path))
    return path.read_bytes()


def test_export_import_export_is_byte_identical(tmp_path, draft_methodology):
    first = _export(tmp_path, "first.json")
    draft_methodology.delete()

    call_command("import_methodology", str(tmp_path / "first.json"))

    assert _export(tmp_path, "second.json") == first
    assert json.loads(first)["tree"]["children"][1]["aggregation"] == "geometric"


def test_import_under_another_label(tmp_path, draft_methodology, capsys):
    _export(tmp_path, "doc.json")
    call_command("import_methodology", str(tmp_path / "doc.json"), version_label="2.0")
    assert "Imported TEST 2.0 as a draft (4 indicators and context variables)" in capsys.readouterr().out
    assert MethodologyVersion.objects.get(code="TEST", version="2.0").is_draft


def test_export_writes_to_stdout(draft_methodology, capsys):
    call_command("export_methodology", "TEST", "1.0")
    assert json.loads(capsys.readouterr().out)["version"] == "1.0"


def test_an_invalid_document_names_the_bad_field_and_changes_nothing(tmp_path, small_document):
    small_document["tree"]["children"][0]["children"][0]["unit"] = {"zh-hans": "个"}
    small_document["tree"]["children"][1]["children"][0]["weight"] = -1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(small_document), encoding="utf-8")

    with pytest.raises(CommandError) as error:
        call_command("import_methodology", str(path))

    message = str(error.value)
    assert "nothing was imported" in message
    assert "tree.children[0].children[0].unit.en: 为必填项" in message
    assert "tree.children[1].children[0].weight: B.1 的权重必须为正数" in message
    assert MethodologyVersion.objects.count() == 0
    assert Indicator.objects.count() == 0


def test_a_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="不是有效的 JSON"):
        call_command("import_methodology", str(path))


def test_unknown_version_is_refused():
    with pytest.raises(CommandError, match="No methodology version CCFI 9.9"):
        call_command("export_methodology", "CCFI", "9.9")
