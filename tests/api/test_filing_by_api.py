"""The issue's test: a city's system files a complete return through the API alone, with a personal token,
and a reviewer's system approves it; the index is then recomputed with the city's score (Celery runs eagerly)."""
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tokens import api_token_create
from indices.demo import demo_load
from indices.models import IndexRun, RunState, Score
from reporting.models import IndicatorReturn, ReturnState

pytestmark = pytest.mark.django_db
FILING_YEAR = 2025  # the demo's period open for filing: every city's return an empty draft


class Api:
    """Requests as a system sends them: a bearer token, JSON, no session, no CSRF token."""

    def __init__(self, token: str):
        self.client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {token}")

    def call(self, method: str, path: str, body=None, expect=HTTPStatus.OK) -> dict:
        response = getattr(self.client, method)(path, body, content_type="application/json")
        assert response.status_code == expect, response.content.decode()
        return response.json()


def file_return(api: Api, city: str) -> int:
    """File the city's return for the open year with last year's approved values, as its system would."""
    approved = api.call("get", f"/api/v1/returns/?period__data_year={FILING_YEAR - 1}&state=approved")["results"]
    assert [item["city"] for item in approved] == [city]  # its own city's only
    last_year = api.call("get", f"/api/v1/returns/{approved[0]['id']}/")["values"]
    given = {item["code"]: {"value": item["value"], "observation_status": item["observation_status"],
                            "source_note": item["source_note"] or "市统计局"}
             for item in last_year if item["value"] is not None}
    assert len(given) >= 10

    started = api.call("post", "/api/v1/returns/", {"data_year": FILING_YEAR}, expect=HTTPStatus.CREATED)
    assert started["state"] == ReturnState.DRAFT and started["city"] == city
    assert api.call("post", "/api/v1/returns/", {"data_year": FILING_YEAR}, expect=HTTPStatus.CREATED)["id"] \
        == started["id"]  # the open return again, not a second one
    saved = api.call("patch", f"/api/v1/returns/{started['id']}/values/",
                     {"edit_version": started["edit_version"], "values": given})
    assert saved["rejected"] == [] and saved["changed"] >= len(given)  # fields changed: values, sources
    warned = sorted({finding["code"] for finding in saved["findings"] if finding["severity"] == "warning"})
    if warned:  # every warning explained, as the submission requires
        saved = api.call("patch", f"/api/v1/returns/{started['id']}/values/", {
            "edit_version": saved["edit_version"],
            "values": {code: {"explanation": "与上年数据一致（接口测试）。"} for code in warned}})
    assert api.call("post", f"/api/v1/returns/{started['id']}/submit/")["state"] == ReturnState.SUBMITTED
    stored = IndicatorReturn.objects.get(pk=started["id"]).values.filter(value__isnull=False)
    assert set(stored.values_list("indicator__code", flat=True)) == given.keys()
    return started["id"]


def test_cities_file_complete_returns_through_the_api_with_tokens(client, django_capture_on_commit_callbacks):
    demo_load()
    client.force_login(User.objects.get(username="filer-chongqing"))  # in a browser: the token, once
    page = client.post(reverse("api_tokens"), {"name": "重庆市财政局报送系统", "days": 90}).content.decode()
    chongqing = Api(page.split('data-testid="token-secret">')[1].split("<")[0])
    client.logout()
    chengdu = Api(api_token_create(user=User.objects.get(username="filer-chengdu"), name="成都系统",
                                   verified=False).secret)
    filed = [file_return(chongqing, "500000"), file_return(chengdu, "510100")]

    reviewer = Api(api_token_create(user=User.objects.get(username="reviewer"), name="审核系统",
                                    verified=False).secret)
    chongqing.call("post", f"/api/v1/returns/{filed[0]}/approve/", expect=HTTPStatus.FORBIDDEN)  # not a filer's
    with django_capture_on_commit_callbacks(execute=True):
        for pk in filed:
            assert reviewer.call("post", f"/api/v1/returns/{pk}/approve/")["state"] == ReturnState.APPROVED

    run = IndexRun.objects.filter(period__data_year=FILING_YEAR).latest("id")
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.units == 2 and run.is_provisional  # noqa: PLR2004  (two of the demo's cities filed 2025)
    scores = dict(Score.objects.filter(run=run, level=0).values_list("city__code", "value"))
    assert scores.keys() == {"500000", "510100"} and None not in scores.values(), scores
    assert reviewer.call("get", f"/api/v1/runs/{run.pk}/", expect=HTTPStatus.NOT_FOUND)  # provisional: not served
