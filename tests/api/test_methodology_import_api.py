"""A methodology document imported as a draft through the API: what ``manage.py import_methodology`` does, its
refusals as problem details."""
from http import HTTPStatus

import pytest

from audit.models import AuditEvent
from methodology.models import MethodologyState, MethodologyVersion
from tests.api.test_problems import problem

pytestmark = pytest.mark.django_db
URL = "/api/v1/methodologies/import/"


def test_a_document_becomes_a_draft(client, methodologist, small_document):
    client.force_login(methodologist)
    answer = client.post(URL, {"document": small_document}, content_type="application/json")
    assert answer.status_code == HTTPStatus.CREATED, answer.content
    version = MethodologyVersion.objects.get(pk=answer.json()["id"])
    assert (version.code, version.version, version.state) == ("TEST", "1.0", MethodologyState.DRAFT)
    assert AuditEvent.objects.filter(event_type="methodology.create", object_id=str(version.pk),
                                     actor=methodologist).exists()
    again = client.post(URL, {"document": small_document}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert problem(again, HTTPStatus.BAD_REQUEST, "exists")
    relabelled = client.post(URL, {"document": small_document, "as_version": "1.1"}, content_type="application/json")
    assert relabelled.status_code == HTTPStatus.CREATED and relabelled.json()["version"] == "1.1"


def test_a_bad_document_lists_its_problems_and_changes_nothing(client, methodologist, small_document):
    small_document["tree"]["weight"] = "heavy"
    del small_document["code"]
    client.force_login(methodologist)
    answer = client.post(URL, {"document": small_document}, content_type="application/json",
                         HTTP_ACCEPT_LANGUAGE="en")
    body = problem(answer, HTTPStatus.BAD_REQUEST, "invalid_document")
    assert body["detail"] == "The methodology document is not valid; nothing was imported."
    assert len(body["errors"]) >= 2 and all(error["code"] == "invalid" and error["message"] for error in body["errors"])
    assert any(error["field"] and error["field"].startswith("tree") for error in body["errors"])
    assert not MethodologyVersion.objects.exists()
    chinese = client.post(URL, {"document": small_document}, content_type="application/json").json()
    assert chinese["detail"] == "方法文件无效，未导入任何内容。"
    assert problem(client.post(URL, {}, content_type="application/json"), HTTPStatus.BAD_REQUEST,
                   "invalid")["errors"][0]["field"] == "document"


def test_only_a_methodologist_imports(client, reviewer, audit_admin, small_document):
    assert problem(client.post(URL, {"document": small_document}, content_type="application/json"),
                   HTTPStatus.UNAUTHORIZED, "not_authenticated")
    for user in (reviewer, audit_admin):
        client.force_login(user)
        assert problem(client.post(URL, {"document": small_document}, content_type="application/json"),
                       HTTPStatus.FORBIDDEN, "permission_denied")
    assert not MethodologyVersion.objects.exists()
