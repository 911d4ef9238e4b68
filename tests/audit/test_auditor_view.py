"""The audit administrator's view of the trail (the admin): search and filters, old → new values, local
time, Chinese labels, and a formula-safe CSV export, which is itself recorded."""
import csv
import io
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import City
from audit.models import AuditEvent
from audit.services import audit_chain_extend, audit_record
from reporting.services import ValueEntry, return_values_save

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:audit_auditevent_changelist")
EXPORT = reverse("admin:audit_auditevent_export")


@pytest.fixture
def value_change(draft, filer_chongqing) -> AuditEvent:
    old = draft.values.get(indicator__code="M1.1").value
    return_values_save(indicator_return=draft, actor=filer_chongqing, expected_version=draft.edit_version,
                       entries={"M1.1": ValueEntry(value=str(old + 1))})
    audit_chain_extend()  # as the commit would (the test's transaction never commits)
    return AuditEvent.objects.filter(event_type="return.values_change").latest("pk")


def _export(client, query: str = "") -> list[list[str]]:
    response = client.get(f"{EXPORT}?{query}")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Disposition"].startswith('attachment; filename="audit-trail-')
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_auditor_finds_a_value_change_with_its_old_and_new_value(client, audit_admin, value_change):
    old, new = (value_change.details["values"][0][key] for key in ("old", "new"))
    client.force_login(audit_admin)

    listing = client.get(CHANGELIST, {"q": "M1.1", "event_type": "return.values_change"}).content.decode()
    assert "修改数值" in listing and "return.values_change</td>" not in listing  # the label, not the code
    assert f"M1.1 数值: {old} → {new}" in listing
    assert timezone.localtime(value_change.occurred_at).strftime("%Y-%m-%d %H:%M:%S") in listing

    detail = client.get(reverse("admin:audit_auditevent_change", args=[value_change.pk])).content.decode()
    assert '<table data-testid="audit-changes">' in detail
    assert f"<td>M1.1 数值</td><td>{old}</td><td>{new}</td>" in detail
    local = timezone.localtime(value_change.occurred_at).strftime("%Y-%m-%d %H:%M:%S")
    assert f"{local} 修改数值" in detail  # the page's title: local time and the label too
    assert "报表：重庆" in detail  # the object, with its type in Chinese
    assert "/admin/accounts/user/" not in detail  # no link to pages closed to the auditor


def test_filters_by_person_city_event_object_and_time(client, audit_admin, value_change, filer_chengdu):
    audit_record(actor=filer_chengdu, event_type="auth.login", obj=filer_chengdu)
    client.force_login(audit_admin)
    day = timezone.localtime(value_change.occurred_at)

    def shown(**query) -> set[int]:
        response = client.get(CHANGELIST, query)
        assert response.status_code == HTTPStatus.OK
        return {event.pk for event in response.context["cl"].result_list}

    chengdu_login = AuditEvent.objects.get(event_type="auth.login", actor=filer_chengdu).pk
    assert shown(actor__id__exact=filer_chengdu.pk) == {chengdu_login}
    assert shown(city__id__exact=filer_chengdu.city_id) == {chengdu_login}
    assert value_change.pk in shown(city__id__exact=value_change.city_id)
    changes = set(AuditEvent.objects.filter(event_type="return.values_change").values_list("pk", flat=True))
    assert value_change.pk in changes and shown(event_type="return.values_change") == changes
    users = set(AuditEvent.objects.filter(object_type="accounts.User").values_list("pk", flat=True))
    assert chengdu_login in users and value_change.pk not in users and shown(object_type="accounts.User") == users
    assert value_change.pk in shown(occurred_at__year=day.year, occurred_at__month=day.month, occurred_at__day=day.day)
    assert not shown(occurred_at__year=day.year - 1)


def test_the_export_has_the_filtered_events_escapes_formulas_and_is_recorded(client, audit_admin, value_change,
                                                                           city_chengdu):
    trap = City.objects.create(code="999999", name_zh="=HYPERLINK(\"http://x\")", name_en="-1+1",
                               province_zh="-", province_en="-")
    audit_record(actor=audit_admin, event_type="admin.change", obj=trap)
    client.force_login(audit_admin)

    rows = _export(client, "q=M1.1")
    header, body = rows[0], rows[1:]
    assert header[:5] == ["时间（北京时间）", "用户", "城市", "事件类型", "结果"]
    rows = [dict(zip(header, line, strict=True)) for line in body]
    assert {row["事件类型"] for row in rows} == {"修改数值"}  # the fill of the draft, and the change
    row = next(row for row in rows if row["序号"] == str(value_change.link.sequence))
    old, new = (value_change.details["values"][0][key] for key in ("old", "new"))
    assert row["事件类型"] == "修改数值" and row["用户"] == "filer-chongqing" and row["城市"].startswith("重庆")
    assert f"M1.1 数值: {old} → {new}" in row["变更（原值 → 新值）"]
    assert row["时间（北京时间）"] == timezone.localtime(value_change.occurred_at).strftime("%Y-%m-%d %H:%M:%S")

    trap_row = dict(zip(header, _export(client, "object_type=accounts.City")[1], strict=True))
    assert trap_row["对象"].startswith("'=HYPERLINK")
    export = AuditEvent.objects.filter(event_type="audit.export", actor=audit_admin).earliest("pk")
    assert export.details == {"channel": "admin", "query": "q=M1.1", "count": 2}  # not itself


def test_nobody_else_exports_the_trail(client, security_admin, methodologist):
    for user in (security_admin, methodologist):
        client.force_login(user)
        assert client.get(EXPORT).status_code == HTTPStatus.FORBIDDEN
    assert not AuditEvent.objects.filter(event_type="audit.export").exists()
