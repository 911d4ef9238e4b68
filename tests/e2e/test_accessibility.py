"""WCAG 2.1 AA, as far as a checker can tell: axe-core runs on every portal page of every role, in Chinese and in
English, and a violation of impact "serious" or "critical" fails the test.

The pages are those of the access matrix (tests/test_access_matrix.py: the URL patterns, the data that the URLs
name, and who may open what): each GET that answers the actor with a page, less POST-only actions, downloads,
the API and the probes, plus a handful of admin pages for the methodologist and the superuser. Each role logs in
through the login page, with the second factor for the roles that need one, in one browser context that is
reused for all its pages. axe's source is passed to ``page.evaluate`` (not subject to the Content-Security-Policy,
which refuses inline scripts).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.selectors import SECOND_FACTOR_ROLES
from indices.demo import DEMO_PASSWORD
from tests.test_access_matrix import ACTORS, EXPECTED, OK, PROV, SECR, USERNAMES, _build, _url, base_key, url_patterns

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING = {"serious", "critical"}
# Not pages: files the browser downloads.
DOWNLOADS = {"reporting:import_template", "reporting:evidence_download", "reporting:import_report",
             "indices:open_data_file", "reports:download", "reports:city"}
PROBES = {"healthz", "readyz", "metrics"}
ADMIN_PAGES = {"admin:index", "admin:app_list[methodology]", "admin:methodology_methodologyversion_changelist",
               "admin:methodology_methodologyversion_change", "admin:methodology_methodologyversion_diff",
               "admin:accounts_user_changelist", "admin:accounts_user_change"}
ADMIN_ACTORS = {"methodologist", "superuser"}
# The roles of the portal (the second filer sees the pages of the first).
ROLES = [actor for actor in ACTORS if actor != "otherfiler"]
# Addresses that redirect to another page of the list (the newest year's rankings, methodology, open data).
REDIRECTS = {"/rankings/", "/methodology/", "/open-data/", "/accounts/second-factor/"}
TOTP_KEY = "3132333435363738393031323334353637383930"

RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return results.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((node) => node.target.join(" ") + (node.failureSummary ? " — "
      + node.failureSummary.split("\\n").slice(1, 2).join("").trim() : ""))}));
}"""


def is_page(key: str, route: str, actor: str) -> bool:
    """A GET of the portal that shows a page (the access matrix decides whether to this actor): any route but
    the admin's (a chosen few), the API's, the probes and downloads."""
    name = base_key(key).split("#")[0]
    if key in ADMIN_PAGES or name in ADMIN_PAGES:
        return actor in ADMIN_ACTORS
    return not route.startswith(("admin/", "api/")) and name not in DOWNLOADS | PROBES


def pages_of(actor: str, world) -> list[tuple[str, str]]:
    """(address, kind of answer) of each page the actor opens; addresses that redirect to another listed
    page are left out."""
    patterns = {pattern.key: pattern for pattern in url_patterns()}
    column = ACTORS.index(actor)
    pages = []
    for (key, method), row in EXPECTED.items():
        pattern = patterns.get(base_key(key))
        if method != "GET" or pattern is None or row[column] not in (OK, PROV, SECR):
            continue
        if is_page(key, pattern.route, actor):
            pages.append((_url(key, pattern, world), row[column]))
    return [(url, kind) for url, kind in pages if url not in REDIRECTS]


def log_in(page, live_server, actor: str) -> None:
    """The login page, and for the roles that need it the second factor (a known authenticator key)."""
    username = USERNAMES[actor]
    user = get_user_model().objects.get(username=username)
    needs_code = user.is_superuser or any(user.has_role(role) for role in SECOND_FACTOR_ROLES)
    if needs_code:
        TOTPDevice.objects.create(user=user, name="axe", key=TOTP_KEY, confirmed=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    if needs_code:
        page.wait_for_url("**/second-factor/**")
        page.fill("#id_token", f"{totp(bytes.fromhex(TOTP_KEY)):06d}")
        page.locator("main form button[type=submit]").first.click()
    expect(page.get_by_test_id("welcome")).to_be_visible()


def audit(page, source: str, url: str) -> list[str]:
    response = page.goto(url)
    assert response is not None and response.status < 400, (url, response and response.status)
    if "<html" not in response.text()[:500]:
        return []  # an htmx fragment: audited inside the page that loads it
    # What htmx loads into the page on arrival (hx-trigger="load") is part of it.
    page.wait_for_function("!document.querySelector('[hx-trigger=load]:empty, .htmx-request')")
    # The charts draw after DOMContentLoaded: axe reads what a reader gets.
    for chart in page.locator("[data-chart]").all():
        expect(chart).to_have_attribute("data-rendered", "true")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    return [f"{url} [{page.locator('html').get_attribute('lang')}] {violation['impact']} {violation['id']} "
            f"({violation['help']}): " + "; ".join(violation["targets"][:8])
            for violation in page.evaluate(RUN_AXE, TAGS) if violation["impact"] in FAILING]


def test_every_page_of_every_role_passes_axe(live_server, browser, settings, tmp_path):
    """One browser context per role. A public page (same address, same kind of answer) is audited for the first
    role that has it; the home page, whose navigation differs by role, for each."""
    settings.MEDIA_ROOT = tmp_path
    world = _build()
    settings.OTP_REQUIRED = True
    source = AXE.read_text(encoding="utf-8")
    audited, violations = set(), []
    for actor in ROLES:
        pages = pages_of(actor, world)
        assert len(pages) >= 3, (actor, pages)
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            if actor != "anonymous":
                log_in(page, live_server, actor)
            for language in ("zh-hans", "en"):
                context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language,
                                      "url": live_server.url}])
                for url, kind in pages:
                    if (url, kind, language) in audited or (url.startswith("/admin/") and language == "en"):
                        continue  # the admin's markup does not change with the language: audited in Chinese
                    if url != "/":
                        audited.add((url, kind, language))
                    violations += [f"{actor}: {line}" for line in audit(page, source, f"{live_server.url}{url}")]
        finally:
            context.close()
    assert not violations, f"{len(violations)} serious or critical axe violations:\n" + "\n".join(violations)
