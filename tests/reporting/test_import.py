"""Spreadsheet import: template, dry-run preview, all-or-nothing apply, blank = missing, limits, escaping."""
import csv
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from reporting.models import ImportReport, ImportState, ReturnValue, ValueChange
from reporting.resources import dataset_as_csv, dataset_as_xlsx, escape_formula, template_dataset
from reporting.services import (
    ValueEntry,
    return_values_save,
    values_import_apply,
    values_import_preview,
)

pytestmark = pytest.mark.django_db

HEADERS = ["城市代码 city_code", "指标代码 indicator_code", "本年数值 value", "观测状态 observation_status",
           "数据来源 source_note", "情况说明 explanation"]


def xlsx(rows, headers=HEADERS, name="return.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def csv_file(rows, headers=HEADERS, encoding="utf-8-sig", name="return.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(encoding))


def stored(indicator_return) -> dict:
    return dict(ReturnValue.objects.filter(indicator_return=indicator_return).values_list("indicator__code", "value"))


def preview(draft, actor, upload):
    return values_import_preview(period=draft.period, actor=actor, upload=upload, city=draft.city)


def test_the_template_lists_every_indicator_with_last_years_value(draft):
    dataset = template_dataset(returns=[draft], language="zh-hans")
    assert dataset.headers[:3] == ["城市代码 city_code", "城市 city", "指标代码 indicator_code"]
    rows = {row[2]: row for row in dataset}
    assert len(rows) == 36
    assert rows["M2.1"][3] == "个人消费贷款余额（不含住房贷款）" and rows["M2.1"][4] == "亿元"
    assert rows["M2.1"][5] == "0 – 200000"
    assert rows["M2.1"][7] == Decimal("8118.77") and rows["M2.1"][8] == Decimal("8922.53")
    assert rows["M2.1"][9] == "终值"
    assert list(rows)[-3:] == ["POP", "BORROWERS", "GDP"]


def test_exports_escape_formula_cells(draft, filer_chongqing):
    return_values_save(indicator_return=draft, actor=filer_chongqing, expected_version=None,
                       entries={"M1.1": ValueEntry(source_note='=HYPERLINK("http://x","y")'),
                                "M1.2": ValueEntry(source_note="@SUM(A1)"), "M1.3": ValueEntry(source_note="-2+3")})
    dataset = template_dataset(returns=[draft], language="zh-hans")
    text = dataset_as_csv(dataset).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text and "'-2+3" in text
    book = openpyxl.load_workbook(io.BytesIO(dataset_as_xlsx(dataset)))
    sources = {row[2].value: row[10].value for row in book.active.iter_rows(min_row=2)}
    assert sources["M1.1"] == "'=HYPERLINK(\"http://x\",\"y\")" and sources["M1.2"] == "'@SUM(A1)"
    assert all(cell.data_type != "f" for row in book.active.iter_rows() for cell in row)
    assert escape_formula(-5) == -5 and escape_formula("\tx") == "'\tx" and escape_formula("ok") == "ok"


def test_the_template_downloads_for_the_citys_filer(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    response = client.get(reverse("reporting:import_template", args=[draft.pk]))
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.active["C2"].value == "M1.1"
    assert client.get(reverse("reporting:import_template", args=[draft.pk]) + "?format=csv")["Content-Type"].startswith(
        "text/csv")


def test_a_preview_changes_nothing_and_lists_what_would_change(draft, filer_chongqing):
    before = stored(draft), ValueChange.objects.count()
    report = preview(draft, filer_chongqing, xlsx([["500000", "M1.1", 84, "初步", "年鉴 表 1", ""],
                                                   ["500000", "M4.1", 5, "", "", ""]]))
    assert (stored(draft), ValueChange.objects.count()) == before
    assert report.state == ImportState.PREVIEWED
    rows = {row["code"]: row for row in report.rows}
    assert rows["M1.1"]["outcome"] == "changed"
    assert {(c["field"], c["old"], c["new"]) for c in rows["M1.1"]["changes"]} == {
        ("value", "83", "84"), ("observation_status", "final", "provisional"), ("source_note", "统计年鉴 表 3-1",
                                                                                "年鉴 表 1")}
    assert rows["M4.1"]["outcome"] == "warning"
    assert report.summary["error"] == 0 and report.summary["changes"] >= 4
    assert AuditEvent.objects.filter(event_type="import.preview").count() == 1


def test_confirming_applies_the_file_through_the_import_channel(draft, filer_chongqing):
    report = preview(draft, filer_chongqing, xlsx([["500000", "M1.1", 84, "", "", ""]]))
    report = values_import_apply(report=report, actor=filer_chongqing)
    assert report.state == ImportState.APPLIED
    assert stored(draft)["M1.1"] == Decimal(84)
    assert set(ValueChange.objects.filter(new="84").values_list("channel", flat=True)) == {"import"}


def test_a_file_with_one_error_changes_nothing(draft, filer_chongqing):
    before = stored(draft)
    report = preview(draft, filer_chongqing, xlsx([["500000", "M1.1", 84, "", "", ""],
                                                   ["500000", "M4.1", 35, "", "", ""]]))
    assert report.state == ImportState.REFUSED and report.summary["error"] == 1
    assert {row["code"]: row["outcome"] for row in report.rows}["M4.1"] == "error"
    with pytest.raises(ValidationError):
        values_import_apply(report=report, actor=filer_chongqing)
    assert stored(draft) == before


def test_all_or_nothing_when_the_error_appears_only_at_apply(draft, filer_chongqing, monkeypatch):
    report = preview(draft, filer_chongqing, xlsx([["500000", "M1.1", 84, "", "", ""],
                                                   ["500000", "M1.2", 4, "", "", ""]]))
    from reporting import validation

    real = validation.admit_value

    def stricter(variable, raw):  # e.g. a bound tightened between preview and apply
        if variable.code == "M1.2":
            return None, [validation.Finding("M1.2", "hard_bounds", "error", "%(code)s", {"code": "M1.2"})]
        return real(variable, raw)

    monkeypatch.setattr(validation, "admit_value", stricter)
    report = values_import_apply(report=report, actor=filer_chongqing)
    assert report.state == ImportState.REFUSED
    assert stored(draft)["M1.1"] == Decimal(83)
    assert not ValueChange.objects.filter(channel="import").exists()


def test_a_blank_cell_is_missing_never_zero(draft, filer_chongqing):
    report = preview(draft, filer_chongqing, xlsx([["500000", "M1.1", None, "", "", ""]]))
    values_import_apply(report=report, actor=filer_chongqing)
    assert stored(draft)["M1.1"] is None


def test_rows_for_another_city_or_unknown_codes_are_errors(draft, filer_chongqing):
    report = preview(draft, filer_chongqing, xlsx([["510100", "M1.1", 5, "", "", ""],
                                                   ["500000", "X9.9", 5, "", "", ""],
                                                   ["500000", "M1.1", 84, "", "", ""],
                                                   ["500000", "M1.1", 85, "", "", ""]]))
    outcomes = [(row["city"], row["code"], row["outcome"]) for row in report.rows]
    assert outcomes == [("510100", "M1.1", "error"), ("500000", "X9.9", "error"), ("500000", "M1.1", "changed"),
                        ("500000", "M1.1", "error")]
    assert report.state == ImportState.REFUSED


def test_a_csv_in_gb18030_without_a_city_column(draft, filer_chongqing):
    upload = csv_file([["M1.1", "84", "估计", "统计公报"]], headers=["指标代码", "本年数值", "观测状态", "数据来源"],
                      encoding="gb18030")
    report = preview(draft, filer_chongqing, upload)
    values_import_apply(report=report, actor=filer_chongqing)
    value = ReturnValue.objects.get(indicator_return=draft, indicator__code="M1.1")
    assert (value.value, value.observation_status, value.source_note) == (Decimal(84), "estimated", "统计公报")


def test_a_preview_goes_stale_when_the_return_changes(draft, filer_chongqing):
    report = preview(draft, filer_chongqing, xlsx([["500000", "M1.1", 84, "", "", ""]]))
    return_values_save(indicator_return=draft, actor=filer_chongqing, expected_version=None,
                       entries={"M1.3": ValueEntry(value="38")})
    report = values_import_apply(report=report, actor=filer_chongqing)
    assert report.state == ImportState.STALE and stored(draft)["M1.1"] == Decimal(83)


def test_only_the_uploader_applies(draft, filer_chongqing, reviewer):
    from django.core.exceptions import PermissionDenied

    report = preview(draft, filer_chongqing, xlsx([["500000", "M1.1", 84, "", "", ""]]))
    with pytest.raises(PermissionDenied):
        values_import_apply(report=report, actor=reviewer)


def test_the_pages_preview_apply_and_download_the_report(client, draft, filer_chongqing, filer_chengdu):
    client.force_login(filer_chongqing)
    response = client.post(reverse("reporting:import_upload", args=[draft.pk]),
                           {"file": xlsx([["500000", "M1.1", 84, "", "", ""]])})
    report = ImportReport.objects.get()
    assert response.url == reverse("reporting:import_detail", args=[report.pk])
    assert "Confirm the import" in client.get(response.url).content.decode() or "确认导入" in client.get(
        response.url).content.decode()
    client.post(reverse("reporting:import_apply", args=[report.pk]))
    assert stored(draft)["M1.1"] == Decimal(84)
    text = client.get(reverse("reporting:import_report", args=[report.pk])).content.decode("utf-8-sig")
    assert "M1.1" in text and "83 → 84" in text
    client.force_login(filer_chengdu)
    for name in ("import_detail", "import_report"):
        assert client.get(reverse(f"reporting:{name}", args=[report.pk])).status_code == 404
    assert client.post(reverse("reporting:import_apply", args=[report.pk])).status_code == 404


# Upload limits, checked before parsing.

def test_a_file_over_the_size_limit_is_refused(draft, filer_chongqing, settings):
    settings.REPORTING_IMPORT_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as error:
        preview(draft, filer_chongqing, xlsx([["500000", "M1.1", 84, "", "", ""]]))
    assert error.value.code == "too_large"


def zip_upload(entries: dict[str, bytes], name="bomb.xlsx") -> SimpleUploadedFile:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in entries.items():
            archive.writestr(path, content)
    return SimpleUploadedFile(name, out.getvalue())


def test_a_zip_bomb_is_refused_before_parsing(draft, filer_chongqing, settings, monkeypatch):
    settings.REPORTING_XLSX_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
    bomb = zip_upload({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>",
                       "xl/worksheets/sheet1.xml": b"\0" * (20 * 1024 * 1024)})
    assert bomb.size < 100 * 1024
    import openpyxl as module

    monkeypatch.setattr(module, "load_workbook", lambda *a, **k: pytest.fail("parsed a zip bomb"))
    with pytest.raises(ValidationError) as error:
        preview(draft, filer_chongqing, bomb)
    assert error.value.code == "xlsx_size"


def test_a_workbook_with_too_many_parts_is_refused(draft, filer_chongqing, settings):
    settings.REPORTING_XLSX_MAX_PARTS = 10
    parts = {"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"} | {f"xl/p{i}.xml": b"<x/>" for i in range(20)}
    with pytest.raises(ValidationError) as error:
        preview(draft, filer_chongqing, zip_upload(parts))
    assert error.value.code == "xlsx_parts"


def test_a_billion_laughs_workbook_is_refused(draft, filer_chongqing):
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
              b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol2;</workbook>')
    upload = zip_upload({"[Content_Types].xml": laughs, "xl/workbook.xml": laughs})
    with pytest.raises(ValidationError) as error:
        preview(draft, filer_chongqing, upload)
    assert error.value.code == "unreadable"


def test_a_file_over_the_row_limit_is_refused(draft, filer_chongqing, settings):
    settings.REPORTING_IMPORT_MAX_ROWS = 5
    with pytest.raises(ValidationError) as error:
        preview(draft, filer_chongqing, xlsx([["500000", "M1.1", 84, "", "", ""]] * 6))
    assert error.value.code == "too_many_rows"


@pytest.mark.parametrize(("content", "name"), [(b"%PDF-1.7 ...", "return.xlsx"), (b"\x89PNG\r\n\x1a\n...", "a.csv"),
                                               (b"MZ\x90\x00\x03\x00\x00\x00", "return.xlsx")])
def test_the_type_is_read_from_the_content(draft, filer_chongqing, content, name):
    with pytest.raises(ValidationError) as error:
        preview(draft, filer_chongqing, SimpleUploadedFile(name, content))
    assert error.value.code == "type"


def test_a_submitted_return_cannot_be_imported_into(client, submitted, filer_chongqing):
    client.force_login(filer_chongqing)
    response = client.get(reverse("reporting:import_upload", args=[submitted.pk]))
    assert response.url == reverse("reporting:return_detail", args=[submitted.pk])
