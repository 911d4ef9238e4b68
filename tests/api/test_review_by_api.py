"""The issue's flow through the API alone, with personal tokens: a filer saves values, uploads an evidence PDF
and submits; a reviewer sends the return back with a comment on one indicator; the filer answers with an
explanation and resubmits; the reviewer reads the diff and approves. Each step is audited as on the pages."""
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from reporting.models import IndicatorReturn, ReturnState
from tests.api.helpers import PDF, Api

pytestmark = pytest.mark.django_db


def test_a_return_is_sent_back_answered_and_approved_through_the_api(
        period, last_year, values, filer_chongqing, reviewer, django_capture_on_commit_callbacks):
    filer, secretariat = Api(filer_chongqing), Api(reviewer)
    started = filer.call("post", "/api/v1/returns/", {"data_year": period.data_year}, expect=HTTPStatus.CREATED)
    pk = started["id"]
    given = {code: {"value": str(value), "observation_status": "final", "source_note": "统计年鉴"}
             for code, value in values["500000"][2024].items()}
    saved = filer.call("patch", f"/api/v1/returns/{pk}/values/", {"edit_version": started["edit_version"],
                                                                  "values": given})
    assert saved["rejected"] == [] and saved["changed"] >= len(given)
    evidence = filer.call("post", f"/api/v1/returns/{pk}/evidence/", {
        "file": SimpleUploadedFile("年报.pdf", PDF, content_type="application/pdf"), "indicator": "M2.1"},
        expect=HTTPStatus.CREATED, form="multipart")
    assert filer.call("post", f"/api/v1/returns/{pk}/submit/")["state"] == ReturnState.SUBMITTED

    assert [item["id"] for item in secretariat.call("get", "/api/v1/review/")["results"]] == [pk]
    review = secretariat.call("get", f"/api/v1/review/{pk}/")
    assert [item["id"] for item in review["evidence"]] == [evidence["id"]]
    assert {row["code"]: row for row in review["rows"]}["M2.1"]["evidence"] == [evidence["id"]]
    sent = secretariat.call("post", f"/api/v1/returns/{pk}/send-back/", {
        "comments": {"M2.1": {"text": "增长较快，请说明原因。", "reason": "explanation_insufficient"}}})
    assert sent["state"] == ReturnState.RETURNED

    mine = filer.call("get", f"/api/v1/returns/{pk}/")
    answered = filer.call("post", f"/api/v1/returns/{pk}/answer/", {
        "edit_version": mine["edit_version"], "resubmit": True,
        "explanations": {"M2.1": "新增两家消费金融公司，见所附人民银行年报。"}})
    assert answered["state"] == ReturnState.SUBMITTED and answered["changed"] == 1

    review = secretariat.call("get", f"/api/v1/review/{pk}/")
    assert review["diff_basis"] == "submission"
    assert [(row["code"], row["field"]) for row in review["diff"]] == [("M2.1", "explanation")]
    row = {row["code"]: row for row in review["rows"]}["M2.1"]
    assert row["changed"] and row["explanation"].startswith("新增两家")
    assert [comment["text"] for comment in row["comments"]] == ["增长较快，请说明原因。"]
    with django_capture_on_commit_callbacks(execute=False):
        assert secretariat.call("post", f"/api/v1/returns/{pk}/approve/")["state"] == ReturnState.APPROVED

    assert IndicatorReturn.objects.get(pk=pk).submission_count == 2  # noqa: PLR2004
    events = list(AuditEvent.objects.filter(object_id=str(pk), success=True).order_by("id")
                  .values_list("event_type", "actor__username"))
    assert events == [
        ("return.start", "filer-chongqing"), ("return.values_change", "filer-chongqing"),
        ("evidence.upload", "filer-chongqing"), ("return.submit", "filer-chongqing"),
        ("return.send_back", "reviewer"), ("return.values_change", "filer-chongqing"),
        ("return.resubmit", "filer-chongqing"), ("return.approve", "reviewer")]
