"""The inbox in Chromium: a filer submits from their home page; the reviewer's home page and menu show the unread
notice with a badge; the reviewer opens it, lands on the return's review page, and the notice is read."""
import re

import pytest
from playwright.sync_api import expect

from reporting.models import Notification
from tests.e2e.test_filing_journey import log_in
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


def test_the_reviewer_reads_the_notice_of_a_submission(live_server, browser, draft, filer_chongqing,  # noqa: F811
                                                      reviewer):
    # The filer's home page says what to do next and opens the return.
    filer_context, filer = log_in(browser, live_server, "filer-chongqing")
    expect(filer.get_by_test_id("step-2024")).to_contain_text("草稿：请填完数值后报送")
    expect(filer.get_by_test_id("due-2024")).to_contain_text("距截止还有 30 天")
    filer.get_by_test_id("open-2024").click()
    filer.get_by_test_id("submit").click()
    expect(filer.get_by_test_id("return-state")).to_have_text("已报送")
    filer.goto(f"{live_server.url}/")
    expect(filer.get_by_test_id("step-2024")).to_contain_text("已报送，等待审核")

    # The reviewer's home page: the queue's count, the unread notice, the badge in the menu.
    reviewer_context, review = log_in(browser, live_server, "reviewer")
    expect(review.get_by_test_id("home-queue")).to_contain_text("1")
    expect(review.get_by_test_id("inbox-badge")).to_have_text("1")
    unread = review.get_by_test_id("home-unread")
    expect(unread).to_contain_text("重庆已报送 2024 年度报表")

    # Opening it from the inbox leads to the return's review page and marks it read.
    review.get_by_test_id("nav-inbox").click()
    expect(review.get_by_test_id("notice-unread")).to_have_count(1)
    review.get_by_role("link", name="重庆已报送 2024 年度报表").click()
    expect(review).to_have_url(re.compile(rf"/review/{draft.pk}/$"))
    expect(review.get_by_test_id("inbox-badge")).to_have_count(0)
    review.get_by_test_id("nav-inbox").click()
    expect(review.get_by_test_id("notice-unread")).to_have_count(0)
    assert Notification.objects.get(recipient=reviewer).read_at is not None
    filer_context.close()
    reviewer_context.close()
