"""The other cities' values and last year's approved values are kept in the process between saves (reporting.
selectors.values): a kept reading is used only while the returns behind it are unchanged, so a submission, a
send-back, an approval or a new return shows at once."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import City
from reporting.selectors import (
    compared_values,
    peer_values,
    peer_values_by_city,
    previous_approved_values,
    previous_approved_values_for,
)
from reporting.services import CommentInput, return_approve, return_send_back, return_submit
from tests.reporting.conftest import approved_return, filled_return

pytestmark = pytest.mark.django_db


def test_the_peers_follow_every_submission_send_back_and_approval(submitted, period, values, filer_chengdu,
                                                                    city_chongqing, city_chengdu, reviewer):
    assert set(peer_values_by_city(period=period)) == {city_chongqing.pk}
    with CaptureQueriesContext(connection) as kept:
        again = peer_values_by_city(period=period, codes=["M1.1"])
    assert len(kept) == 1  # the fingerprint only
    assert again == {city_chongqing.pk: {"M1.1": values["500000"][2024]["M1.1"]}}

    chengdu = filled_return(period=period, filer=filer_chengdu, year_values=values["510100"][2024])
    assert set(peer_values_by_city(period=period)) == {city_chongqing.pk}  # a draft is nobody's peer
    return_submit(indicator_return=chengdu, actor=filer_chengdu)
    assert set(peer_values_by_city(period=period)) == {city_chongqing.pk, city_chengdu.pk}

    return_send_back(indicator_return=submitted, actor=reviewer,
                     comments=[CommentInput(text="请核对。", indicator_code="M1.1")])
    assert set(peer_values_by_city(period=period)) == {city_chengdu.pk}

    return_approve(indicator_return=chengdu, actor=reviewer)
    assert peer_values_by_city(period=period)[city_chengdu.pk]["M1.1"] == values["510100"][2024]["M1.1"]


def test_last_years_approved_values_follow_a_new_approved_return(last_year, period_2023, values, city_chongqing,
                                                                  city_chengdu):
    assert set(previous_approved_values_for(city_ids=[city_chongqing.pk, city_chengdu.pk], data_year=2024)) == {
        city_chongqing.pk, city_chengdu.pk}
    city = City.objects.create(code="440300", name_zh="深圳", name_en="Shenzhen", province_zh="广东省",
                               province_en="Guangdong")
    assert previous_approved_values_for(city_ids=[city.pk], data_year=2024) == {}

    approved_return(city=city, period=period_2023, year_values={"M1.1": 42})
    assert previous_approved_values_for(city_ids=[city.pk], data_year=2024) == {city.pk: {"M1.1": 42}}


def test_a_reading_given_out_cannot_change_the_kept_one(last_year, city_chongqing):
    first = previous_approved_values_for(city_ids=[city_chongqing.pk], data_year=2024)
    first[city_chongqing.pk].clear()
    assert previous_approved_values_for(city_ids=[city_chongqing.pk], data_year=2024)[city_chongqing.pk]


def test_a_save_compares_with_both_readings_checked_in_one_query(draft, period, values, filer_chengdu, reviewer):
    """A value save asks for last year's approved values and the other cities' values together."""
    chengdu = filled_return(period=period, filer=filer_chengdu, year_values=values["510100"][2024])
    return_submit(indicator_return=chengdu, actor=filer_chengdu)
    compared_values(indicator_return=draft)
    with CaptureQueriesContext(connection) as kept:
        previous, peers = compared_values(indicator_return=draft, codes=["M1.1", "M2.1"])
    assert len(kept) == 1  # the two fingerprints, nothing else
    assert previous == previous_approved_values(indicator_return=draft)
    assert previous["M1.1"] == values["500000"][2023]["M1.1"]
    assert peers == peer_values(period=period, exclude_city_id=draft.city_id, codes=["M1.1", "M2.1"])
    assert peers["M1.1"] == [values["510100"][2024]["M1.1"]]  # Chengdu's, not Chongqing's own

    return_send_back(indicator_return=chengdu, actor=reviewer,
                     comments=[CommentInput(text="请核对。", indicator_code="M1.1")])
    assert compared_values(indicator_return=draft, codes=["M1.1"])[1] == {}
