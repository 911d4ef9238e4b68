"""The explanation box comes with the warning (issue 13): the filer types a value that warns, the box
appears without a reload, she explains and submits once, successfully."""
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from reporting.models import ReturnState
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


def test_the_box_appears_with_the_warning_and_one_submit_is_enough(live_server, browser, draft,  # noqa: F811
                                                                    filer_chongqing):
    context, filer = log_in(browser, live_server, "filer-chongqing")
    filer.goto(f"{live_server.url}/returns/{draft.pk}/")
    filer.get_by_test_id("section-M").locator("summary").click()
    expect(filer.locator("#explanation-M4_1")).to_have_count(0)
    filer.evaluate("window.loadedOnce = true")  # gone if the page reloads

    field = filer.locator("#value-M4_1")
    field.fill("5")
    field.blur()
    expect(filer.get_by_test_id("findings-M4_1")).to_contain_text("高于通常上限 4 %")
    box = filer.locator("#explanation-M4_1")
    expect(box).to_be_visible()
    assert filer.evaluate("window.loadedOnce") is True
    box.fill("2024 年末集中核销前的口径，已附监管报表。")
    # Corrected once more: the new finding comes, the explanation being written stays.
    field.fill("4.5")
    field.blur()
    expect(filer.get_by_test_id("findings-M4_1")).to_contain_text("M4.1：4.5 高于通常上限 4 %")
    expect(box).to_have_value("2024 年末集中核销前的口径，已附监管报表。")

    filer.get_by_test_id("submit").click()
    expect(filer.locator(".messages")).to_contain_text("报表已报送指数秘书处。")
    expect(filer.get_by_test_id("return-state")).to_have_text("已报送")
    draft.refresh_from_db()
    assert draft.state == ReturnState.SUBMITTED
    value = draft.values.get(indicator__code="M4.1")
    assert value.value == Decimal("4.5") and value.explanation.startswith("2024 年末集中核销前")
    context.close()
