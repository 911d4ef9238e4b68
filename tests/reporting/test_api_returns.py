"""The returns API: the same city scoping and the same services as the pages."""
from http import HTTPStatus

import pytest

from reporting.models import ReturnState, ValueChange

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def test_a_filer_lists_and_reads_only_its_citys_returns(client, draft, filer_chongqing, filer_chengdu):
    client.force_login(filer_chongqing)
    assert {item["city"] for item in client.get("/api/v1/returns/").json()["results"]} == {"500000"}
    assert len(client.get("/api/v1/returns/?period__data_year=2024").json()["results"]) == 1
    detail = client.get(f"/api/v1/returns/{draft.pk}/").json()
    assert {value["code"]: value["value"] for value in detail["values"]}["M2.1"] == "8922.53"
    client.force_login(filer_chengdu)
    assert {item["city"] for item in client.get("/api/v1/returns/").json()["results"]} == {"510100"}
    assert client.get(f"/api/v1/returns/{draft.pk}/").status_code == HTTPStatus.NOT_FOUND
    assert client.patch(f"/api/v1/returns/{draft.pk}/values/", {"edit_version": 1, "values": {}},
                        content_type="application/json").status_code == HTTPStatus.NOT_FOUND
    assert client.post(f"/api/v1/returns/{draft.pk}/submit/").status_code == HTTPStatus.NOT_FOUND


def test_values_saved_through_the_api_are_validated_and_recorded(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    response = client.patch(f"/api/v1/returns/{draft.pk}/values/", {
        "edit_version": draft.edit_version,
        "values": {"M1.1": {"value": "84"}, "M4.1": {"value": "35"}}}, content_type="application/json")
    body = response.json()
    assert response.status_code == HTTPStatus.OK
    assert body["changed"] == 1 and body["rejected"] == ["M4.1"]
    assert "above the highest possible value 30" in body["findings"][0]["message"]
    assert ValueChange.objects.get(new="84").channel == "api"

    stale = client.patch(f"/api/v1/returns/{draft.pk}/values/", {
        "edit_version": draft.edit_version, "values": {"M1.1": {"value": "85"}}}, content_type="application/json")
    assert stale.status_code == HTTPStatus.CONFLICT
    assert stale.json()["changes"][0]["code"] == "M1.1"


def test_submit_through_the_api(client, draft, filer_chongqing, reviewer):
    client.force_login(reviewer)
    assert client.post(f"/api/v1/returns/{draft.pk}/submit/").status_code == HTTPStatus.FORBIDDEN
    client.force_login(filer_chongqing)
    response = client.post(f"/api/v1/returns/{draft.pk}/submit/")
    assert response.status_code == HTTPStatus.OK and response.json()["state"] == ReturnState.SUBMITTED
    assert client.post(f"/api/v1/returns/{draft.pk}/submit/").status_code == HTTPStatus.BAD_REQUEST
