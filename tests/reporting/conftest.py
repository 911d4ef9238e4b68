"""Fixtures of the filing and review tests: the real default methodology, two periods, and the
demo's illustrative values for Chongqing and Chengdu (valid, within every bound and rule)."""
import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from indices.demo import demo_methodology_path, demo_values
from methodology.services import methodology_import, methodology_publish
from reporting.models import (
    IndicatorReturn,
    ObservationStatus,
    PeriodState,
    ReportingPeriod,
    ReturnState,
    ReturnValue,
)
from reporting.selectors import period_spec
from reporting.services import ValueEntry, return_start, return_values_save


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded evidence and import files go to a temporary folder, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ccfi(db):
    version = methodology_import(text=demo_methodology_path().read_text(encoding="utf-8"), actor=None)
    return methodology_publish(version=version, actor=None)


@pytest.fixture
def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def period_2023(ccfi) -> ReportingPeriod:
    return ReportingPeriod.objects.create(data_year=2023, opens_on=datetime.date(2024, 1, 15),
                                          due_on=datetime.date(2024, 3, 31), state=PeriodState.CLOSED,
                                          methodology=ccfi)


@pytest.fixture
def period(ccfi, period_2023, today) -> ReportingPeriod:
    """The open period: due in 30 days, locked in 60."""
    return ReportingPeriod.objects.create(data_year=2024, opens_on=today - datetime.timedelta(days=30),
                                          due_on=today + datetime.timedelta(days=30),
                                          locks_on=today + datetime.timedelta(days=60), methodology=ccfi)


@pytest.fixture
def values(ccfi) -> dict:
    """{city code: {year: {code: Decimal}}} from the demo generator."""
    return demo_values(methodology=period_spec(period=ReportingPeriod(methodology=ccfi)))


def approved_return(*, city, period, year_values: dict) -> IndicatorReturn:
    indicator_return = IndicatorReturn.objects.create(city=city, period=period, state=ReturnState.APPROVED,
                                                      submitted_at=timezone.now(), approved_at=timezone.now())
    indicators = {indicator.code: indicator for indicator in period.methodology.indicators.all()}
    ReturnValue.objects.bulk_create([
        ReturnValue(indicator_return=indicator_return, indicator=indicators[code], value=value,
                    observation_status=ObservationStatus.FINAL, source_note="统计年鉴")
        for code, value in year_values.items()])
    return indicator_return


@pytest.fixture
def last_year(period_2023, values, city_chongqing, city_chengdu):
    """Approved 2023 returns of both cities."""
    return {
        city.code: approved_return(city=city, period=period_2023, year_values=values[city.code][2023])
        for city in (city_chongqing, city_chengdu)
    }


def entries(year_values: dict, **overrides) -> dict[str, ValueEntry]:
    merged = {code: str(value) for code, value in year_values.items()} | overrides
    return {code: ValueEntry(value=value, source_note="统计年鉴 表 3-1") for code, value in merged.items()}


def filled_return(*, period, filer, year_values: dict, **overrides) -> IndicatorReturn:
    indicator_return = return_start(period=period, city=filer.city, actor=filer)
    return_values_save(indicator_return=indicator_return, actor=filer, entries=entries(year_values, **overrides),
                       expected_version=None)
    indicator_return.refresh_from_db()
    return indicator_return


@pytest.fixture
def draft(period, last_year, filer_chongqing, values) -> IndicatorReturn:
    """Chongqing's 2024 return with every value filled in, nothing flagged."""
    return filled_return(period=period, filer=filer_chongqing, year_values=values["500000"][2024])


@pytest.fixture
def submitted(draft, filer_chongqing) -> IndicatorReturn:
    from reporting.services import return_submit

    return return_submit(indicator_return=draft, actor=filer_chongqing)


D = Decimal
