"""The reviewers' endpoints: the queue (filters, pages), a return's review data (the review page's), send back
with comments per indicator, bulk approve. Filers get 403 with the reason (another city's return: 404),
validation errors name the indicator in Chinese and English."""
from http import HTTPStatus

import pytest

from audit.models import AuditEvent
from reporting.models import ReturnState, ReviewComment
from reporting.services import return_submit
from tests.api.helpers import Api, problem
from tests.reporting.conftest import filled_return

pytestmark = pytest.mark.django_db


@pytest.fixture
def chengdu_submitted(period, last_year, filer_chengdu, values):
    filed = filled_return(period=period, filer=filer_chengdu, year_values=values["510100"][2024])
    return return_submit(indicator_return=filed, actor=filer_chengdu)


def test_the_queue_lists_submitted_returns_with_filters_and_pages(submitted, chengdu_submitted, reviewer):
    api = Api(reviewer)
    queue = api.call("get", "/api/v1/review/")
    assert queue["count"] == 2 and {item["city"] for item in queue["results"]} == {"500000", "510100"}  # noqa: PLR2004
    assert all(item["clean"] and item["filled"] > 0 and item["warnings"] == 0 for item in queue["results"])
    assert [item["id"] for item in api.call("get", "/api/v1/review/?city=510100")["results"]] == [chengdu_submitted.pk]
    assert api.call("get", "/api/v1/review/?period__data_year=2023")["count"] == 0
    assert api.call("get", "/api/v1/review/?period__data_year=2024&state=draft")["count"] == 0
    assert api.call("get", "/api/v1/review/?state=approved")["count"] == 2  # noqa: PLR2004  (last year's)
    page = api.call("get", "/api/v1/review/?limit=1")
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]  # noqa: PLR2004
    wrong = Api(reviewer, "en").call("get", "/api/v1/review/?state=nonsense", expect=HTTPStatus.BAD_REQUEST)
    assert problem(wrong, 400, "invalid")["errors"][0]["field"] == "state"


def test_only_reviewers_read_the_queue(submitted, filer_chongqing, methodologist):
    assert problem(Api(filer_chongqing).call("get", "/api/v1/review/", expect=HTTPStatus.FORBIDDEN),
                   403, "permission_denied")["detail"] == "只有审核员可以进行此操作。"
    english = Api(methodologist, "en").call("get", "/api/v1/review/", expect=HTTPStatus.FORBIDDEN)
    assert english["detail"] == "Only reviewers can do this." and english["title"] == "Forbidden"


def test_the_review_data_are_the_review_pages(submitted, chengdu_submitted, reviewer, filer_chongqing, filer_chengdu,
                                              values):
    url = f"/api/v1/review/{submitted.pk}/"
    data = Api(reviewer).call("get", url)
    assert data["indicator_return"]["id"] == submitted.pk and data["clean"] is True
    rows = {row["code"]: row for row in data["rows"]}
    this_year, last_year = values["500000"][2024], values["500000"][2023]
    row = rows["M1.1"]
    assert row["value"] is not None and row["last_year"] is not None
    assert row["peers"]["count"] == 1 and row["peers"]["min"] == row["peers"]["max"]  # Chengdu's value
    assert row["change"].endswith("%") and row["flags"] == [] and row["comments"] == []
    assert len(rows) >= len(this_year) and set(last_year) <= set(rows)
    assert data["diff_basis"] == "" and data["diff"] == []  # a first submission
    problem(Api(filer_chengdu).call("get", url, expect=HTTPStatus.NOT_FOUND), 404, "not_found")
    problem(Api(filer_chongqing).call("get", url, expect=HTTPStatus.FORBIDDEN), 403, "permission_denied")


@pytest.mark.parametrize(("language", "words", "missing"), [
    ("en", "is not an indicator", "Write at least one comment"), ("zh-hans", "不是本报表所用方法", "请至少")])
def test_send_back_names_unknown_indicators_and_needs_a_comment(submitted, reviewer, language, words, missing):
    api = Api(reviewer, language)
    url = f"/api/v1/returns/{submitted.pk}/send-back/"
    body = api.call("post", url, {"comments": {"X9.9": {"text": "?"}}}, expect=HTTPStatus.BAD_REQUEST)
    error = problem(body, 400, "invalid")["errors"][0]
    assert error["indicator"] == "X9.9" and error["field"] == "comments.X9.9" and words in error["message"]
    body = api.call("post", url, {"comments": {"M2.1": {"text": "x", "reason": "bad"}}}, expect=HTTPStatus.BAD_REQUEST)
    error = problem(body, 400, "invalid")["errors"][0]
    assert error["indicator"] == "M2.1" and error["field"] == "comments.M2.1.reason"
    body = api.call("post", url, {"comment": "  ", "comments": {"M2.1": {"text": ""}}}, expect=HTTPStatus.BAD_REQUEST)
    assert missing in problem(body, 400, "needs_comment")["detail"]
    assert AuditEvent.objects.filter(event_type="action.refused", details__codes=["needs_comment"]).exists()


def test_send_back_with_comments_per_indicator_and_overall(submitted, reviewer, filer_chongqing, filer_chengdu):
    url = f"/api/v1/returns/{submitted.pk}/send-back/"
    body = {"comment": "请补充后重新报送。", "comments": {
        "M2.1": {"text": "增长较快，请说明。", "reason": "explanation_insufficient"}, "M1.1": {"text": ""}}}
    problem(Api(filer_chengdu).call("post", url, body, expect=HTTPStatus.NOT_FOUND), 404, "not_found")
    problem(Api(filer_chongqing).call("post", url, body, expect=HTTPStatus.FORBIDDEN), 403, "permission_denied")
    assert Api(reviewer).call("post", url, body)["state"] == ReturnState.RETURNED
    comments = {(comment.indicator.code if comment.indicator else "", comment.reason_code, comment.text)
                for comment in ReviewComment.objects.filter(indicator_return=submitted)}
    assert comments == {("", "other", "请补充后重新报送。"), ("M2.1", "explanation_insufficient", "增长较快，请说明。")}
    event = AuditEvent.objects.get(event_type="return.send_back")
    assert event.actor == reviewer and event.details["comments"] == 2  # noqa: PLR2004


def test_bulk_approve_approves_clean_returns_and_skips_the_rest(submitted, chengdu_submitted, reviewer,
                                                                filer_chongqing, django_capture_on_commit_callbacks):
    problem(Api(filer_chongqing).call("post", "/api/v1/review/bulk-approve/", {"returns": [submitted.pk]},
                                      expect=HTTPStatus.FORBIDDEN), 403, "permission_denied")
    api = Api(reviewer, "en")
    nothing = api.call("post", "/api/v1/review/bulk-approve/", {"returns": [999999]}, expect=HTTPStatus.BAD_REQUEST)
    assert problem(nothing, 400, "nothing_selected")["detail"] == "Select the returns to approve."
    problem(api.call("post", "/api/v1/review/bulk-approve/", {"returns": ["x"]}, expect=HTTPStatus.BAD_REQUEST),
            400, "invalid")
    with django_capture_on_commit_callbacks(execute=False):
        done = api.call("post", "/api/v1/review/bulk-approve/", {"returns": [submitted.pk, chengdu_submitted.pk]})
    assert sorted(item["id"] for item in done["approved"]) == sorted([submitted.pk, chengdu_submitted.pk])
    assert done["skipped"] == []
    again = api.call("post", "/api/v1/review/bulk-approve/", {"returns": [submitted.pk]})
    assert again["approved"] == [] and again["skipped"][0]["id"] == submitted.pk and again["skipped"][0]["reason"]
    assert AuditEvent.objects.filter(event_type="return.approve", details__bulk=True).count() == 2  # noqa: PLR2004
