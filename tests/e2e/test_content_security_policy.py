"""The Content-Security-Policy in Chromium: the key pages work under it and the browser reports no violation.

Chromium raises a `securitypolicyviolation` event (and a console error) for every script, style element,
style attribute or handler the policy refuses; the init script below records the events before any page
script runs, so a refused inline style in a template, a <style> element htmx adds or an attribute a chart
library writes all fail the test.
"""
import pytest
from playwright.sync_api import expect

from accounts.models import User
from methodology.models import MethodologyVersion
from tests.indices.reader_data import GROUPS_2024, make_run, reader_city, reader_methodology, reader_period
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
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline") + " on "
                              + (event.target && event.target.nodeName) + " at "
                              + event.sourceFile + ":" + event.lineNumber);
});
"""


class Watcher:
    """A browser context whose pages record CSP violations (events and console errors) and page errors."""

    def __init__(self, browser):
        self.context = browser.new_context(locale="en-US")
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.console: list[str] = []
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.on("console", lambda message: message.type == "error" and self.console.append(message.text))
        self.page.on("pageerror", lambda error: self.console.append(str(error)))

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, (url, policy)

    def assert_clean(self, where: str) -> None:
        violations = self.page.evaluate("window.__cspViolations")
        assert violations == [], (where, sorted(set(violations)))
        assert [text for text in self.console if "Content Security Policy" in text or "Refused" in text] == [], \
            (where, self.console)

    def log_in(self, live_server, username: str) -> None:
        self.visit(f"{live_server.url}/accounts/login/")
        self.assert_clean("login")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.locator("main").get_by_role("button", name="登录").click()
        expect(self.page.get_by_test_id("welcome")).to_be_visible()
        self.assert_clean("home, logged in")


def test_reader_pages_with_their_charts_raise_no_violation(live_server, browser):
    methodology = reader_methodology()
    for code in ("500000", "510100", "420100"):
        reader_city(code)
    make_run(reader_period(methodology, 2024), GROUPS_2024, published=True)
    watcher = Watcher(browser)
    page = watcher.page

    watcher.visit(f"{live_server.url}/")
    watcher.assert_clean("home")
    watcher.visit(f"{live_server.url}/rankings/")
    chart = page.get_by_test_id("ranking-chart")
    expect(chart).to_have_attribute("data-rendered", "true")
    expect(chart.locator("svg")).to_contain_text("重庆")
    chart.hover()  # the tooltip: ECharts adds an element and styles it
    watcher.assert_clean("rankings")

    page.get_by_test_id("ranking-table").get_by_role("link", name="重庆").click()
    expect(page.get_by_test_id("groups-chart")).to_have_attribute("data-rendered", "true")
    expect(page.get_by_test_id("history-chart")).to_have_attribute("data-rendered", "true")
    watcher.assert_clean("city profile")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_test_id("city-name")).to_contain_text("Chongqing")
    watcher.assert_clean("city profile, English")

    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response.status == 404
    expect(page.get_by_test_id("error-title")).to_have_text("Page not found")
    watcher.assert_clean("404 page")
    watcher.context.close()


def test_the_return_form_with_htmx_the_board_and_the_admin_raise_no_violation(live_server, browser, draft,  # noqa: F811
                                                                              reviewer):
    filer = Watcher(browser)
    filer.log_in(live_server, "filer-chongqing")
    page = filer.page
    page.get_by_test_id("nav-returns").click()
    expect(page.locator("progress.completeness").first).to_be_visible()
    filer.assert_clean("dashboard")
    page.get_by_role("link", name="继续填报").click()
    expect(page.get_by_test_id("completeness")).to_have_text("36/36")
    page.get_by_test_id("section-M").locator("summary").click()
    field = page.locator("#value-M4_1")
    field.fill("35")
    field.blur()  # htmx posts the value and swaps in the findings
    expect(page.get_by_test_id("findings-M4_1")).to_contain_text("M4.1：35")
    filer.assert_clean("return form, after an htmx swap")
    filer.context.close()

    board = Watcher(browser)
    board.log_in(live_server, "reviewer")
    board.visit(f"{live_server.url}/review/board/")
    select = board.page.locator("#board-period")
    select.select_option(index=0)  # submitted by static/js/portal.js, not by an inline handler
    board.page.wait_for_url("**/review/board/?period=*")
    board.assert_clean("completeness board")
    board.context.close()

    User.objects.create_superuser(username="root-admin", password=PASSWORD)
    admin = Watcher(browser)
    admin.visit(f"{live_server.url}/admin/login/")
    admin.page.fill("#id_username", "root-admin")
    admin.page.fill("#id_password", PASSWORD)
    admin.page.locator("input[type=submit]").click()
    expect(admin.page.locator("#site-name")).to_be_visible()
    admin.assert_clean("admin index")
    version, filer_user = MethodologyVersion.objects.get(), User.objects.get(username="filer-chongqing")
    for path in (f"/admin/methodology/methodologyversion/{version.pk}/change/",
                 f"/admin/methodology/methodologyversion/diff/?new={version.pk}",
                 "/admin/accounts/user/", "/admin/accounts/user/add/", f"/admin/accounts/user/{filer_user.pk}/change/"):
        admin.visit(f"{live_server.url}{path}")
        expect(admin.page.locator("#content")).to_be_visible()
        admin.assert_clean(path)
    admin.context.close()


def test_the_api_documentation_pages_raise_no_violation(live_server, browser):
    """Swagger UI (its init script loaded from a URL) and ReDoc render the schema under the portal's policy;
    ReDoc's page allows the inline styles it writes, never an inline script. The one refusal wanted: the
    "powered by" logo ReDoc's bundle fetches from its CDN (no request leaves the portal; ReDoc then drops it)."""
    reader_city("500000")
    watcher = Watcher(browser)
    page = watcher.page
    watcher.visit(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .information-container .title")).to_contain_text("CCFI Portal API")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/returns/").first).to_be_visible()
    expect(page.locator(".btn.authorize")).to_be_visible()  # the bearer token can be entered
    watcher.assert_clean("Swagger UI")

    response = page.goto(f"{live_server.url}/api/redoc/")
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self';" in policy + ";" and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    expect(page.locator("h1", has_text="CCFI Portal API")).to_be_visible()
    expect(page.get_by_text("bearerAuth").first).to_be_attached()
    violations = set(page.evaluate("window.__cspViolations"))
    assert violations <= {"img-src https://cdn.redoc.ly/redoc/logo-mini.svg on #document at :0"}, violations
    refused = [text for text in watcher.console if "Content Security Policy" in text or "Refused" in text]
    assert all("cdn.redoc.ly/redoc/logo-mini.svg" in text for text in refused), refused
