"""A reader opens the public ranking and a city profile in Chromium and sees the charts drawn."""
import pytest
from playwright.sync_api import expect

from tests.indices.reader_data import (
    GROUPS_2023,
    GROUPS_2024,
    make_run,
    reader_city,
    reader_methodology,
    reader_period,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def published_years(db):
    methodology = reader_methodology()
    for code in ("500000", "510100", "420100"):
        reader_city(code)
    make_run(reader_period(methodology, 2023), GROUPS_2023, published=True)
    return make_run(reader_period(methodology, 2024), GROUPS_2024, published=True)


def drawn_shapes(page, testid: str) -> int:
    """How many shapes ECharts drew inside the chart container's SVG."""
    chart = page.get_by_test_id(testid)
    expect(chart).to_have_attribute("data-rendered", "true")
    expect(chart.locator("svg").first).to_be_visible()
    return chart.locator("svg path, svg rect, svg circle, svg polyline").count()


def test_the_ranking_and_a_city_profile_render_with_charts(live_server, page, published_years):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_server.url}/rankings/")
    expect(page.locator("h1")).to_have_text("2024 年中国消费金融指数")
    expect(page.get_by_test_id("ranking-table").locator("tbody tr")).to_have_count(3)
    assert drawn_shapes(page, "ranking-chart") >= 3
    expect(page.get_by_test_id("ranking-chart").locator("svg")).to_contain_text("重庆")

    page.get_by_test_id("ranking-table").get_by_role("link", name="重庆").click()
    expect(page.get_by_test_id("city-name")).to_contain_text("重庆")
    expect(page.get_by_test_id("composite-rank")).to_have_text("1")
    assert drawn_shapes(page, "groups-chart") >= 2
    assert drawn_shapes(page, "history-chart") >= 2
    expect(page.get_by_test_id("groups-chart").locator("svg")).to_contain_text("组一")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_test_id("city-name")).to_contain_text("Chongqing")
    assert drawn_shapes(page, "groups-chart") >= 2
    expect(page.get_by_test_id("groups-chart").locator("svg")).to_contain_text("Group one")
    assert errors == []
