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


def test_a_reviewer_sets_up_the_second_factor_by_typing_the_key(live_server, page, reviewer, settings):
    """The key as shown on the page is all an authenticator app needs: the code computed from it logs in."""
    from base64 import b32decode

    from django_otp.oath import totp

    settings.OTP_REQUIRED = True
    page.goto(f"{live_server.url}/accounts/login/?next=/review/")
    page.fill("#id_username", "reviewer")
    page.fill("#id_password", "Ccfi-test-2025")
    page.locator("main").get_by_role("button", name="登录").click()

    expect(page.locator("h1")).to_have_text("双因素验证")
    expect(page.get_by_test_id("second-factor-qr").locator("svg")).to_be_visible()
    key = b32decode(page.get_by_test_id("second-factor-secret").inner_text().replace(" ", ""))
    page.fill("#id_token", f"{totp(key):06d}")
    page.get_by_role("button", name="确认").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.get_by_test_id("recovery-continue").click()

    expect(page).to_have_url(re.compile(r"/review/$"))
    expect(page.get_by_test_id("nav-review")).to_be_visible()
