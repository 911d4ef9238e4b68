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
from audit.models import GENESIS_HASH, AuditChainLink, AuditEvent, chain_hash
from audit.services import audit_chain_extend, audit_chain_verify, audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(methodologist, city_chongqing, django_capture_on_commit_callbacks):
    """Three events, linked as their transactions commit (the test's own transaction never does)."""
    recorded = []
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            recorded.append(audit_record(actor=methodologist, event_type="methodology.publish",
                                         details={"n": n, "名": "重庆"}, ip_address="10.0.0.1"))
    return recorded


def test_each_record_carries_its_predecessors_hash(events):
    first, second, third = (AuditChainLink.objects.get(event=event) for event in events)
    assert (first.sequence, second.sequence, third.sequence) == (1, 2, 3)
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.record_hash and third.previous_hash == second.record_hash
    assert len({first.record_hash, second.record_hash, third.record_hash}) == 3
    for link in (first, second, third):  # read back from the database
        assert link.record_hash == chain_hash(AuditEvent.objects.get(pk=link.event_id), sequence=link.sequence,
                                              previous_hash=link.previous_hash)


def test_events_of_one_transaction_are_linked_when_it_commits(methodologist, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            for _ in range(3):
                audit_record(actor=methodologist, event_type="auth.login")
            assert not AuditChainLink.objects.exists()
    assert len(callbacks) == 1  # one link-up per transaction, for all its events
    assert list(AuditChainLink.objects.values_list("sequence", flat=True)) == [1, 2, 3]


def test_an_event_whose_savepoint_rolled_back_leaves_the_others_linked(methodologist,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            kept = audit_record(actor=methodologist, event_type="auth.login")
            with pytest.raises(RuntimeError), transaction.atomic():
                audit_record(actor=methodologist, event_type="auth.logout")
                raise RuntimeError("rolled back")
            later = audit_record(actor=methodologist, event_type="auth.logout")
    assert list(AuditChainLink.objects.order_by("sequence").values_list("event_id", flat=True)) == [
        kept.pk, later.pk]
    assert AuditEvent.objects.count() == 2 and next(audit_chain_verify(), None) is None


def test_events_linked_meanwhile_are_not_linked_twice(methodologist, django_capture_on_commit_callbacks):
    """verify_audit may link a transaction's events between its commit and its own link-up."""
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        first = audit_record(actor=methodologist, event_type="auth.login", details={"n": 1})
        second = audit_record(actor=methodologist, event_type="auth.login", details={"n": 2})
    assert audit_chain_extend([first.pk]) == 1
    callbacks[0]()
    assert list(AuditChainLink.objects.order_by("sequence").values_list("event_id", flat=True)) == [
        first.pk, second.pk]
    assert next(audit_chain_verify(), None) is None


def test_a_link_up_that_loses_its_race_links_after_the_winner(methodologist, django_capture_on_commit_callbacks,
                                                              monkeypatch):
    """Another writer stores the successor of the last link between this one's reading it and its INSERT: the
    INSERT stores nothing, without an error (PostgreSQL would log each one), and the event is linked after the
    winner's, read again from no other place than the last link."""
    from audit import services

    with django_capture_on_commit_callbacks() as winners, transaction.atomic():
        winner = audit_record(actor=methodologist, event_type="auth.login", details={"n": 1})
    with django_capture_on_commit_callbacks() as losers, transaction.atomic():
        loser = audit_record(actor=methodologist, event_type="auth.login", details={"n": 2})
    real_hash = services.chain_hash

    def racing(event, **kwargs):
        if event.pk == loser.pk and not AuditChainLink.objects.exists():
            winners[0]()  # the winner stores sequence 1 after the loser read that there is no link yet
        return real_hash(event, **kwargs)

    monkeypatch.setattr(services, "chain_hash", racing)
    monkeypatch.setattr(services, "audit_chain_extend", None)  # the fallback after a failed INSERT: not called
    losers[0]()
    assert list(AuditChainLink.objects.order_by("sequence").values_list("event_id", "sequence")) == [
        (winner.pk, 1), (loser.pk, 2)]
    assert next(audit_chain_verify(), None) is None


def test_verify_audit_links_what_is_pending_and_passes_an_intact_trail(events, methodologist, capsys):
    late = audit_record(actor=methodologist, event_type="auth.logout")  # its commit's link-up never ran
    call_command("verify_audit")
    output = capsys.readouterr().out
    assert "linked 1 events" in output
    assert f"4 records, last hash {AuditChainLink.objects.get(event=late).record_hash}" in output
    assert audit_chain_extend() == 0


def test_the_database_refuses_sql_update_and_delete(events):
    assert guard_installed(connection)
    for sql, params in (
        ("UPDATE audit_auditevent SET success = %s WHERE id = %s", [False, events[1].pk]),
        ("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk]),
        ("UPDATE audit_auditchainlink SET record_hash = %s WHERE event_id = %s", ["0" * 64, events[1].pk]),
        ("DELETE FROM audit_auditchainlink WHERE event_id = %s", [events[1].pk]),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
    assert AuditEvent.objects.get(pk=events[1].pk).success is True
    assert next(audit_chain_verify(), None) is None


def test_the_orms_bulk_update_and_delete_are_refused(events):
    with pytest.raises(ValidationError):
        AuditEvent.objects.filter(pk=events[0].pk).update(event_type="x")
    with pytest.raises(ValidationError):
        AuditEvent.objects.all().delete()
    with pytest.raises(ValidationError):
        AuditChainLink.objects.all().delete()
    assert AuditEvent.objects.count() == 3 and AuditChainLink.objects.count() == 3


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
    _tamper("DELETE FROM audit_auditchainlink WHERE event_id = %s", [events[1].pk])
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match=rf"broken at record id {events[2].pk} \(sequence 3\): sequence 3"):
        call_command("verify_audit")


def test_verify_audit_detects_a_rehashed_record_by_its_successor(events):
    """Whoever changes a record and recomputes its hash breaks the next record's link."""
    changed = AuditEvent.objects.get(pk=events[0].pk)
    changed.details = {"n": 99}
    _tamper("UPDATE audit_auditevent SET details = %s WHERE id = %s", ['{"n": 99}', events[0].pk])
    _tamper("UPDATE audit_auditchainlink SET record_hash = %s WHERE event_id = %s",
            [chain_hash(changed, sequence=1, previous_hash=GENESIS_HASH), events[0].pk])
    with pytest.raises(CommandError, match=rf"broken at record id {events[1].pk} \(sequence 2\): previous hash"):
        call_command("verify_audit")


@pytest.mark.django_db(transaction=True)
def test_manage_py_verify_audit_exits_non_zero_on_a_broken_chain(methodologist):
    """The command as an operator runs it, in its own process, against the (committed) test database."""
    events = [audit_record(actor=methodologist, event_type="auth.login") for _ in range(2)]
    assert AuditChainLink.objects.count() == 2  # linked at once: no transaction around them
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


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_build_one_unbroken_chain(methodologist):
    """Writers in several threads (each its own database connection), some in transactions of several
    events: every event gets one link, numbered without gaps, each naming its predecessor."""
    import threading

    from django.db import connections

    errors = []

    def write(worker: int) -> None:
        try:
            for n in range(10):
                if n % 2:
                    with transaction.atomic():
                        audit_record(actor=methodologist, event_type="auth.login", details={"w": worker, "n": n})
                        audit_record(actor=methodologist, event_type="auth.logout", details={"w": worker, "n": n})
                else:
                    audit_record(actor=methodologist, event_type="auth.login", details={"w": worker, "n": n})
        except Exception as error:  # noqa: BLE001  (reported below, in the test's thread)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert AuditEvent.objects.count() == AuditChainLink.objects.count() == 4 * 15
    assert list(AuditChainLink.objects.values_list("sequence", flat=True)) == list(range(1, 61))
    assert next(audit_chain_verify(), None) is None


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_trail_and_leaves_the_guard_in_place(methodologist):
    """The whole database emptied (the test runner's reset does the same): TRUNCATE on PostgreSQL, which the
    row trigger does not see; on SQLite the audit app's flush lifts the guard for its own run."""
    from django.core.management import get_commands

    assert get_commands()["flush"] == "audit"  # the command the test runner calls too
    audit_record(actor=methodologist, event_type="auth.login")
    assert AuditChainLink.objects.count() == 1
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists() and not AuditChainLink.objects.exists()
    assert guard_installed(connection)
