"""A filer logs in through the real login page and sees the home page."""
import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_logs_in_through_the_login_page(live_server, page, filer_chongqing):
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text("登录")

    page.fill("#id_username", "filer-chongqing")
    page.fill("#id_password", "Ccfi-test-2025")
    page.locator("main").get_by_role("button", name="登录").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/$"))
    expect(page.get_by_test_id("welcome")).to_contain_text("filer-chongqing")
    expect(page.get_by_test_id("current-user")).to_contain_text("重庆")

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("China Consumer Finance Index")
    expect(page.get_by_test_id("current-user")).to_contain_text("Chongqing")


def test_a_wrong_password_is_refused_with_a_message(live_server, page, filer_chongqing):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "filer-chongqing")
    page.fill("#id_password", "not-the-password")
    page.locator("main").get_by_role("button", name="登录").click()

    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_test_id("welcome")).to_have_count(0)
