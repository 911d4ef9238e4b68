"""Issue 13, walked again in Chromium, role by role: each item a city office or a reviewer tripped over is checked
where the person meets it.

The filer lands on their home page with the next step, imports the template with the form's own status words,
attaches evidence that is then listed with its description, sees the explanation box appear with the warning and
submits in one save after a confirmation. The reviewer finds the submission in the inbox, keeps both comments
through an explanation decision and sends the return back; the dashboard then tells the truth (sent back, the
comment, never "overdue"), and after the approval it drops the old comment. The methodologist's home page lists
the run awaiting publication until it is published."""
import io
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from accounts.models import City, User
from indices.demo import demo_index_ensure, demo_load
from indices.services import index_run_compute
from methodology.services import methodology_clone, methodology_publish
from reporting.models import EvidenceFile, Notification, ReportingPeriod, ReturnState, ReturnValue
from tests.api.helpers import PDF
from tests.e2e.test_filing_journey import PASSWORD, log_in
from tests.reporting.conftest import (  # noqa: F401  (fixtures)
    ccfi,
    draft,
    last_year,
    media_root,
    period,
    period_2023,
    today,
    values,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _confirmations(page) -> list[str]:
    """Every confirmation question the page asks, accepted (log_in(accept_questions=False) leaves them to us)."""
    asked: list[str] = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    return asked


def _template_with_status(page, tmp_path, *, code: str, status: str) -> str:
    """The return's XLSX template as downloaded, with one row's status set to ``status``; saved for upload."""
    with page.expect_download() as download:
        page.get_by_role("link", name="下载模板（XLSX）").click()
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    sheet = book.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    code_column, status_column = headers.index("指标代码 indicator_code"), headers.index("观测状态 observation_status")
    row = next(row for row in sheet.iter_rows(min_row=2) if row[code_column].value == code)
    row[status_column].value = status
    path = tmp_path / "template.xlsx"
    book.save(path)
    return str(path)


def test_the_filer_and_the_reviewer_walk_the_journey(live_server, browser, draft, filer_chongqing, reviewer,  # noqa: F811
                                                    tmp_path):
    filer_context, filer = log_in(browser, live_server, "filer-chongqing", accept_questions=False)
    filer_questions = _confirmations(filer)

    # Home: the next step and the days left, and a button to the return.
    expect(filer.get_by_test_id("step-2024")).to_contain_text("草稿")
    expect(filer.get_by_test_id("due-2024")).to_contain_text("30 天")
    filer.get_by_test_id("open-2024").click()

    # The template, with the form's own word for a status typed in, is accepted and applied.
    upload = _template_with_status(filer, tmp_path, code="M1.1", status="初步值")
    filer.get_by_role("link", name="导入电子表格").click()
    filer.locator("input[type=file]").set_input_files(upload)
    filer.locator("main").get_by_role("button", name="校验文件").click()
    expect(filer.get_by_test_id("import-summary")).to_be_visible()
    expect(filer.get_by_test_id("import-rows")).not_to_contain_text("错误")
    filer.get_by_test_id("apply-import").click()
    expect(filer.get_by_test_id("import-state")).to_be_visible()
    assert ReturnValue.objects.get(indicator_return=draft, indicator__code="M1.1").observation_status == "provisional"

    # Evidence for one indicator, with a description: listed on the return under its indicator and in the list.
    filer.get_by_test_id("nav-returns").click()
    filer.get_by_role("link", name="继续填报").click()
    evidence = filer.locator("#evidence")
    evidence.locator("input[type=file]").set_input_files(
        files=[{"name": "m2.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    evidence.locator("select").first.select_option("M2.1")
    evidence.locator("input[type=text], textarea").first.fill("人民银行营管部年报摘录")
    evidence.get_by_role("button", name="上传").click()
    expect(filer.locator("#evidence")).to_contain_text("m2.pdf")
    expect(filer.locator("#evidence")).to_contain_text("人民银行营管部年报摘录")
    assert EvidenceFile.objects.get(indicator_return=draft).indicator.code == "M2.1"

    # A value that warns: the explanation box comes with the warning, and one submit with it succeeds.
    filer.get_by_test_id("section-M").locator("summary").click()
    field = filer.locator("#value-M4_1")
    field.fill("5")
    field.blur()
    expect(filer.get_by_test_id("findings-M4_1")).to_contain_text("高于通常上限 4 %")
    filer.locator("#explanation-M4_1").fill("2024 年末集中核销前的口径，已附监管报表。")
    filer.get_by_test_id("submit").click()
    expect(filer.get_by_test_id("return-state")).to_have_text("已报送")
    assert len(filer_questions) == 1 and "报送" in filer_questions[0]

    # The reviewer: the unread notice is the next task; it opens the review page.
    reviewer_context, review = log_in(browser, live_server, "reviewer", accept_questions=False)
    reviewer_questions = _confirmations(review)
    expect(review.get_by_test_id("inbox-badge")).to_have_text("1")
    review.get_by_test_id("home-unread").get_by_role("link").first.click()
    expect(review).to_have_url(re.compile(rf"/review/{draft.pk}/$"))
    expect(review.get_by_test_id("inbox-badge")).to_have_count(0)

    # Both comments being written are kept (saved with it) through a decision on the filer's explanation.
    review.get_by_test_id("comment-M4_1").fill("请核实不良贷款口径。")
    review.locator("#id_comment").fill("请补充 M4.1 的核销说明。")
    review.get_by_test_id("reject-M4_1").click()
    expect(review.locator("main")).to_contain_text("请核实不良贷款口径。")
    expect(review.locator("main")).to_contain_text("请补充 M4.1 的核销说明。")
    review.get_by_test_id("send-back").click()
    expect(review.locator(".messages")).to_contain_text("报表已退回该城市。")
    assert "退回" in reviewer_questions[-1]

    # The filer's dashboard tells the truth: sent back, the comment, no "overdue".
    filer.get_by_test_id("nav-returns").click()
    expect(filer.get_by_test_id("state-2024")).to_have_text("退回修改")
    expect(filer.get_by_test_id("last-comment-2024")).to_contain_text("请核实不良贷款口径")
    expect(filer.get_by_test_id("dashboard")).not_to_contain_text("逾期")
    filer.get_by_role("link", name="继续填报").click()
    expect(filer.get_by_test_id("comment-M4_1")).to_contain_text("请核实不良贷款口径")  # open, with the comment
    filer.locator("#value-M4_1").fill(str(ReturnValue.objects.get(
        indicator_return__period__data_year=2023, indicator_return__city=draft.city, indicator__code="M4.1").value))
    filer.locator("#value-M4_1").blur()
    filer.get_by_test_id("submit").click()
    expect(filer.get_by_test_id("return-state")).to_have_text("已报送")

    review.get_by_test_id("nav-review").click()
    review.get_by_test_id(f"review-{draft.city.code}").click()
    review.get_by_test_id("approve").click()
    expect(review.locator(".messages")).to_contain_text("报表已审核通过。")

    # After the approval: approved, the old comment gone, still never "overdue"; the notice waits in the inbox.
    filer.get_by_test_id("nav-returns").click()
    expect(filer.get_by_test_id("state-2024")).to_have_text("已审核")
    expect(filer.get_by_test_id("last-comment-2024")).not_to_contain_text("请核实")
    expect(filer.get_by_test_id("dashboard")).not_to_contain_text("逾期")
    expect(filer.get_by_test_id("inbox-badge")).to_have_text("2")  # sent back, approved
    draft.refresh_from_db()
    assert draft.state == ReturnState.APPROVED
    assert Notification.objects.filter(recipient=filer_chongqing, read_at__isnull=True).count() == 2
    filer_context.close()
    reviewer_context.close()


def test_the_methodologists_home_lists_the_run_awaiting_publication_until_it_is_published(live_server, browser):
    demo_load()
    demo_index_ensure()
    year_2024 = ReportingPeriod.objects.get(data_year=2024)
    clone = methodology_clone(version=year_2024.methodology, actor=None, new_version="2025.2")
    run = index_run_compute(period=year_2024, methodology=methodology_publish(version=clone, actor=None))
    assert run.state == "succeeded" and not run.is_published
    methodologist = User.objects.get(username="methodologist")
    methodologist.set_password(PASSWORD)
    methodologist.save()

    context, page = log_in(browser, live_server, "methodologist", accept_questions=False)
    questions = _confirmations(page)
    runs = page.get_by_test_id("home-runs")
    expect(runs).to_contain_text("2024")
    page.get_by_test_id("nav-runs").click()
    page.get_by_test_id(f"publish-{run.pk}").click()
    expect(page.locator(".messages")).to_be_visible()
    assert len(questions) == 1 and "发布" in questions[0]
    run.refresh_from_db()
    assert run.is_published
    page.goto(f"{live_server.url}/")
    expect(page.get_by_test_id("home-methodologist")).to_be_visible()
    expect(page.get_by_test_id("home-runs")).not_to_contain_text("2024")
    context.close()


def test_the_secretariat_opens_a_period_and_the_filer_finds_a_return_waiting(live_server, browser, draft,  # noqa: F811
                                                                             reviewer, filer_chongqing):
    context, secretariat = log_in(browser, live_server, "reviewer", accept_questions=False)
    questions = _confirmations(secretariat)
    secretariat.get_by_test_id("nav-periods").click()
    form = secretariat.get_by_test_id("period-open-form")
    expect(form.locator("input[name=data_year]")).to_have_value("2025")  # the year after the latest
    secretariat.get_by_test_id("period-open").click()
    print(secretariat.locator("main").inner_text())
    expect(secretariat.get_by_test_id("period-2025")).to_contain_text("填报中")
    assert len(questions) == 1
    opened = ReportingPeriod.objects.get(data_year=2025)
    assert {row.city.code for row in opened.returns.all()} == {city.code for city in City.objects.all()}

    filer_context, filer = log_in(browser, live_server, "filer-chongqing")
    expect(filer.get_by_test_id("step-2025")).to_contain_text("草稿")
    filer.get_by_test_id("open-2025").click()
    expect(filer.get_by_test_id("return-form")).to_be_visible()
    context.close()
    filer_context.close()
