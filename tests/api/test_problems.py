"""API errors in one shape (RFC 9457 problem details), in the language of the request (Chinese by default)."""
from http import HTTPStatus

import pytest

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["code"] == code and body["type"] == f"urn:ccfi:problem:{code}"
    assert body["title"] and body["detail"]
    return body


def test_a_refused_submission_names_each_indicator(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    saved = client.patch(f"/api/v1/returns/{draft.pk}/values/", {
        "edit_version": draft.edit_version, "values": {"M1.1": {"value": ""}}}, content_type="application/json")
    assert saved.status_code == HTTPStatus.OK and saved.json()["changed"] == 1  # success keeps its shape
    body = problem(client.post(f"/api/v1/returns/{draft.pk}/submit/", HTTP_ACCEPT_LANGUAGE="en"),
                   HTTPStatus.BAD_REQUEST, "incomplete")
    assert body["detail"] == "The return cannot be submitted yet:"
    missing = [error for error in body["errors"] if error["indicator"] == "M1.1"]
    assert missing and missing[0]["code"] and "M1.1" in missing[0]["message"]
    chinese = client.post(f"/api/v1/returns/{draft.pk}/submit/").json()
    assert chinese["detail"] == "报表暂不能报送："


def test_invalid_input_is_listed_by_field_and_indicator(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    body = problem(client.patch(f"/api/v1/returns/{draft.pk}/values/", {"values": {"M1.1": {"value": ["x"]}}},
                                content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"),
                   HTTPStatus.BAD_REQUEST, "invalid")
    by_field = {error["field"]: error for error in body["errors"]}
    assert by_field["edit_version"] == {"indicator": None, "field": "edit_version", "code": "required",
                                        "message": "This field is required."}
    assert by_field["values.M1.1.value"]["indicator"] == "M1.1"
    assert by_field["values.M1.1.value"]["code"] == "invalid"


def test_conflicts_not_found_forbidden_and_unauthenticated(client, draft, filer_chongqing, filer_chengdu, reviewer):
    client.force_login(filer_chongqing)
    client.patch(f"/api/v1/returns/{draft.pk}/values/", {
        "edit_version": draft.edit_version, "values": {"M1.1": {"value": "84"}}}, content_type="application/json")
    conflict = problem(client.patch(f"/api/v1/returns/{draft.pk}/values/", {
        "edit_version": draft.edit_version, "values": {"M1.1": {"value": "85"}}}, content_type="application/json"),
        HTTPStatus.CONFLICT, "edit_conflict")
    assert conflict["edit_version"] == draft.edit_version + 1 and conflict["changes"][0]["code"] == "M1.1"

    client.force_login(filer_chengdu)
    assert problem(client.get(f"/api/v1/returns/{draft.pk}/"), HTTPStatus.NOT_FOUND, "not_found")["detail"]
    client.force_login(reviewer)
    forbidden = problem(client.post(f"/api/v1/returns/{draft.pk}/submit/", HTTP_ACCEPT_LANGUAGE="en"),
                        HTTPStatus.FORBIDDEN, "permission_denied")
    assert forbidden["title"] == "Forbidden"
    client.logout()
    anonymous = client.get("/api/v1/returns/")
    assert anonymous["WWW-Authenticate"] == 'Bearer realm="api"'
    assert problem(anonymous, HTTPStatus.UNAUTHORIZED, "not_authenticated")["title"] == "未认证"
    unknown = client.get("/api/v1/returns/", HTTP_AUTHORIZATION="Bearer ccfi_nope")
    assert unknown["WWW-Authenticate"] == 'Bearer realm="api"'
    problem(unknown, HTTPStatus.UNAUTHORIZED, "authentication_failed")


def test_values_refused_through_the_api_are_in_the_audit_trail_as_on_the_form(client, draft, filer_chongqing):
    """A value above its hard maximum is not saved (the response lists it) and the refusal is recorded as the
    form records it: action.refused with the indicator and the value sent."""
    client.force_login(filer_chongqing)
    saved = client.patch(f"/api/v1/returns/{draft.pk}/values/", {
        "edit_version": draft.edit_version, "values": {"M4.1": {"value": "35"}}}, content_type="application/json")
    assert saved.status_code == HTTPStatus.OK and saved.json()["rejected"] == ["M4.1"]
    event = AuditEvent.objects.get(event_type="action.refused")
    assert event.actor == filer_chongqing and event.details["codes"] == ["values_rejected"]
    assert event.details["indicators"] == ["M4.1"] and event.details["submitted"] == {"M4.1": "35"}
    assert event.details["view"] == "return-values"


def test_an_api_path_that_matches_no_route_is_a_problem_too(client, filer_chongqing):
    client.force_login(filer_chongqing)
    body = problem(client.post("/api/v1/returns/not-a-number/submit/"), HTTPStatus.NOT_FOUND, "not_found")
    assert body["detail"] == "未找到。"
    page = client.get("/no-such-page/")
    assert page.status_code == HTTPStatus.NOT_FOUND and page["Content-Type"].startswith("text/html")


def test_the_schema_declares_the_problems_every_operation_may_give(client):
    schema = client.get("/api/schema/?format=json").json()
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            declared = {"403", "429"} | ({"404"} if "{" in path else set()) | (
                {"400", "415"} if method in ("post", "put", "patch") else set())
            assert declared <= set(responses), (method, path, sorted(responses))
            for status in declared:
                assert responses[status]["content"][PROBLEM]["schema"] == problem_ref, (method, path, status)
