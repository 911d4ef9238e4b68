"""The filing journey in Chromium: a filer enters, corrects, explains and submits; a reviewer sends the
return back with a comment; the filer corrects and resubmits; the reviewer approves; the filer sees it."""
import re

import pytest
from playwright.sync_api import expect

from indices.models import IndexRun
from reporting.models import ReturnState
from tests.reporting.conftest import (  # noqa: F401  (fixtures)
    ccfi,
    draft,
    last_year,
    period,
    period_2023,
    today,
    values,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Ccfi-test-2025"


def log_in(browser, live_server, username, *, accept_questions=True):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    if accept_questions:  # the confirmations of submit, send back and approve
        page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("welcome")).to_be_visible()
    return context, page


def test_a_return_goes_from_draft_through_send_back_to_approval(live_server, browser, draft, filer_chongqing,  # noqa: F811
                                                               reviewer, values):  # noqa: F811
    original_m41 = str(values["500000"][2024]["M4.1"])

    # The filer opens the city's return from the menu.
    filer_context, filer = log_in(browser, live_server, "filer-chongqing")
    filer.get_by_test_id("nav-returns").click()
    expect(filer.get_by_test_id("state-2024")).to_have_text("草稿")
    filer.get_by_role("link", name="继续填报").click()
    expect(filer.get_by_test_id("completeness")).to_have_text("36/36")

    # A value above the hard maximum: the error names code, value and bound, in Chinese, inline and on save.
    filer.get_by_test_id("section-M").locator("summary").click()
    field = filer.locator("#value-M4_1")
    field.fill("35")
    field.blur()
    expect(filer.get_by_test_id("findings-M4_1")).to_contain_text("M4.1：35 高于可能的最大值 30 %，该数值未被接受。")
    filer.get_by_test_id("save").click()
    expect(filer.get_by_test_id("findings-M4_1")).to_contain_text("高于可能的最大值 30")
    expect(filer.locator(".messages")).to_contain_text("以下数值有错误，未保存：M4.1")

    # Fixed to a value that is possible but unusual: a warning that needs an explanation.
    filer.locator("#value-M4_1").fill("5")
    filer.get_by_test_id("save").click()
    expect(filer.get_by_test_id("findings-M4_1")).to_contain_text("高于通常上限 4 %")
    filer.locator("#explanation-M4_1").fill("2024 年末集中核销前的口径，已附监管报表。")
    filer.get_by_test_id("submit").click()
    expect(filer.locator(".messages")).to_contain_text("报表已报送指数秘书处。")
    expect(filer.get_by_test_id("return-state")).to_have_text("已报送")

    # The reviewer finds it in the queue and sends it back with a comment on M4.1.
    reviewer_context, review = log_in(browser, live_server, "reviewer")
    review.get_by_test_id("nav-review").click()
    review.get_by_test_id("review-500000").click()
    expect(review.get_by_test_id("explanation-M4_1")).to_contain_text("集中核销前")
    review.locator("select[name='reason-M4.1']").select_option("inconsistent_last_year")
    review.get_by_test_id("comment-M4_1").fill("与上年差异过大，请核实不良贷款口径。")
    review.get_by_test_id("send-back").click()
    expect(review.locator(".messages")).to_contain_text("报表已退回该城市。")

    # The filer sees the comment, corrects the value and resubmits.
    filer.get_by_test_id("nav-returns").click()
    expect(filer.get_by_test_id("state-2024")).to_have_text("退回修改")
    expect(filer.get_by_test_id("dashboard")).to_contain_text("请核实不良贷款口径")
    filer.get_by_role("link", name="继续填报").click()
    expect(filer.get_by_test_id("comment-M4_1")).to_contain_text("与上年差异过大")
    filer.locator("#value-M4_1").fill(original_m41)
    filer.locator("#explanation-M4_1").fill("")
    filer.get_by_test_id("submit").click()
    expect(filer.get_by_test_id("return-state")).to_have_text("已报送")

    # The reviewer sees what changed and approves.
    review.get_by_test_id("nav-review").click()
    review.get_by_test_id("review-500000").click()
    expect(review.get_by_test_id("diff")).to_contain_text("M4.1")
    review.get_by_test_id("approve").click()
    expect(review.locator(".messages")).to_contain_text("报表已审核通过。")

    # The filer sees the approved state and the history.
    filer.get_by_test_id("nav-returns").click()
    expect(filer.get_by_test_id("state-2024")).to_have_text("已审核")
    filer.get_by_test_id("history-2024").click()
    history = filer.get_by_test_id("history")
    for text in ("已审核", "重新报送", "退回修改", "M4.1", "5 → " + original_m41):
        expect(history).to_contain_text(text)
    expect(filer).to_have_url(re.compile(r"/returns/\d+/history/$"))
    draft.refresh_from_db()
    assert draft.state == ReturnState.APPROVED and draft.submission_count == 2
    assert IndexRun.objects.filter(period=draft.period_id).count() == 1  # approval recomputed the index
    filer_context.close()
    reviewer_context.close()
