"""The audit trail through the API: read only, for the audit administrator, filtered and paged."""
import datetime
from http import HTTPStatus

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from tests.api.test_problems import problem

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit-events/"


@pytest.fixture
def events(methodologist, reviewer, city_chongqing):
    # Ten days ago (the trail is append-only: made so, not changed afterwards).
    publish = AuditEvent.objects.create(actor=methodologist, event_type="index_run.publish", details={"edition": 1},
                                        occurred_at=timezone.now() - datetime.timedelta(days=10))
    recompute = audit_record(actor=reviewer, event_type="index_run.recompute_request", city_id=city_chongqing.pk)
    failed = audit_record(actor=None, event_type="auth.login_failed", success=False, details={"username": "x"})
    return {"publish": publish, "recompute": recompute, "failed": failed}


def _ids(client, query: str = "") -> list[int]:
    return [row["id"] for row in client.get(f"{URL}?{query}").json()["results"]]


def test_the_audit_administrator_filters_the_trail(client, audit_admin, events):
    client.force_login(audit_admin)
    everything = client.get(URL).json()
    assert everything["count"] == AuditEvent.objects.count() - 1  # the read's own record came after it
    assert _ids(client, "action_prefix=index_run.") == [events["recompute"].pk, events["publish"].pk]  # newest first
    assert _ids(client, "actor=methodologist") == [events["publish"].pk]
    assert _ids(client, "action=index_run.recompute_request") == [events["recompute"].pk]
    assert events["failed"].pk in _ids(client, "action_prefix=auth.")  # with the auditor's own login
    assert _ids(client, "city=500000") == [events["recompute"].pk]
    assert _ids(client, "success=false&action_prefix=auth.") == [events["failed"].pk]
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert events["publish"].pk not in _ids(client, f"since={since.replace('+', '%2B')}")
    until = (timezone.localtime() - datetime.timedelta(days=5)).date().isoformat()
    assert _ids(client, f"until={until}") == [events["publish"].pk]
    page = client.get(f"{URL}?limit=1&offset=1").json()
    assert len(page["results"]) == 1 and page["next"] and page["previous"]
    one = client.get(f"{URL}{events['publish'].pk}/").json()
    assert one["actor"] == "methodologist" and one["event_type"] == "index_run.publish" and one["event_label"]
    assert one["details"] == {"edition": 1} and {"sequence", "record_hash", "changes"} <= set(one)
    bad = client.get(f"{URL}?since=yesterday", HTTP_ACCEPT_LANGUAGE="en")
    assert problem(bad, HTTPStatus.BAD_REQUEST, "invalid")["errors"][0]["field"] == "since"


def test_the_trail_is_read_only_and_for_the_audit_administrator(client, audit_admin, methodologist, security_admin,
                                                                events):
    assert problem(client.get(URL), HTTPStatus.UNAUTHORIZED, "not_authenticated")
    for user in (methodologist, security_admin):
        client.force_login(user)
        assert problem(client.get(URL), HTTPStatus.FORBIDDEN, "permission_denied")
    client.force_login(audit_admin)
    assert client.post(URL, {}).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert client.delete(f"{URL}{events['recompute'].pk}/").status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_each_read_of_the_trail_is_itself_in_the_trail(client, audit_admin, events):
    client.force_login(audit_admin)
    before = AuditEvent.objects.count()
    page = client.get(f"{URL}?action_prefix=index_run.&limit=1").json()
    assert page["count"] == 2 and len(page["results"]) == 1
    (read,) = AuditEvent.objects.filter(pk__gt=max(event.pk for event in events.values()), event_type="audit.export")
    assert AuditEvent.objects.count() == before + 1
    assert read.actor == audit_admin and read.success
    assert read.details == {"channel": "api", "query": "action_prefix=index_run.&limit=1", "count": 2}
    assert read.pk in _ids(client, "action=audit.export")  # and the next read shows it
    client.get(f"{URL}?since=yesterday")  # refused (400): nothing was read
    assert AuditEvent.objects.filter(event_type="audit.export").count() == 2
