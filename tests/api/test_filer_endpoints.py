"""The filers' endpoints beyond saving and submitting: evidence (list, multipart upload with the web's rules),
answering a send-back, amendments. Allowed and refused roles (another city: 404; a wrong role: 403 with the
problem code and the reason), validation errors naming the indicator, in Chinese and English."""
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from reporting.models import ReturnState
from reporting.services import return_approve, return_send_back
from reporting.services.workflow import CommentInput
from tests.api.helpers import PDF, Api, problem

pytestmark = pytest.mark.django_db
MULTIPART = {"form": "multipart"}


def pdf(name="evidence.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_the_filer_uploads_evidence_and_whoever_sees_the_return_lists_it(draft, filer_chongqing, reviewer):
    filer = Api(filer_chongqing)
    url = f"/api/v1/returns/{draft.pk}/evidence/"
    made = filer.call("post", url, {"file": pdf(), "indicator": "M2.1", "description": "年报摘录"},
                      expect=HTTPStatus.CREATED, **MULTIPART)
    assert made["indicator"] == "M2.1" and made["name"] == "evidence.pdf" and made["content_type"] == "application/pdf"
    assert made["size"] == len(PDF) and made["uploaded_by"] == filer_chongqing.username
    assert made["download"] == f"/evidence/{made['id']}/"
    whole = filer.call("post", url, {"file": pdf("all.pdf")}, expect=HTTPStatus.CREATED, **MULTIPART)
    assert whole["indicator"] is None
    assert [item["id"] for item in Api(reviewer).call("get", url)] == [made["id"], whole["id"]]
    event = AuditEvent.objects.filter(event_type="evidence.upload").order_by("id").first()
    assert event.actor == filer_chongqing and event.details["indicator"] == "M2.1"  # the service's own record


def test_evidence_of_another_city_is_hidden_and_reviewers_do_not_upload(draft, filer_chengdu, reviewer):
    url = f"/api/v1/returns/{draft.pk}/evidence/"
    problem(Api(filer_chengdu).call("get", url, expect=HTTPStatus.NOT_FOUND), 404, "not_found")
    problem(Api(filer_chengdu).call("post", url, {"file": pdf()}, expect=HTTPStatus.NOT_FOUND, **MULTIPART),
            404, "not_found")
    refused = Api(reviewer, "en").call("post", url, {"file": pdf()}, expect=HTTPStatus.FORBIDDEN, **MULTIPART)
    assert problem(refused, 403, "permission_denied")["detail"] == "Only the city's own filers can change this return."


@pytest.mark.parametrize(("language", "words"), [("en", "not one of the available choices"), ("zh-hans", "选")])
def test_an_unknown_indicator_is_named_in_the_readers_language(draft, filer_chongqing, language, words):
    body = Api(filer_chongqing, language).call(
        "post", f"/api/v1/returns/{draft.pk}/evidence/", {"file": pdf(), "indicator": "X9.9"},
        expect=HTTPStatus.BAD_REQUEST, **MULTIPART)
    error = problem(body, 400, "invalid")["errors"][0]
    assert error["indicator"] == "X9.9" and error["field"] == "indicator" and error["code"] == "invalid_choice"
    assert "X9.9" in error["message"] and words in error["message"]
    assert AuditEvent.objects.filter(event_type="upload.rejected", success=False).exists()  # as the page records


@pytest.mark.parametrize(("language", "words"), [("en", "plain text, whatever its name says"), ("zh-hans", "纯文本")])
def test_a_file_is_judged_by_its_content_as_on_the_page(draft, filer_chongqing, language, words):
    body = Api(filer_chongqing, language).call(
        "post", f"/api/v1/returns/{draft.pk}/evidence/", {"file": pdf("notes.pdf", b"just some notes\n")},
        expect=HTTPStatus.BAD_REQUEST, **MULTIPART)
    assert words in problem(body, 400, "type")["detail"]
    event = AuditEvent.objects.get(event_type="upload.rejected")
    assert event.details["name"] == "notes.pdf" and event.details["kind"] == "evidence"


def test_the_size_limit_is_the_pages(draft, filer_chongqing, settings):
    settings.REPORTING_EVIDENCE_MAX_BYTES = 16
    body = Api(filer_chongqing, "en").call("post", f"/api/v1/returns/{draft.pk}/evidence/", {"file": pdf()},
                                           expect=HTTPStatus.BAD_REQUEST, **MULTIPART)
    assert "at most" in problem(body, 400, "too_large")["detail"]


def test_answering_is_for_a_return_sent_back(draft, filer_chongqing, filer_chengdu, reviewer):
    url = f"/api/v1/returns/{draft.pk}/answer/"
    body = {"edit_version": draft.edit_version, "explanations": {"M2.1": "原因"}}
    problem(Api(filer_chengdu).call("post", url, body, expect=HTTPStatus.NOT_FOUND), 404, "not_found")
    problem(Api(reviewer).call("post", url, body, expect=HTTPStatus.FORBIDDEN), 403, "permission_denied")
    refused = Api(filer_chongqing, "en").call("post", url, body, expect=HTTPStatus.BAD_REQUEST)
    assert problem(refused, 400, "not_returned")["detail"] == "Only a return sent back for revision can be resubmitted."
    assert AuditEvent.objects.filter(event_type="action.refused", details__codes=["not_returned"]).exists()


@pytest.mark.parametrize(("language", "words"), [("en", "is not an indicator"), ("zh-hans", "不是本报表所用方法")])
def test_an_answer_names_unknown_and_refused_explanations(submitted, filer_chongqing, reviewer, language, words):
    return_send_back(indicator_return=submitted, actor=reviewer,
                     comments=[CommentInput(text="请说明", indicator_code="M2.1")])
    submitted.refresh_from_db()
    api = Api(filer_chongqing, language)
    url = f"/api/v1/returns/{submitted.pk}/answer/"
    body = api.call("post", url, {"edit_version": submitted.edit_version, "explanations": {"X9.9": "?"}},
                    expect=HTTPStatus.BAD_REQUEST)
    error = problem(body, 400, "invalid")["errors"][0]
    assert error == {"indicator": "X9.9", "field": "explanations.X9.9", "code": "unknown_indicator",
                     "message": error["message"]} and words in error["message"]
    body = api.call("post", url, {"edit_version": submitted.edit_version, "explanations": {"M2.1": "a\x07b"}},
                    expect=HTTPStatus.BAD_REQUEST)
    error = problem(body, 400, "invalid")["errors"][0]
    assert error["indicator"] == "M2.1" and error["field"] == "explanations.M2.1" and "M2.1" in error["message"]
    stale = api.call("post", url, {"edit_version": submitted.edit_version - 1, "explanations": {"M2.1": "x"}},
                     expect=HTTPStatus.CONFLICT)
    problem(stale, 409, "edit_conflict")


def test_an_amendment_is_opened_and_filled_with_many_values_at_once(submitted, filer_chongqing, filer_chengdu,
                                                                    reviewer, methodologist, values):
    approved = return_approve(indicator_return=submitted, actor=reviewer)
    url = f"/api/v1/returns/{approved.pk}/amend/"
    problem(Api(filer_chengdu).call("post", url, {"reason": "x"}, expect=HTTPStatus.NOT_FOUND), 404, "not_found")
    problem(Api(methodologist).call("post", url, {"reason": "x"}, expect=HTTPStatus.NOT_FOUND), 404, "not_found")
    filer = Api(filer_chongqing, "en")
    blank = filer.call("post", url, {"reason": " "}, expect=HTTPStatus.BAD_REQUEST)
    assert problem(blank, 400, "needs_reason")["detail"] == "Give the reason for the amendment."
    problem(filer.call("post", url, {}, expect=HTTPStatus.BAD_REQUEST), 400, "invalid")
    amendment = filer.call("post", url, {"reason": "统计局更正了数据。"}, expect=HTTPStatus.CREATED)
    assert amendment["revision"] == 2 and amendment["state"] == ReturnState.DRAFT  # noqa: PLR2004
    assert AuditEvent.objects.filter(event_type="return.amend", object_id=str(amendment["id"])).exists()
    given = values["500000"][2024]
    saved = filer.call("patch", f"/api/v1/returns/{amendment['id']}/values/", {
        "edit_version": amendment["edit_version"], "values": {
            "M1.1": {"value": str(given["M1.1"] + 1)}, "M2.1": {"source_note": "更正后的年报"}}})
    assert saved["changed"] == 2 and saved["rejected"] == []  # noqa: PLR2004
    again = filer.call("post", url, {"reason": "又一次"}, expect=HTTPStatus.BAD_REQUEST)
    problem(again, 400, "amendment_exists")  # one open revision at a time
