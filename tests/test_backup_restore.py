"""Backup and restore (等保 level 3, 数据备份恢复): `manage.py backup` on the test database, then `manage.py restore`
in another process into a new, empty database (SQLite: a new file; PostgreSQL: a new database) and an empty media
folder; every return, value, audit event and report file is there afterwards."""
import hashlib
import os
import sqlite3
import subprocess
import sys
import uuid
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import AuditEvent
from audit.services import audit_record
from indices.models import IndexRun, Report, ReportKind, ReportState, RunState
from reporting.models import EvidenceFile, IndicatorReturn, ReturnValue
from tests.reporting.conftest import (  # noqa: F401  (fixtures)
    ccfi,
    draft,
    last_year,
    media_root,
    period,
    period_2023,
    today,
    values,
)

pytestmark = pytest.mark.django_db(transaction=True)
TABLES = {model: model._meta.db_table for model in (IndicatorReturn, ReturnValue, AuditEvent, Report, EvidenceFile)}


@pytest.fixture
def portal_data(draft, filer_chongqing):  # noqa: F811
    """Returns and values (the fixtures), audit events, a report PDF and an evidence file in the media folder."""
    audit_record(actor=filer_chongqing, event_type="return.save", obj=draft, details={"values": 36})
    audit_record(actor=None, event_type="login.failed", success=False, ip_address="192.0.2.7")
    run = IndexRun.objects.create(period=draft.period, methodology=draft.period.methodology, input_hash="a" * 64,
                                  engine_version="test", state=RunState.SUCCEEDED, units=1, inputs={})
    report = Report(run=run, kind=ReportKind.WHITE_PAPER, language="zh-hans", state=ReportState.SUCCEEDED)
    report.file.save("white-paper-2024-zh.pdf", ContentFile(b"%PDF-1.7\n" + os.urandom(4096)), save=True)
    evidence = EvidenceFile(indicator_return=draft, original_name="年报.pdf", content_type="application/pdf",
                            size=9, sha256="0" * 64, uploaded_by=filer_chongqing)
    evidence.file.save("annual-report.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
    return {"report": report, "evidence": evidence}


def source_state() -> dict:
    files = {}
    for field_file in [report.file for report in Report.objects.all()] + [e.file for e in EvidenceFile.objects.all()]:
        files[field_file.name] = hashlib.sha256(Path(field_file.path).read_bytes()).hexdigest()
    return {"counts": {model: model.objects.count() for model in TABLES},
            "audit_ids": set(AuditEvent.objects.values_list("pk", flat=True)), "files": files}


@contextmanager
def new_database(tmp_path):
    """A new, empty database of the test database's engine; yields its DATABASE_URL and a way to query it."""
    if connection.vendor == "sqlite":
        path = tmp_path / "restored.sqlite3"

        def query(sql):
            with closing(sqlite3.connect(path)) as restored:
                return restored.execute(sql).fetchall()

        yield f"sqlite:///{path}", query
        return
    source = connection.settings_dict
    name = f"ccfi_restore_{uuid.uuid4().hex[:12]}"
    options = {"host": source["HOST"] or None, "port": source["PORT"] or None, "user": source["USER"] or None,
               "password": source["PASSWORD"] or None}
    with psycopg.connect(dbname="postgres", autocommit=True, **options) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        def query(sql):
            with psycopg.connect(dbname=name, **options) as restored:
                return restored.execute(sql).fetchall()

        user = f"{source['USER']}{':' + source['PASSWORD'] if source['PASSWORD'] else ''}@" if source["USER"] else ""
        yield f"postgres://{user}{source['HOST'] or '127.0.0.1'}:{source['PORT'] or 5432}/{name}", query
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **options) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(*arguments: str, database_url: str, media: Path) -> subprocess.CompletedProcess:
    """manage.py in its own process on another database and media folder, as an operator would run it."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ccfi_portal.test_settings", "DATABASE_URL": database_url,
           "MEDIA_ROOT": str(media)}
    return subprocess.run([sys.executable, "manage.py", *arguments], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_backup_restores_into_an_empty_database_with_every_row_and_file(portal_data, tmp_path):
    before = source_state()
    assert before["counts"][ReturnValue] > 36 and len(before["files"]) == 2

    call_command("backup", "--output-dir", str(tmp_path / "backups"), verbosity=0)
    archives = sorted((tmp_path / "backups").glob("ccfi-backup-*.tar.gz"))
    assert len(archives) == 1
    archive = archives[0]
    checksum = archive.with_name(archive.name + ".sha256").read_text().split()
    assert checksum == [hashlib.sha256(archive.read_bytes()).hexdigest(), archive.name]
    backup_event = AuditEvent.objects.get(event_type="backup.create")
    assert backup_event.details["sha256"] == checksum[0] and backup_event.details["media_files"] == 2

    media = tmp_path / "restored-media"
    with new_database(tmp_path) as (database_url, query):
        result = manage("restore", str(archive), database_url=database_url, media=media)
        assert result.returncode == 0, result.stdout + result.stderr

        for model, table in TABLES.items():
            expected = before["counts"][model] + (1 if model is AuditEvent else 0)  # + the restore's own event
            assert query(f"SELECT COUNT(*) FROM {table}")[0][0] == expected, table
        restored_events = dict(query(f"SELECT id, event_type FROM {TABLES[AuditEvent]}"))
        assert before["audit_ids"] < set(restored_events)
        assert [restored_events[pk] for pk in set(restored_events) - before["audit_ids"]] == ["backup.restore"]
        assert {"return.save", "login.failed"} <= set(restored_events.values())
        for name, digest in before["files"].items():
            assert hashlib.sha256((media / name).read_bytes()).hexdigest() == digest, name

        # A second restore onto the now filled database is refused, and nothing changes; --force overwrites.
        again = manage("restore", str(archive), database_url=database_url, media=media)
        assert again.returncode != 0 and "not empty" in again.stderr
        assert query(f"SELECT COUNT(*) FROM {TABLES[AuditEvent]}")[0][0] == len(restored_events)
        forced = manage("restore", str(archive), "--force", database_url=database_url, media=media)
        assert forced.returncode == 0, forced.stdout + forced.stderr
        assert query(f"SELECT COUNT(*) FROM {TABLES[ReturnValue]}")[0][0] == before["counts"][ReturnValue]


def test_a_damaged_archive_is_refused_before_anything_is_restored(portal_data, tmp_path):
    call_command("backup", "--output-dir", str(tmp_path), verbosity=0)
    archive = next(tmp_path.glob("ccfi-backup-*.tar.gz"))
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    media = tmp_path / "restored-media"
    with new_database(tmp_path) as (database_url, query):
        result = manage("restore", str(archive), database_url=database_url, media=media)
        assert result.returncode != 0 and "SHA-256" in result.stderr, result.stderr
        assert query("SELECT 1")  # the database is there, untouched
        tables = ("SELECT name FROM sqlite_master WHERE type='table'" if connection.vendor == "sqlite"
                  else "SELECT tablename FROM pg_tables WHERE schemaname='public'")
        assert query(tables) == []
        assert not media.exists()

    archive.with_name(archive.name + ".sha256").unlink()
    with pytest.raises(CommandError, match="No checksum file"):
        call_command("restore", str(archive), verbosity=0)
