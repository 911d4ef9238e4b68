"""Every admin change (with its values before and after), every refused form, denied access and download
writes its event, with who, when, from where and with which browser."""
import datetime
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from audit.presentation import change_lines
from reporting.models import ReturnState
from reporting.services import evidence_upload
from tests.audit.conftest import change_form_data

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (audit test)", "REMOTE_ADDR": "10.7.7.7"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def only(event_type: str, **filters) -> AuditEvent:
    return AuditEvent.objects.get(event_type=event_type, **filters)


def test_a_superusers_edit_of_an_approved_return_is_audited_with_old_and_new_values(client, superuser, last_year):
    approved = last_year["500000"]
    assert approved.state == ReturnState.APPROVED and not approved.is_illustrative
    client.force_login(superuser)
    url = reverse("admin:reporting_indicatorreturn_change", args=[approved.pk])
    data = change_form_data(client.get(url))
    data.update(is_illustrative="on", amendment_reason="改正", revision="7")

    response = client.post(url, data, **BROWSER)

    assert response.status_code == HTTPStatus.FOUND, response.context["adminform"].form.errors
    event = only("admin.change")
    assert (event.actor, event.success, event.object_id) == (superuser, True, str(approved.pk))
    assert (event.ip_address, event.user_agent, event.city.code) == ("10.7.7.7", "Mozilla/5.0 (audit test)", "500000")
    changes = event.details["changes"]
    assert changes["is_illustrative"] == {"old": False, "new": True}
    assert changes["amendment_reason"] == {"old": "", "new": "改正"}
    assert changes["revision"] == {"old": 1, "new": 7}
    assert "updated_at" in changes  # the timestamps the save moved
    assert event.details["model"] == "reporting.IndicatorReturn"
    # As the auditor reads it: the field's name in Chinese, old → new.
    lines = {str(line) for line in change_lines(event)}
    assert {"修订版次: 1 → 7", "示例数据: 否 → 是", "更正原因: — → 改正"} <= lines


def test_a_periods_due_date_change_in_the_admin_is_audited(client, superuser, period):
    client.force_login(superuser)
    url = reverse("admin:reporting_reportingperiod_change", args=[period.pk])
    data = change_form_data(client.get(url))
    new_due = period.due_on + datetime.timedelta(days=14)
    data["due_on"] = new_due.isoformat()

    assert client.post(url, data).status_code == HTTPStatus.FOUND
    assert only("admin.change").details["changes"] == {"due_on": {"old": period.due_on.isoformat(),
                                                                  "new": new_due.isoformat()}}


def test_a_refused_admin_form_is_audited_with_what_was_submitted(client, superuser, period):
    client.force_login(superuser)
    url = reverse("admin:reporting_reportingperiod_change", args=[period.pk])
    data = change_form_data(client.get(url))
    data["due_on"] = (period.opens_on - datetime.timedelta(days=1)).isoformat()

    assert client.post(url, data).status_code == HTTPStatus.OK  # the form again, with its error
    event = only("admin.refused")
    assert event.success is False and event.object_id == str(period.pk)
    assert event.details["submitted"]["due_on"] == data["due_on"]
    assert event.details["errors"]
    assert not AuditEvent.objects.filter(event_type="admin.change").exists()


def test_an_admin_deletion_is_audited_with_the_values_it_removed(client, superuser, city_chongqing):
    from accounts.models import City

    spare = City.objects.create(code="130100", name_zh="石家庄", name_en="Shijiazhuang", province_zh="河北省",
                                province_en="Hebei")
    client.force_login(superuser)
    response = client.post(reverse("admin:accounts_city_delete", args=[spare.pk]), {"post": "yes"})
    assert response.status_code == HTTPStatus.FOUND and not City.objects.filter(pk=spare.pk).exists()
    event = only("admin.delete")
    assert event.object_id == str(spare.pk) and event.details["values"]["name_zh"] == "石家庄"


def test_editing_a_published_methodology_is_refused_and_audited(client, superuser, ccfi):
    client.force_login(superuser)
    url = reverse("admin:methodology_methodologyversion_change", args=[ccfi.pk])
    response = client.post(url, {"title_zh": "改"})
    assert response.status_code == HTTPStatus.FOUND
    event = only("admin.refused")
    assert event.success is False and event.details["model"] == "methodology.MethodologyVersion"
    assert event.details["action"] == "change"


def test_another_citys_return_is_a_recorded_denied_access(client, draft, filer_chengdu):
    client.force_login(filer_chengdu)
    response = client.get(reverse("reporting:return_detail", args=[draft.pk]), **BROWSER)
    assert response.status_code == HTTPStatus.NOT_FOUND
    event = only("access.denied")
    assert (event.actor, event.success, event.ip_address) == (filer_chengdu, False, "10.7.7.7")
    assert event.details == {"method": "GET", "path": f"/returns/{draft.pk}/", "status": 404,
                             "view": "reporting:return_detail", "arguments": {"pk": str(draft.pk)}}


def test_a_forbidden_admin_page_is_a_recorded_denied_access(client, audit_admin):
    client.force_login(audit_admin)
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == HTTPStatus.FORBIDDEN
    assert only("access.denied").details["status"] == 403


def test_a_page_that_does_not_exist_is_not_a_denied_access(client, filer_chongqing):
    client.force_login(filer_chongqing)
    assert client.get("/no-such-page/").status_code == HTTPStatus.NOT_FOUND
    client.logout()
    assert client.get(reverse("reporting:return_detail", args=[1])).status_code == HTTPStatus.FOUND  # login
    assert not AuditEvent.objects.filter(event_type="access.denied").exists()


def test_an_evidence_download_is_audited(client, draft, filer_chongqing, reviewer):
    evidence = evidence_upload(indicator_return=draft, actor=filer_chongqing,
                               upload=SimpleUploadedFile("凭证.pdf", PDF))
    client.force_login(reviewer)
    response = client.get(reverse("reporting:evidence_download", args=[evidence.pk]), **BROWSER)
    assert response.status_code == HTTPStatus.OK and b"".join(response.streaming_content) == PDF
    event = only("evidence.download")
    assert (event.actor, event.object_id, event.city.code, event.user_agent) == (
        reviewer, str(evidence.pk), "500000", "Mozilla/5.0 (audit test)")
    assert event.details == {"name": "凭证.pdf", "sha256": evidence.sha256}


def test_a_report_download_is_audited_even_for_an_anonymous_reader(client, stored_reports):
    white_paper = stored_reports["white_zh"]
    response = client.get(reverse("reports:download", args=[white_paper.pk]), **BROWSER)
    assert response.status_code == HTTPStatus.OK
    event = only("report.download")
    assert (event.actor, event.object_id, event.ip_address) == (None, str(white_paper.pk), "10.7.7.7")
    assert event.details["sha256"] == white_paper.sha256


def test_a_value_refused_by_its_bounds_is_a_recorded_refusal(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    data = {"edit_version": draft.edit_version, "action": "save", "value-M4.1": "35", "status-M4.1": "final",
            "source-M4.1": "年鉴"}
    assert client.post(reverse("reporting:return_detail", args=[draft.pk]), data).status_code == HTTPStatus.OK
    event = only("action.refused")
    assert (event.actor, event.success, event.object_id, event.city.code) == (filer_chongqing, False,
                                                                              str(draft.pk), "500000")
    assert event.details["codes"] == ["values_rejected"] and event.details["indicators"] == ["M4.1"]
    assert event.details["submitted"] == {"M4.1": "35"} and event.details["view"] == "reporting:return_detail"


def test_a_refused_workflow_step_is_recorded_with_its_reason(client, draft, reviewer):
    """Approving a return that was never submitted: refused by the service, recorded with why."""
    client.force_login(reviewer)
    response = client.post(reverse("reporting:review_detail", args=[draft.pk]), {"action": "approve"})
    assert response.status_code == HTTPStatus.FOUND
    event = only("action.refused")
    assert (event.actor, event.object_id, event.details["action"]) == (reviewer, str(draft.pk), "approve")
    assert event.details["codes"] == ["not_submitted"] and event.details["reasons"]
    draft.refresh_from_db()
    assert draft.state == ReturnState.DRAFT


def test_a_refused_evidence_file_is_a_recorded_rejected_upload(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    client.post(reverse("reporting:evidence_upload", args=[draft.pk]),
                {"file": SimpleUploadedFile("说明.pdf", b"MZ\x90\x00 not a pdf"), "indicator": "", "description": ""},
                **BROWSER)
    event = only("upload.rejected")
    assert (event.actor, event.success, event.city.code, event.ip_address) == (
        filer_chongqing, False, "500000", "10.7.7.7")
    assert event.details["kind"] == "evidence" and event.details["name"] == "说明.pdf" and event.details["reasons"]
    assert not draft.evidence.exists()


@pytest.mark.parametrize("content, name", [(b"", "empty.csv"), (b"indicator_code,value\n" + b"x" * 64, "bad.xlsx")])
def test_a_refused_import_file_is_a_recorded_rejected_upload(client, draft, filer_chongqing, content, name):
    client.force_login(filer_chongqing)
    response = client.post(reverse("reporting:import_upload", args=[draft.pk]),
                           {"file": SimpleUploadedFile(name, content)}, **BROWSER)
    assert response.status_code == HTTPStatus.OK  # the form again, with the reason
    event = only("upload.rejected")
    assert event.details["kind"] == "import" and event.details["name"] == name and event.details["reasons"]
    assert not AuditEvent.objects.filter(event_type="import.preview").exists()
