"""Confirmations under the Content-Security-Policy: portal.js asks a button's data-confirm question, and
cancelling sends nothing."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from reporting.models import PeriodState, ReturnState
from tests.e2e.test_filing_journey import log_in
from tests.reporting.conftest import (  # noqa: F401  (fixtures)
    ccfi,
    draft,
    last_year,
    period,
    period_2023,
    submitted,
    today,
    values,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dismissing_the_approve_question_changes_nothing_and_accepting_approves(live_server, browser, submitted,  # noqa: F811
                                                                             reviewer):
    context, page = log_in(browser, live_server, "reviewer", accept_questions=False)
    questions = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(live_server.url + reverse("reporting:review_detail", args=[submitted.pk]))
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("approve")).to_be_visible()
    assert questions == ["确定审核通过本报表吗？其数值将用于指数计算。"]
    submitted.refresh_from_db()
    assert submitted.state == ReturnState.SUBMITTED

    page.remove_listener("dialog", dismiss)
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("approve").click()
    expect(page.locator(".messages")).to_contain_text("报表已审核通过。")
    submitted.refresh_from_db()
    assert submitted.state == ReturnState.APPROVED
    context.close()


def test_closing_a_period_asks_first_and_dismissing_keeps_it_open(live_server, browser, period, reviewer,  # noqa: F811
                                                                 city_chongqing):
    context, page = log_in(browser, live_server, "reviewer", accept_questions=False)
    questions = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.get_by_test_id("nav-periods").click()
    page.get_by_test_id("close-confirm-2024").check()
    page.get_by_test_id("close-2024").click()
    expect(page.get_by_test_id("close-2024")).to_be_visible()
    assert questions == ["部分城市尚无已批准的报表，仍要关闭本报送期吗？这些报表将保持现状并变为只读。"]
    period.refresh_from_db()
    assert period.state == PeriodState.OPEN

    page.remove_listener("dialog", dismiss)
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("close-2024").click()
    expect(page.locator(".messages")).to_contain_text("2024 年度报送期已关闭；其报表已变为只读。")
    period.refresh_from_db()
    assert period.state == PeriodState.CLOSED
    context.close()
