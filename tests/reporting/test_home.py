"""The front page: Chinese first, English on request, illustrative data labelled."""
import datetime
from http import HTTPStatus

import pytest

from methodology.services import methodology_publish
from reporting.models import IndicatorReturn, ReportingPeriod, ReturnState

pytestmark = pytest.mark.django_db


@pytest.fixture
def period_2024(draft_methodology):
    methodology_publish(version=draft_methodology, actor=None)
    return ReportingPeriod.objects.create(data_year=2024, opens_on=datetime.date(2025, 1, 15),
                                          due_on=datetime.date(2025, 3, 31), methodology=draft_methodology)


def test_it_is_chinese_even_for_an_english_browser(client, period_2024):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == HTTPStatus.OK
    assert '<html lang="zh-hans">' in response.content.decode()
    assert "中国消费金融指数" in response.content.decode()


def test_the_switch_gives_english(client, period_2024):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    content = client.get("/").content.decode()
    assert '<html lang="en">' in content
    assert "Reporting periods" in content


def test_illustrative_returns_are_labelled(client, period_2024, city_chongqing):
    IndicatorReturn.objects.create(city=city_chongqing, period=period_2024, state=ReturnState.APPROVED,
                                   is_illustrative=True)
    content = client.get("/").content.decode()
    assert "示例数据" in content


def test_real_returns_are_not_labelled(client, period_2024, city_chongqing):
    IndicatorReturn.objects.create(city=city_chongqing, period=period_2024, state=ReturnState.APPROVED)
    assert "示例数据" not in client.get("/").content.decode()
