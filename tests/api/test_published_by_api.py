"""Issue 14's whole loop through the API alone, with personal tokens, on the demo's complete 2024 data: a city's
system amends its approved return (a value, an explanation, one evidence file) and submits it; a reviewer's
system approves it; the approval recomputes the year (Celery eagerly); the methodologist's system publishes the
new run; the public scores then carry the amended value's effect."""
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from indices.demo import demo_index_ensure, demo_load
from indices.models import IndexRun, RunState, Score
from reporting.models import ReturnState
from tests.api.helpers import PDF, Api

pytestmark = pytest.mark.django_db
YEAR, CITY, CODE = 2024, "500000", "M1.1"


def _index_scores(client) -> dict[str, float]:
    """The published index scores of the year, by city, as a reader gets them."""
    rows = client.call("get", f"/api/v1/scores/?year={YEAR}&level=0&limit=500")["results"]
    return {row["city"]: row["score"] for row in rows}


def test_an_amendment_filed_by_api_is_approved_recomputed_published_and_served(media_root,
                                                                               django_capture_on_commit_callbacks):
    demo_load()
    demo_index_ensure()
    users = {name: User.objects.get(username=name) for name in ("filer-chongqing", "reviewer", "methodologist")}
    filer, reviewer, methodologist = (Api(users[name]) for name in users)
    before = _index_scores(filer)
    assert len(before) == 30  # noqa: PLR2004  (the demo's cities)

    approved = filer.call("get", f"/api/v1/returns/?period__data_year={YEAR}&state=approved")["results"]
    assert [item["city"] for item in approved] == [CITY]
    amendment = filer.call("post", f"/api/v1/returns/{approved[0]['id']}/amend/",
                           {"reason": "市统计局更正了 M1.1 的年末数。"}, expect=HTTPStatus.CREATED)
    assert amendment["state"] == ReturnState.DRAFT and amendment["revision"] == 2  # noqa: PLR2004
    old = Decimal(next(item["value"] for item in filer.call("get", f"/api/v1/returns/{amendment['id']}/")["values"]
                       if item["code"] == CODE))
    saved = filer.call("patch", f"/api/v1/returns/{amendment['id']}/values/", {
        "edit_version": amendment["edit_version"],
        "values": {CODE: {"value": str(old * 2), "explanation": "更正：上年末统计口径调整后的数。"}}})
    assert saved["rejected"] == [] and saved["changed"] >= 1
    evidence = filer.call("post", f"/api/v1/returns/{amendment['id']}/evidence/", {
        "file": SimpleUploadedFile("更正说明.pdf", PDF, content_type="application/pdf"), "indicator": CODE,
        "description": "市统计局更正函"}, expect=HTTPStatus.CREATED, form="multipart")
    assert evidence["indicator"] == CODE
    assert filer.call("post", f"/api/v1/returns/{amendment['id']}/submit/")["state"] == ReturnState.SUBMITTED

    review = reviewer.call("get", f"/api/v1/review/{amendment['id']}/")
    assert any(row["code"] == CODE for row in review["diff"]), review["diff"]
    with django_capture_on_commit_callbacks(execute=True):
        assert reviewer.call("post", f"/api/v1/returns/{amendment['id']}/approve/")["state"] == ReturnState.APPROVED

    run = IndexRun.objects.filter(period__data_year=YEAR).latest("id")
    assert run.state == RunState.SUCCEEDED and not run.is_published and not run.is_provisional, run.error
    assert _index_scores(filer) == before  # computed, not yet public
    published = methodologist.call("post", f"/api/v1/index-runs/{run.pk}/publish/")
    assert published["published_at"]

    after = _index_scores(filer)
    assert after[CITY] != before[CITY]
    assert after == dict(Score.objects.filter(run=run, level=0).values_list("city__code", "value"))
    latest = filer.call("get", f"/api/v1/runs/?period__data_year={YEAR}")["results"]
    assert [item["id"] for item in latest] == [run.pk]
