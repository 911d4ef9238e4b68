"""The methodology version page on a 1366 px screen (issue 13): short, folded, nothing cut off."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from methodology.services import methodology_clone
from tests.e2e.test_filing_journey import log_in
from tests.reporting.conftest import ccfi  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_version_page_fits_a_1366_px_screen(live_server, browser, methodologist, ccfi):  # noqa: F811
    draft = methodology_clone(version=ccfi, actor=None, new_version="2025.2")
    context, page = log_in(browser, live_server, "methodologist")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(live_server.url + reverse("admin:methodology_methodologyversion_change", args=[draft.pk]))
    expect(page.get_by_test_id("effective-M")).to_have_text("33.33%")
    width = "document.documentElement.scrollWidth"
    assert page.evaluate(width) <= 1366
    assert page.evaluate("document.documentElement.scrollHeight") < 3000  # was over 10,000 px

    # A group opens on a click (details/summary), its indicators in tree order.
    page.locator("details[data-code='M1'] > summary").click()
    expect(page.get_by_test_id("effective-M1.1")).to_be_visible()

    # The indicator table opens and scrolls inside the page instead of being cut off at the screen's edge.
    page.locator("#indicators-group summary").click()
    table = page.locator("#indicators-group table")
    expect(table).to_be_visible()
    assert page.evaluate(width) <= 1366
    fieldset = page.locator("#indicators-group fieldset.module")
    assert fieldset.evaluate("element => element.scrollWidth > element.clientWidth")  # scrolls
    page.screenshot(path="/tmp/htmxadmin_version_page.png", full_page=False)
    context.close()
