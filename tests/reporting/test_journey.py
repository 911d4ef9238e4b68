"""The filing and review journey (issue 13): one word for a status, evidence, confirmations, withdrawing a
draft amendment and the labels people read instead of raw codes."""
import html
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from indices.templatetags.indices_tags import audit_flags
from reporting.models import EvidenceFile, ReturnState, ReturnValue, ValueChange
from reporting.resources import dataset_as_xlsx, template_dataset
from reporting.selectors import completeness_board, filer_dashboard
from reporting.services import (
    CommentInput,
    ValueEntry,
    WorkflowError,
    evidence_upload,
    return_approve,
    return_reopen_for_amendment,
    return_submit,
    return_values_save,
    return_withdraw_amendment,
    review_comment_add,
    values_import_apply,
    values_import_preview,
)
from reporting.templatetags.reporting_tags import person
from reporting.validation import admit_status, observation_status_code

pytestmark = pytest.mark.django_db

HEADERS = ["城市代码 city_code", "指标代码 indicator_code", "本年数值 value", "观测状态 observation_status"]


def xlsx(rows) -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    book.active.append(HEADERS)
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile("return.xlsx", out.getvalue())


# 1. One word for a status.

@pytest.mark.parametrize(("raw", "code"), [
    ("final", "final"), (" Final ", "final"), ("终值", "final"), ("正式", "final"),
    ("初步值", "provisional"), ("PROVISIONAL", "provisional"), ("初步", "provisional"),
    ("估计值", "estimated"), ("Estimated", "estimated"), (" 估计 ", "estimated"),
])
def test_a_status_is_read_from_its_code_or_either_languages_label(raw, code):
    assert observation_status_code(raw) == code
    assert admit_status("M1.1", raw) == (code, [])


def test_a_word_that_is_no_status_is_refused():
    assert observation_status_code("maybe") is None
    status, findings = admit_status("M1.1", "maybe")
    assert status is None and findings[0].check == "status"


def test_the_forms_own_label_typed_into_the_template_is_imported(draft, filer_chongqing):
    upload = xlsx([["500000", "M1.1", 83, "初步值"], ["500000", "M1.2", None, "Estimated"]])
    report = values_import_preview(period=draft.period, actor=filer_chongqing, city=draft.city, upload=upload)
    assert report.summary["error"] == 0, report.rows
    values_import_apply(report=report, actor=filer_chongqing)
    stored = dict(ReturnValue.objects.filter(indicator_return=draft).values_list("indicator__code",
                                                                                 "observation_status"))
    assert stored["M1.1"] == "provisional" and stored["M1.2"] == "estimated"


def test_the_xlsx_template_has_a_status_list_frozen_header_ranges_and_instructions(draft):
    dataset = template_dataset(returns=[draft], language="zh-hans")
    book = openpyxl.load_workbook(io.BytesIO(dataset_as_xlsx(dataset, title="2024", language="zh-hans")))
    sheet = book.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    status_column = headers.index("观测状态 observation_status") + 1
    assert headers[4:7] == ["单位 unit", "允许范围 allowed_range", "预期范围 expected_range"]
    assert sheet.freeze_panes == "A2"
    (validation,) = sheet.data_validations.dataValidation
    assert validation.type == "list" and validation.formula1 == '"终值,初步值,估计值"'
    letter = openpyxl.utils.get_column_letter(status_column)
    assert str(validation.sqref) == f"{letter}2:{letter}{sheet.max_row}"
    assert sheet.cell(row=2, column=status_column).value == "终值"
    assert sheet.column_dimensions["D"].width > 20  # the indicator names are long
    assert book.sheetnames == ["2024", "填写说明"]
    text = "\n".join(row[0].value for row in book.worksheets[1].iter_rows())
    assert "终值 / 初步值 / 估计值" in text and "正式" not in text


def test_the_english_template_uses_the_english_labels(draft):
    with translation.override("en"):
        dataset = template_dataset(returns=[draft], language="en")
        book = openpyxl.load_workbook(io.BytesIO(dataset_as_xlsx(dataset, language="en")))
    assert book.worksheets[0].data_validations.dataValidation[0].formula1 == '"Final,Provisional,Estimated"'
    assert book.sheetnames[1] == "Instructions"


# 2. Evidence.

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_file_attached_to_one_value_is_listed_under_evidence_with_its_description(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    response = client.post(reverse("reporting:evidence_upload", args=[draft.pk]), {
        "file": SimpleUploadedFile("年鉴表3.pdf", PDF), "indicator": "M2.1", "description": "统计年鉴 表 3-1 扫描件"},
        follow=True)
    assert EvidenceFile.objects.get().indicator.code == "M2.1"
    page = response.content.decode()
    section = page[page.index('id="evidence"'):]
    assert "年鉴表3.pdf" in section and "统计年鉴 表 3-1 扫描件" in section and "M2.1" in section
    assert "尚未上传" not in section
    assert "📎" not in page and 'aria-label="附件"' in page


def test_the_reviewer_sees_every_file_with_its_description(client, submitted, filer_chongqing, reviewer):
    EvidenceFile.objects.create(indicator_return=submitted, indicator=submitted.period.methodology.indicators.get(
        code="M1.1"), file=SimpleUploadedFile("x.pdf", PDF), original_name="scan.pdf", content_type="application/pdf",
        size=len(PDF), sha256="0" * 64, description="扫描件说明", uploaded_by=filer_chongqing)
    client.force_login(reviewer)
    page = client.get(reverse("reporting:review_detail", args=[submitted.pk])).content.decode()
    section = page[page.index('id="evidence"'):]
    assert "scan.pdf" in section and "扫描件说明" in section and "📎" not in page


@pytest.mark.parametrize(("content", "words"), [
    (b"<html><body>x</body></html>", "网页（HTML）"), (b"just some notes\n", "纯文本"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 32, "旧版 Office 文档"),
])
def test_a_file_named_pdf_that_is_not_one_is_named_for_what_it_is(draft, filer_chongqing, content, words):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        evidence_upload(indicator_return=draft, actor=filer_chongqing, upload=SimpleUploadedFile("报表.pdf", content))
    with translation.override("zh-hans"):
        message = error.value.messages[0]
    assert error.value.code == "type"
    assert words in message and "报表.pdf" in message and "PDF, XLSX, PNG, JPEG" in message


def test_a_docx_named_pdf_says_word_document(draft, filer_chongqing):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    with translation.override("en"), pytest.raises(ValidationError) as error:
        evidence_upload(indicator_return=draft, actor=filer_chongqing,
                        upload=SimpleUploadedFile("report.pdf", out.getvalue()))
    with translation.override("en"):
        assert "a Word document (DOCX)" in error.value.messages[0]


def test_no_template_uses_the_paperclip_emoji():
    templates = Path(settings.BASE_DIR) / "templates"
    assert not [path for path in templates.rglob("*.html") if "📎" in path.read_text(encoding="utf-8")]


# 3. Confirmations (the browser side: tests/e2e/test_confirmations.py).

def confirm_of(page: str, test_id: str) -> str:
    tag = re.search(rf'<button[^>]*data-testid="{test_id}"[^>]*>', page).group(0)
    return html.unescape(re.search(r'data-confirm="([^"]*)"', tag).group(1))


def test_submit_send_back_and_approve_ask_first_in_the_readers_language(client, draft, filer_chongqing, reviewer):
    client.force_login(filer_chongqing)
    page = client.get(reverse("reporting:return_detail", args=[draft.pk])).content.decode()
    assert confirm_of(page, "submit") == "确定将本报表报送指数秘书处吗？报送后除非被退回，将无法再修改。"
    return_submit(indicator_return=draft, actor=filer_chongqing)
    client.force_login(reviewer)
    page = client.get(reverse("reporting:review_detail", args=[draft.pk])).content.decode()
    assert confirm_of(page, "send-back") == "确定将本报表连同审核意见退回该城市吗？"
    assert confirm_of(page, "approve") == "确定审核通过本报表吗？其数值将用于指数计算。"


def test_publishing_asks_first():
    source = (Path(settings.BASE_DIR) / "templates/indices/run_list.html").read_text(encoding="utf-8")
    message = "Publish this run? The results become public and the white papers are built."
    assert f"data-confirm=\"{{% translate '{message}' %}}\"" in source
    with translation.override("zh-hans"):
        assert translation.gettext(message) == "确定发布本次计算结果吗？结果将公开，并生成白皮书。"


# 4. Withdrawing a draft amendment.

@pytest.fixture
def amendment(submitted, reviewer, filer_chongqing):
    approved = return_approve(indicator_return=submitted, actor=reviewer)
    amendment = return_reopen_for_amendment(indicator_return=approved, actor=filer_chongqing, reason="人口口径修订")
    return_values_save(indicator_return=amendment, actor=filer_chongqing, expected_version=None,
                       entries={"POP": ValueEntry(value="3195")})
    return amendment


def test_the_filer_withdraws_a_draft_amendment_and_the_approved_revision_stays(client, amendment, filer_chongqing):
    client.force_login(filer_chongqing)
    page = client.get(reverse("reporting:return_detail", args=[amendment.pk])).content.decode()
    assert confirm_of(page, "withdraw") == "确定撤回这份更正草稿吗？已审核的版本继续有效。"
    response = client.post(reverse("reporting:return_withdraw", args=[amendment.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("reporting:return_detail", args=[amendment.amends_id])
    assert "第 2 版已撤回；已审核的版本继续有效。" in response.content.decode()
    amendment.refresh_from_db()
    amendment.amends.refresh_from_db()
    assert amendment.state == ReturnState.WITHDRAWN and amendment.amends.state == ReturnState.APPROVED
    event = AuditEvent.objects.get(event_type="return.withdraw")
    assert event.actor == filer_chongqing and event.details == {"revision": 2, "amends_revision": 1}
    assert ValueChange.objects.filter(indicator_return=amendment).exists()  # the change records stay
    # The approved revision is the city's return again on the dashboard, and it may be amended anew.
    (row,) = [row for row in filer_dashboard(user=filer_chongqing) if row.period == amendment.period]
    assert row.current.pk == amendment.amends_id
    (cell,) = [cell for cell in completeness_board(period=amendment.period) if cell.city == amendment.city]
    assert (cell.state, cell.revision) == (ReturnState.APPROVED, 1)
    again = return_reopen_for_amendment(indicator_return=amendment.amends, actor=filer_chongqing, reason="再次更正")
    assert again.revision == 3


def test_only_a_draft_amendment_is_withdrawn_and_only_by_the_citys_filer(amendment, draft, filer_chongqing,
                                                                        filer_chengdu, reviewer):
    for actor in (reviewer, filer_chengdu):
        with pytest.raises(PermissionDenied):
            return_withdraw_amendment(indicator_return=amendment, actor=actor)
    with pytest.raises(WorkflowError) as error:
        return_withdraw_amendment(indicator_return=amendment.amends, actor=filer_chongqing)
    assert error.value.code == "not_withdrawable"
    return_submit(indicator_return=amendment, actor=filer_chongqing)
    with pytest.raises(WorkflowError):
        return_withdraw_amendment(indicator_return=amendment, actor=filer_chongqing)
    assert not AuditEvent.objects.filter(event_type="return.withdraw").exists()


def test_the_first_revision_has_no_withdraw_button(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    page = client.get(reverse("reporting:return_detail", args=[draft.pk])).content.decode()
    assert 'data-testid="withdraw"' not in page


# 5. Labels, not codes or user names.

def test_history_and_diff_show_the_status_labels(client, draft, filer_chongqing, reviewer):
    return_values_save(indicator_return=draft, actor=filer_chongqing, expected_version=None,
                       entries={"M1.1": ValueEntry(observation_status="provisional")})
    client.force_login(filer_chongqing)
    page = client.get(reverse("reporting:return_history", args=[draft.pk])).content.decode()
    assert "终值 → 初步值" in page and "final → provisional" not in page


def test_the_review_page_names_people_by_their_full_name(client, submitted, reviewer):
    reviewer.first_name, reviewer.last_name = "明", "王"
    reviewer.save()
    review_comment_add(indicator_return=submitted, actor=reviewer, comment=CommentInput(text="请补充来源"))
    client.force_login(reviewer)
    page = client.get(reverse("reporting:review_detail", args=[submitted.pk])).content.decode()
    comment = re.search(r'<div class="comment">[^<]*请补充来源.*?</div>', page).group(0)
    assert reviewer.get_full_name() in comment and "reviewer" not in comment
    assert person(reviewer) == reviewer.get_full_name()
    reviewer.first_name = reviewer.last_name = ""
    assert person(reviewer) == "reviewer" and person(None) == ""


def test_the_queue_filters_say_all_instead_of_dashes(client, reviewer):
    client.force_login(reviewer)
    page = client.get(reverse("reporting:review_queue")).content.decode()
    assert "---------" not in page and ">全部</option>" in page


def test_the_audit_flags_are_words():
    with translation.override("zh-hans"):
        assert audit_flags(["few_unique", "outliers"]) == "不同取值过少, 存在异常值"
    with translation.override("en"):
        assert audit_flags(["low_availability", "other"]) == "low availability, other"
