"""The trail is tamper-evident: a hash chain that verify_audit checks, and a database that refuses UPDATE and
DELETE (on PostgreSQL when DATABASE_URL names one, else SQLite: the same tests run on both)."""
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.guard import guard_install, guard_installed, guard_remove
from audit.models import GENESIS_HASH, AuditEvent
from audit.services import audit_chain_verify, audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(methodologist, city_chongqing):
    return [audit_record(actor=methodologist, event_type="methodology.publish", details={"n": n, "名": "重庆"},
                         ip_address="10.0.0.1") for n in range(3)]


def test_each_record_carries_its_predecessors_hash(events):
    first, second, third = (AuditEvent.objects.get(pk=event.pk) for event in events)
    assert (first.sequence, second.sequence, third.sequence) == (1, 2, 3)
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.record_hash and third.previous_hash == second.record_hash
    assert len({first.record_hash, second.record_hash, third.record_hash}) == 3
    assert all(event.record_hash == event.compute_hash() for event in (first, second, third))  # read back


def test_verify_audit_passes_an_intact_trail(events, capsys):
    call_command("verify_audit")
    assert f"3 records, last hash {events[-1].record_hash}" in capsys.readouterr().out


def test_the_database_refuses_sql_update_and_delete(events):
    assert guard_installed(connection)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET success = %s WHERE id = %s", [False, events[1].pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    assert AuditEvent.objects.get(pk=events[1].pk).success is True
    assert next(audit_chain_verify(), None) is None


def test_the_orms_bulk_update_and_delete_are_refused(events):
    with pytest.raises(ValidationError):
        AuditEvent.objects.filter(pk=events[0].pk).update(event_type="x")
    with pytest.raises(ValidationError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 3


def _tamper(sql: str, params: list) -> None:
    """As someone who owns the database would: the guard dropped (rolled back with the test's transaction)."""
    guard_remove(connection)
    assert not guard_installed(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_verify_audit_names_the_record_changed_behind_the_guards_back(events):
    _tamper("UPDATE audit_auditevent SET ip_address = %s WHERE id = %s", ["10.9.9.9", events[1].pk])
    with pytest.raises(CommandError, match=rf"broken at record id {events[1].pk} \(sequence 2\): content"):
        call_command("verify_audit")


def test_verify_audit_names_the_record_after_a_deleted_one(events):
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match=rf"broken at record id {events[2].pk} \(sequence 3\): sequence 3"):
        call_command("verify_audit")


def test_verify_audit_detects_a_rehashed_record_by_its_successor(events):
    """Whoever changes a record and recomputes its hash breaks the next record's link."""
    changed = AuditEvent.objects.get(pk=events[0].pk)
    changed.details = {"n": 99}
    _tamper("UPDATE audit_auditevent SET details = %s, record_hash = %s WHERE id = %s",
            ['{"n": 99}', changed.compute_hash(), events[0].pk])
    with pytest.raises(CommandError, match=rf"broken at record id {events[1].pk} \(sequence 2\): previous hash"):
        call_command("verify_audit")


@pytest.mark.django_db(transaction=True)
def test_manage_py_verify_audit_exits_non_zero_on_a_broken_chain(methodologist):
    """The command as an operator runs it, in its own process, against the (committed) test database."""
    events = [audit_record(actor=methodologist, event_type="auth.login") for _ in range(2)]
    database = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        url = f"sqlite:///{database['NAME']}"
    else:
        password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
        url = (f"postgres://{database['USER']}{password}@{database['HOST'] or '127.0.0.1'}:"
               f"{database['PORT'] or 5432}/{database['NAME']}")
    command = [sys.executable, "manage.py", "verify_audit"]
    environment = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "ccfi_portal.test_settings"}
    intact = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
    assert intact.returncode == 0, intact.stderr
    assert "2 records" in intact.stdout
    try:
        _tamper("UPDATE audit_auditevent SET event_type = %s WHERE id = %s", ["auth.logout", events[0].pk])
        broken = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
    finally:
        guard_install(connection)
    assert broken.returncode == 1
    assert f"broken at record id {events[0].pk} (sequence 1)" in broken.stderr
