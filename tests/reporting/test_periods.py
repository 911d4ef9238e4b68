"""The secretariat's reporting periods: opening one creates every city's return, closing one archives it."""
import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from reporting.models import IndicatorReturn, PeriodPhase, PeriodState, ReportingPeriod, ReturnState, ReturnValue
from reporting.selectors import PERIOD_CLOSED
from reporting.services import (
    PERIOD_MANAGERS_ONLY,
    PeriodOpening,
    WorkflowError,
    period_close,
    period_open,
    return_start,
    return_submit,
    return_values_save,
)
from tests.reporting.conftest import approved_return, entries

pytestmark = pytest.mark.django_db


def opening(ccfi, today, **overrides) -> PeriodOpening:
    fields = {"data_year": today.year - 1, "opens_on": today, "due_on": today + datetime.timedelta(days=30),
              "locks_on": today + datetime.timedelta(days=60), "methodology": ccfi} | overrides
    return PeriodOpening(**fields)


@pytest.fixture
def opened(ccfi, today, reviewer, city_chongqing, city_chengdu) -> ReportingPeriod:
    return period_open(opening=opening(ccfi, today), actor=reviewer, ip_address="10.0.0.7")


def test_opening_a_period_creates_every_citys_empty_draft(opened, reviewer, ccfi):
    assert opened.state == PeriodState.OPEN and opened.phase == PeriodPhase.OPEN
    returns = IndicatorReturn.objects.filter(period=opened)
    assert sorted(returns.values_list("city__code", "state", "revision")) == [
        ("500000", ReturnState.DRAFT, 1), ("510100", ReturnState.DRAFT, 1)]
    indicators = ccfi.indicators.count()
    assert ReturnValue.objects.filter(indicator_return__period=opened).count() == 2 * indicators
    assert not ReturnValue.objects.filter(indicator_return__period=opened, value__isnull=False).exists()
    event = AuditEvent.objects.get(event_type="period.open")
    assert event.actor == reviewer and event.ip_address == "10.0.0.7"
    assert event.details["data_year"] == opened.data_year and event.details["returns"] == 2


def test_a_filer_finds_the_draft_waiting(opened, filer_chongqing):
    """return_start gives the city the draft the opening made, not a second one."""
    draft = return_start(period=opened, city=filer_chongqing.city, actor=filer_chongqing)
    assert draft.revision == 1 and IndicatorReturn.objects.filter(period=opened, city=filer_chongqing.city).count() == 1


def test_opening_refuses_a_year_already_there_and_dates_out_of_order(opened, ccfi, today, reviewer):
    with pytest.raises(WorkflowError) as taken:
        period_open(opening=opening(ccfi, today, data_year=opened.data_year), actor=reviewer)
    assert taken.value.message_dict == {"data_year": [f"数据年度 {opened.data_year} 的报送期已存在。"]}
    with pytest.raises(ValidationError) as disordered:
        period_open(opening=opening(ccfi, today, data_year=opened.data_year + 1,
                                    locks_on=today + datetime.timedelta(days=10)), actor=reviewer)
    assert disordered.value.message_dict == {"locks_on": ["锁定日不能早于报送截止日。"]}
    assert ReportingPeriod.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="period.open").count() == 1


@pytest.mark.parametrize("who", ["filer_chongqing", "methodologist", "security_admin", "audit_admin"])
def test_only_the_secretariat_opens_and_closes_periods(request, who, ccfi, today, opened):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied, match=str(PERIOD_MANAGERS_ONLY)):
        period_open(opening=opening(ccfi, today, data_year=opened.data_year + 1), actor=actor)
    with pytest.raises(PermissionDenied):
        period_close(period=opened, actor=actor, confirmed=True)
    opened.refresh_from_db()
    assert opened.state == PeriodState.OPEN


def test_closing_with_unapproved_returns_needs_confirmation(opened, reviewer):
    with pytest.raises(WorkflowError) as refused:
        period_close(period=opened, actor=reviewer)
    assert refused.value.code == "not_all_approved" and "有 2 个城市尚无已批准的报表" in refused.value.messages[0]
    opened.refresh_from_db()
    assert opened.state == PeriodState.OPEN

    period_close(period=opened, actor=reviewer, confirmed=True)
    opened.refresh_from_db()
    assert opened.state == PeriodState.CLOSED and opened.phase == PeriodPhase.CLOSED
    event = AuditEvent.objects.get(event_type="period.close")
    assert event.details["confirmed"] is True and event.details["unapproved_cities"] == ["500000", "510100"]
    with pytest.raises(WorkflowError, match=str(PERIOD_CLOSED)):
        period_close(period=opened, actor=reviewer, confirmed=True)


def test_a_closed_period_is_read_only(opened, reviewer, filer_chongqing, values):
    draft = IndicatorReturn.objects.get(period=opened, city=filer_chongqing.city)
    period_close(period=opened, actor=reviewer, confirmed=True)
    draft.refresh_from_db()
    with pytest.raises(WorkflowError, match=str(PERIOD_CLOSED)):
        return_values_save(indicator_return=draft, actor=filer_chongqing, expected_version=None,
                           entries=entries(values["500000"][2024]))
    with pytest.raises(WorkflowError, match=str(PERIOD_CLOSED)):
        return_submit(indicator_return=draft, actor=filer_chongqing)
    assert not ReturnValue.objects.filter(indicator_return=draft, value__isnull=False).exists()


def test_a_period_whose_returns_are_all_approved_closes_at_once(period, reviewer, values, city_chongqing,
                                                                city_chengdu):
    for city in (city_chongqing, city_chengdu):
        approved_return(city=city, period=period, year_values=values[city.code][2024])
    period_close(period=period, actor=reviewer)
    period.refresh_from_db()
    assert period.state == PeriodState.CLOSED
    assert AuditEvent.objects.get(event_type="period.close").details == {
        "data_year": 2024, "confirmed": False, "unapproved_cities": []}


# The page.

def test_the_page_lists_periods_by_phase_and_opens_one(client, reviewer, period, ccfi, today, city_chongqing):
    client.force_login(reviewer)
    page = client.get(reverse("reporting:periods")).content.decode()
    assert 'data-testid="phase-2024">填报中<' in page and 'data-testid="phase-2023">已关闭<' in page
    assert 'name="data_year" value="2025"' in page  # the year after the latest
    assert 'data-testid="close-2024"' in page and 'data-testid="close-2023"' not in page

    response = client.post(reverse("reporting:periods"), {
        "data_year": 2025, "opens_on": today.isoformat(), "due_on": (today + datetime.timedelta(days=20)).isoformat(),
        "locks_on": (today + datetime.timedelta(days=40)).isoformat(), "methodology": ccfi.pk})
    assert response.status_code == 302
    created = ReportingPeriod.objects.get(data_year=2025)
    assert IndicatorReturn.objects.filter(period=created, city=city_chongqing, state=ReturnState.DRAFT).exists()


def test_the_page_says_what_is_wrong_in_chinese(client, reviewer, period, ccfi, today):
    client.force_login(reviewer)
    response = client.post(reverse("reporting:periods"), {
        "data_year": 2024, "opens_on": today.isoformat(), "due_on": today.isoformat(), "methodology": ccfi.pk})
    assert response.status_code == 400
    assert "数据年度 2024 的报送期已存在。" in response.content.decode()
    response = client.post(reverse("reporting:periods"), {
        "data_year": 2025, "opens_on": today.isoformat(), "due_on": (today + datetime.timedelta(days=9)).isoformat(),
        "locks_on": (today + datetime.timedelta(days=3)).isoformat(), "methodology": ccfi.pk})
    assert response.status_code == 400 and "锁定日不能早于报送截止日。" in response.content.decode()
    assert ReportingPeriod.objects.count() == 2


def test_closing_from_the_page(client, reviewer, opened):
    client.force_login(reviewer)
    close = reverse("reporting:period_close", args=[opened.pk])
    refused = client.post(close, follow=True).content.decode()
    assert "请确认" in refused
    opened.refresh_from_db()
    assert opened.state == PeriodState.OPEN
    assert AuditEvent.objects.filter(event_type="action.refused", details__codes=["not_all_approved"]).exists()
    closed = client.post(close, {"confirm": "1"}, follow=True).content.decode()
    opened.refresh_from_db()
    assert opened.state == PeriodState.CLOSED and "已归档，只读" in closed


def test_the_menu_offers_the_page_to_the_secretariat_only(client, reviewer, filer_chongqing):
    client.force_login(reviewer)
    assert 'data-testid="nav-periods"' in client.get(reverse("home")).content.decode()
    client.force_login(filer_chongqing)
    assert 'data-testid="nav-periods"' not in client.get(reverse("home")).content.decode()
    assert client.get(reverse("reporting:periods")).status_code == 403


def test_the_home_page_shows_each_periods_phase(client, period):
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="phase-2024">填报中<' in page and 'data-testid="phase-2023">已关闭<' in page
