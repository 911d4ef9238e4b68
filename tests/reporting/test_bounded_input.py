"""Bounded input: files refused while read (memory stays small, nothing stored), numbers at the edges,
control characters and over-long texts refused through the form, the API and the import, and a
template round trip that changes nothing."""
import io
import tracemalloc
from decimal import Decimal
from http import HTTPStatus

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from reporting.models import ImportReport, ImportState, ReturnValue, ValueChange
from reporting.resources import dataset_as_csv, dataset_as_xlsx, escape_formula, template_dataset, unescape_formula
from reporting.services import ValueEntry, return_values_save, values_import_apply, values_import_preview
from reporting.validation import number_text, parse_number

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def padded_csv() -> SimpleUploadedFile:
    """The issue's 18 KB CSV: a header padded with 2,000 commas, then 2,000 short rows."""
    content = ("indicator_code,value" + "," * 2000 + "\n" + "M1.1,96\n" * 2000).encode()
    assert len(content) < 20 * 1024
    return SimpleUploadedFile("padded.csv", content)


def xfd_xlsx(*, last_row: bool = False) -> SimpleUploadedFile:
    """The issue's XLSX: one cell in column XFD (the last Excel has) and 2,000 rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["indicator_code", "value"])
    for _ in range(2000):
        sheet.append(["M1.1", 96])
    sheet.cell(row=2001 if last_row else 1, column=16384, value="x")
    out = io.BytesIO()
    book.save(out)
    assert out.tell() < 40 * 1024
    return SimpleUploadedFile("wide.xlsx", out.getvalue())


def in_english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def nothing_stored(media_dir) -> bool:
    files = [path for path in media_dir.rglob("*") if path.is_file()] if media_dir.exists() else []
    return (not ImportReport.objects.exists() and not files
            and not AuditEvent.objects.filter(event_type__startswith="import.").exists())


@pytest.mark.parametrize("upload", [padded_csv, xfd_xlsx, lambda: xfd_xlsx(last_row=True)],
                         ids=["padded-csv", "xfd-xlsx", "xfd-xlsx-last-row"])
def test_a_padded_file_is_refused_while_read_in_little_memory(client, draft, filer_chongqing, settings, upload):
    client.force_login(filer_chongqing)
    in_english(client, settings)
    file = upload()
    tracemalloc.start()
    try:
        response = client.post(reverse("reporting:import_upload", args=[draft.pk]), {"file": file},
                               HTTP_ACCEPT_LANGUAGE="en")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100 * MB, f"peak {peak / MB:.0f} MB"
    assert response.status_code == HTTPStatus.OK
    assert "columns" in response.content.decode() or "列" in response.content.decode()
    assert nothing_stored(settings.MEDIA_ROOT)


def preview(draft, actor, upload):
    return values_import_preview(period=draft.period, actor=actor, upload=upload, city=draft.city)


def test_the_refusal_names_the_column_limit_in_the_users_language(draft, filer_chongqing):
    with pytest.raises(ValidationError) as error:
        preview(draft, filer_chongqing, padded_csv())
    assert error.value.code == "too_many_columns"
    with translation.override("zh-hans"):
        assert "50" in str(error.value.messages[0]) and "列" in error.value.messages[0]


def csv_upload(text: str, name: str = "return.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"))


def test_a_cell_over_the_length_limit_is_refused_before_anything_is_stored(draft, filer_chongqing, settings):
    book = openpyxl.Workbook()
    book.active.append(["indicator_code", "value", "explanation"])
    book.active.append(["M1.1", 84, "x" * 6000])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ValidationError) as error:
        preview(draft, filer_chongqing, SimpleUploadedFile("long.xlsx", out.getvalue()))
    assert error.value.code == "cell_too_long"
    with translation.override("en"):
        assert error.value.messages[0] == ("Row 2, column C holds 6000 characters; a cell may hold at most 5000.")
    assert nothing_stored(settings.MEDIA_ROOT)


def test_the_total_text_read_is_bounded(draft, filer_chongqing, settings):
    settings.REPORTING_IMPORT_MAX_TEXT_CHARS = 1000
    rows = "".join(f"M1.1,84,{'y' * 300}\n" for _ in range(5))
    with pytest.raises(ValidationError) as error:
        preview(draft, filer_chongqing, csv_upload("indicator_code,value,explanation\n" + rows))
    assert error.value.code == "too_much_text"


def test_only_the_columns_the_import_reads_are_kept(draft, filer_chongqing):
    upload = csv_upload("城市 city,指标代码 indicator_code,指标名称 name,本年数值 value,my notes\n"
                        "重庆,M1.1,name,84,a note\n")
    report = preview(draft, filer_chongqing, upload)
    assert report.cells == {"headers": ["indicator_code", "value"], "rows": [["M1.1", "84"]]}


def test_blank_rows_at_the_end_are_not_counted_but_data_after_the_limit_is_refused(draft, filer_chongqing,
                                                                                  settings):
    settings.REPORTING_IMPORT_MAX_ROWS = 3
    report = preview(draft, filer_chongqing, csv_upload("indicator_code,value\nM1.1,84\n" + ",\n" * 5000))
    assert report.summary["rows"] == 1
    with pytest.raises(ValidationError) as error:
        preview(draft, filer_chongqing, csv_upload("indicator_code,value\nM1.1,84\n" + ",\n" * 10 + "M1.2,3\n"))
    assert error.value.code == "too_many_rows"


# Numbers at the edges: one parser for the form, the API and the import.

@pytest.mark.parametrize(("raw", "check", "text"), [
    ("1e1000000", "type", "M1.1: 1E+1000000 is too large to be a reported value (at most 16 digits before the "
                          "point)."),
    ("1e-2000000", "decimals", "M1.1: 1E-2000000 has 2000000 decimal places; at most 0 are allowed."),
    ("9" * 3000, "type", None),
    ("0." + "0" * 3000 + "1", "decimals", None),
])
def test_numbers_beyond_what_a_column_holds_are_refused_with_a_short_message(draft, filer_chongqing, raw, check,
                                                                            text):
    changes_before = ValueChange.objects.count()
    outcome = return_values_save(indicator_return=draft, actor=filer_chongqing, expected_version=None,
                                 entries={"M1.1": ValueEntry(value=raw)})
    assert outcome.changed == 0 and "M1.1" in outcome.result.rejected
    (error,) = outcome.result.errors
    assert error.check == check and len(error.render()) < 200
    if text:
        with translation.override("en"):
            assert error.render() == text
    assert ValueChange.objects.count() == changes_before
    assert ReturnValue.objects.get(indicator_return=draft, indicator__code="M1.1").value == Decimal(83)


def test_the_parser_and_the_text_of_numbers_stay_short():
    assert parse_number("1e1000000") == Decimal("1e1000000")
    assert number_text(Decimal("1e1000000")) == "1E+1000000" and number_text(Decimal("1e-2000000")) == "1E-2000000"
    assert number_text(Decimal("0e-2000000")) == "0" and number_text(Decimal("12.50")) == "12.5"
    with pytest.raises(ValueError):
        parse_number("1e99999999999999999999")


def test_the_form_answers_edge_numbers_and_nul_with_errors(client, draft, filer_chongqing, settings):
    client.force_login(filer_chongqing)
    in_english(client, settings)
    changes_before = ValueChange.objects.count()
    url = reverse("reporting:return_detail", args=[draft.pk])
    for raw in ("1e1000000", "1e-2000000"):
        response = client.post(url, {"edit_version": draft.edit_version, "value-M1.1": raw, "status-M1.1": "final",
                                     "source-M1.1": ""})
        assert response.status_code == HTTPStatus.OK
        assert "Not saved, because of errors: M1.1" in response.content.decode()
    response = client.post(url, {"edit_version": draft.edit_version, "value-M1.1": "84", "status-M1.1": "final",
                                 "source-M1.1": "年鉴\x00", "explanation-M1.1": "x" * 4001},)
    page = response.content.decode()
    assert "M1.1: the source contains a control character (U+0000), which is not accepted." in page
    assert "M1.1: the explanation has 4001 characters; at most 4000 are accepted." in page
    value = ReturnValue.objects.get(indicator_return=draft, indicator__code="M1.1")
    assert (value.value, value.source_note, value.explanation) == (Decimal(83), "统计年鉴 表 3-1", "")
    assert ValueChange.objects.count() == changes_before
    # The template still downloads.
    assert client.get(reverse("reporting:import_template", args=[draft.pk])).status_code == HTTPStatus.OK


def test_the_form_answers_in_chinese_by_default(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    response = client.post(reverse("reporting:return_detail", args=[draft.pk]), {
        "edit_version": draft.edit_version, "value-M1.1": "84", "status-M1.1": "final",
        "source-M1.1": "x" * 501})
    assert "M1.1：数据来源有 501 个字符，最多接受 500 个。" in response.content.decode()


def api_patch(client, draft, values):
    return client.patch(f"/api/v1/returns/{draft.pk}/values/", {"edit_version": draft.edit_version, "values": values},
                        content_type="application/json")


@pytest.mark.parametrize(("given", "message"), [
    ({"value": "1e1000000"}, "M1.1: 1E+1000000 is too large"),
    ({"value": "1e-2000000"}, "M1.1: 1E-2000000 has 2000000 decimal places"),
    ({"value": "84", "source_note": "a\x01b"}, "M1.1: the source contains a control character (U+0001)"),
    ({"value": "84", "explanation": "x" * 4001}, "M1.1: the explanation has 4001 characters"),
    ({"value": "84", "observation_status": "final\x00"}, "M1.1: the observation status contains a control "
                                                         "character (U+0000)"),
])
def test_the_api_refuses_edge_numbers_control_characters_and_long_texts(client, draft, filer_chongqing, settings,
                                                                        given, message):
    client.force_login(filer_chongqing)
    in_english(client, settings)
    changes_before = ValueChange.objects.count()
    response = api_patch(client, draft, {"M1.1": given})
    body = response.json()
    assert response.status_code == HTTPStatus.OK, body
    assert body["changed"] == 0 and body["rejected"] == ["M1.1"]
    assert any(finding["message"].startswith(message) for finding in body["findings"]), body
    assert ValueChange.objects.count() == changes_before
    assert not AuditEvent.objects.filter(event_type="return.values_change", object_id=str(draft.pk),
                                         details__channel="api").exists()


def test_the_api_refuses_a_nul_in_the_value_as_not_a_number(client, draft, filer_chongqing, settings):
    client.force_login(filer_chongqing)
    in_english(client, settings)
    body = api_patch(client, draft, {"M1.1": {"value": "84\x00"}}).json()
    assert body["rejected"] == ["M1.1"] and body["findings"][0]["message"] == "M1.1: “84U+0000” is not a number."
    assert ReturnValue.objects.get(indicator_return=draft, indicator__code="M1.1").value == Decimal(83)


@pytest.mark.parametrize(("cells", "message"), [
    (["M1.1", "1e1000000", "", "", ""], "M1.1: 1E+1000000 is too large"),
    (["M1.1", "1e-2000000", "", "", ""], "M1.1: 1E-2000000 has 2000000 decimal places"),
    (["M1.1", "84", "", "年鉴\x01", ""], "M1.1: the source contains a control character (U+0001)"),
    (["M1.1", "84", "", "", "line\x00"], "M1.1: the explanation contains a control character (U+0000)"),
    (["M1.1", "84", "", "", "x" * 4001], "M1.1: the explanation has 4001 characters; at most 4000 are accepted."),
    (["M1.1", "84", "", "s" * 501, ""], "M1.1: the source has 501 characters; at most 500 are accepted."),
])
def test_the_import_refuses_edge_numbers_control_characters_and_long_texts(draft, filer_chongqing, cells, message):
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    # A NUL after the first 4 KB (which are sniffed for binary content) reaches the text check: a column
    # the import does not read, with a long header, puts it there.
    writer.writerow(["indicator_code", "value", "observation_status", "source_note", "explanation", "n" * 4100])
    writer.writerow(cells)
    report = preview(draft, filer_chongqing, csv_upload(out.getvalue()))
    assert report.state == ImportState.REFUSED
    (row,) = report.rows
    assert row["outcome"] == "error"
    with translation.override("en"):
        from reporting.validation import render_message

        texts = [render_message(m["message"], m["params"]) for m in row["messages"]]
    assert any(text.startswith(message) for text in texts), texts
    assert not report.file and report.cells == {}  # nothing kept that only an apply would need
    with pytest.raises(ValidationError):
        values_import_apply(report=report, actor=filer_chongqing)
    assert not ValueChange.objects.filter(channel="import").exists()


def test_a_csv_starting_with_a_nul_is_refused_as_such(draft, filer_chongqing):
    with pytest.raises(ValidationError) as error:
        preview(draft, filer_chongqing, csv_upload("indicator_code,value,source_note\nM1.1,84,a\x00b\n"))
    assert error.value.code == "nul"
    assert not ImportReport.objects.exists()


# Text that round-trips through the template.

def test_formula_escaping_round_trips():
    for text in ("-3% fewer patents", "=SUM(A1)", "'=x", "''-y", "ok", "'quoted", "@home", "\tindented"):
        assert unescape_formula(escape_formula(text)) == text
    assert escape_formula("'=x") == "''=x" and unescape_formula("'-3%") == "-3%"


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_an_unchanged_template_changes_nothing(draft, filer_chongqing, kind):
    return_values_save(indicator_return=draft, actor=filer_chongqing, expected_version=None, entries={
        "M1.1": ValueEntry(source_note="-3% fewer patents", explanation="=reason\nsecond line"),
        "M1.2": ValueEntry(source_note="+ more", explanation="  spaced  \r\nwindows line"),
        "M2.1": ValueEntry(value="8922.5", source_note="@source")})
    changes_before = ValueChange.objects.count()
    dataset = template_dataset(returns=[draft], language="zh-hans")
    content = dataset_as_xlsx(dataset) if kind == "xlsx" else dataset_as_csv(dataset)
    report = preview(draft, filer_chongqing, SimpleUploadedFile(f"template.{kind}", content))
    assert report.summary["changes"] == 0, [row for row in report.rows if row["changes"]]
    assert report.state == ImportState.PREVIEWED
    report = values_import_apply(report=report, actor=filer_chongqing)
    assert report.state == ImportState.APPLIED
    assert ValueChange.objects.count() == changes_before
    value = ReturnValue.objects.get(indicator_return=draft, indicator__code="M1.1")
    assert value.source_note == "-3% fewer patents"


def test_a_control_character_stored_before_these_checks_does_not_break_the_template(draft):
    ReturnValue.objects.filter(indicator_return=draft, indicator__code="M1.1").update(source_note="old\x01text")
    book = openpyxl.load_workbook(io.BytesIO(dataset_as_xlsx(template_dataset(returns=[draft], language="en"))))
    assert {row[2].value: row[10].value for row in book.active.iter_rows(min_row=2)}["M1.1"] == "old\ufffdtext"


def test_a_code_with_a_nul_is_reported_with_the_nul_made_visible(draft, filer_chongqing):
    """The report's rows are JSON, which PostgreSQL cannot store with a NUL."""
    upload = csv_upload("indicator_code,value," + "n" * 4100 + "\nM1.1\x00,84,\n")
    report = preview(draft, filer_chongqing, upload)
    assert report.state == ImportState.REFUSED
    assert report.rows[0]["code"] == "M1.1U+0000" and report.rows[0]["messages"][0]["params"]["code"] == "M1.1U+0000"


# Other free texts: comments, reasons, descriptions are refused whole, never cut.

def test_comments_and_reasons_with_control_characters_or_over_their_limit_are_refused(submitted, reviewer):
    from reporting.models import ReviewComment
    from reporting.services import CommentInput, review_comment_add

    for text, code in (("bad\x01", "control_character"), ("x" * 4001, "too_long")):
        with pytest.raises(ValidationError) as error:
            review_comment_add(indicator_return=submitted, actor=reviewer,
                               comment=CommentInput(text=text, indicator_code="M1.1"))
        assert error.value.code == code
    with translation.override("en"):
        assert error.value.messages == ["The comment has 4001 characters; at most 4000 are accepted."]
    assert not ReviewComment.objects.exists()
    comment = review_comment_add(indicator_return=submitted, actor=reviewer,
                                 comment=CommentInput(text=" two\r\nlines ", indicator_code="M1.1"))
    assert comment.text == "two\nlines"


def test_an_evidence_description_with_a_control_character_is_refused(client, draft, filer_chongqing, settings):
    from reporting.models import EvidenceFile

    client.force_login(filer_chongqing)
    in_english(client, settings)
    response = client.post(reverse("reporting:evidence_upload", args=[draft.pk]), {
        "file": SimpleUploadedFile("a.pdf", b"%PDF-1.4 x"), "description": "scan\x1b[31m"}, follow=True)
    assert "The description contains a control character (U+001B), which is not accepted." in response.content.decode()
    assert not EvidenceFile.objects.exists()


# Evidence: the form's own error, not "choose a file".

def test_evidence_errors_say_what_is_wrong(client, draft, filer_chongqing, settings):
    client.force_login(filer_chongqing)
    in_english(client, settings)
    url = reverse("reporting:evidence_upload", args=[draft.pk])
    response = client.post(url, {"file": SimpleUploadedFile("empty.pdf", b"")},
                           follow=True)
    page = response.content.decode()
    assert "The submitted file is empty." in page and "Choose a file to upload." not in page
    response = client.post(url, {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.4 x"), "indicator": "X9.9"},
                           HTTP_ACCEPT_LANGUAGE="en", follow=True)
    page = response.content.decode()
    assert "Select a valid choice" in page and "Choose a file to upload." not in page
