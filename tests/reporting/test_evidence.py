"""Evidence files: type from content, size limit, random stored names, downloads only for who may see."""
import io
import zipfile
from http import HTTPStatus

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from reporting.models import EvidenceFile
from reporting.services import evidence_upload

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def workbook() -> bytes:
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "content", "content_type"), [
    ("年鉴表3.pdf", PDF, "application/pdf"), ("scan.PNG", PNG, "image/png"), ("photo.jpeg", JPEG, "image/jpeg"),
    ("calc.xlsx", None, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
])
def test_accepted_types_are_stored_under_random_names(draft, filer_chongqing, name, content, content_type):
    evidence = evidence_upload(indicator_return=draft, actor=filer_chongqing, indicator_code="M2.1",
                               upload=SimpleUploadedFile(name, content or workbook()))
    assert (evidence.original_name, evidence.content_type, evidence.indicator.code) == (name, content_type, "M2.1")
    assert name not in evidence.file.name and evidence.file.name.startswith("evidence/")
    assert len(evidence.sha256) == 64
    assert AuditEvent.objects.get(event_type="evidence.upload").details["name"] == name


@pytest.mark.parametrize(("name", "content", "code"), [
    ("fake.pdf", b"<html><script>alert(1)</script>", "type"),
    ("image.png", PDF, "extension"),
    ("macro.xlsx", b"PK\x03\x04not really a zip", "bad_zip"),
    ("archive.xlsx", None, "not_xlsx"),
    ("empty.pdf", b"", "empty"),
])
def test_the_type_is_checked_from_the_content(draft, filer_chongqing, name, content, code):
    if content is None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("payload.exe", b"MZ")
        content = out.getvalue()
    with pytest.raises(ValidationError) as error:
        evidence_upload(indicator_return=draft, actor=filer_chongqing, upload=SimpleUploadedFile(name, content))
    assert error.value.code == code
    assert not EvidenceFile.objects.exists()


def test_the_size_limit_comes_from_the_settings(draft, filer_chongqing, settings):
    settings.REPORTING_EVIDENCE_MAX_BYTES = 100
    with pytest.raises(ValidationError) as error:
        evidence_upload(indicator_return=draft, actor=filer_chongqing,
                        upload=SimpleUploadedFile("big.pdf", PDF + b"\0" * 200))
    assert error.value.code == "too_large"


def test_only_the_citys_filer_uploads(draft, filer_chengdu, reviewer):
    for actor in (filer_chengdu, reviewer):
        with pytest.raises(PermissionDenied):
            evidence_upload(indicator_return=draft, actor=actor, upload=SimpleUploadedFile("a.pdf", PDF))


def test_downloads_only_for_those_who_may_see_the_return(client, draft, filer_chongqing, filer_chengdu, reviewer):
    evidence = evidence_upload(indicator_return=draft, actor=filer_chongqing, upload=SimpleUploadedFile("a.pdf", PDF))
    path = reverse("reporting:evidence_download", args=[evidence.pk])
    for user in (filer_chongqing, reviewer):
        client.force_login(user)
        response = client.get(path)
        assert response.status_code == HTTPStatus.OK
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(filer_chengdu)
    assert client.get(path).status_code == HTTPStatus.NOT_FOUND
    client.logout()
    assert client.get(path).status_code == HTTPStatus.FOUND  # to the login page


def test_the_upload_page_flow(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    response = client.post(reverse("reporting:evidence_upload", args=[draft.pk]),
                           {"file": SimpleUploadedFile("a.pdf", PDF), "indicator": "M2.1", "description": "年鉴"})
    assert response.status_code == HTTPStatus.FOUND
    assert "a.pdf" in client.get(reverse("reporting:return_detail", args=[draft.pk])).content.decode()
