"""Backup and restore of the whole portal: the database and the media files in one archive (等保 level 3, 数据备份恢复).

Here, in the lowest app, because it depends on no app (it copies every table) and both operations are audited. The
archive is a gzipped tar holding ``manifest.json``, the database (PostgreSQL: ``pg_dump`` custom format; SQLite: a
copy made with SQLite's online backup API, consistent while the portal writes) and ``media/``. Beside it a
``.sha256`` file in ``sha256sum`` format; a restore checks it before it touches anything.
"""
import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # runs pg_dump and pg_restore with argument lists, no shell  # nosec B404
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import django
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

FORMAT = 1
PG_DUMP_NAME = "database.pgdump"
SQLITE_NAME = "database.sqlite3"
MEDIA_PREFIX = "media"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@dataclass(frozen=True)
class BackupResult:
    archive: Path
    checksum_file: Path
    sha256: str
    media_files: int


def _engine() -> str:
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise BackupError(f"No backup for the {vendor} database engine: PostgreSQL and SQLite only.")
    return vendor


def _pg_arguments() -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump and pg_restore, the password in the environment (not on the command line,
    where other users of the machine could read it)."""
    database = connection.settings_dict
    arguments = []
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if database.get(key):
            arguments += [option, str(database[key])]
    env = {**os.environ}
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = str(database["PASSWORD"])
    return arguments, env


def _run(command: list[str], env: dict[str, str]) -> None:
    binary = shutil.which(command[0])
    if binary is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client).")
    result = subprocess.run([binary, *command[1:]], env=env, capture_output=True, text=True)  # nosec B603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _latest_migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).migration_qs.order_by("app", "name").values_list("app", "name"):
        latest[app] = name
    return latest


def backup_create(*, folder: Path, now: datetime.datetime | None = None) -> BackupResult:
    """Write ``ccfi-backup-<UTC time>.tar.gz`` and its ``.sha256`` into ``folder``."""
    engine = _engine()
    now = now or datetime.datetime.now(datetime.UTC)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    archive = folder / f"ccfi-backup-{stamp}.tar.gz"
    if archive.exists():
        raise BackupError(f"{archive} exists already.")
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="ccfi-backup-") as work:
        work_path = Path(work)
        if engine == "postgresql":
            database_file = work_path / PG_DUMP_NAME
            arguments, env = _pg_arguments()
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", *arguments,
                  "--file", str(database_file), str(connection.settings_dict["NAME"])], env)
        else:
            database_file = work_path / SQLITE_NAME
            connection.ensure_connection()
            target = sqlite3.connect(database_file)
            try:
                connection.connection.backup(target)
            finally:
                target.close()
        media_files = sorted(path for path in media_root.rglob("*") if path.is_file()) if media_root.is_dir() else []
        manifest = {
            "format": FORMAT, "created_at": now.isoformat(), "engine": engine, "django": django.get_version(),
            "database_file": database_file.name, "database_sha256": sha256_of(database_file),
            "media_files": len(media_files), "migrations": _latest_migrations(),
        }
        (work_path / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(work_path / "manifest.json", arcname="manifest.json")
            tar.add(database_file, arcname=database_file.name)
            for path in media_files:
                tar.add(path, arcname=f"{MEDIA_PREFIX}/{path.relative_to(media_root).as_posix()}")
        partial.rename(archive)  # a backup cut short never looks like a complete one
    digest = sha256_of(archive)
    checksum_file = archive.with_name(archive.name + ".sha256")
    checksum_file.write_text(f"{digest}  {archive.name}\n", encoding="utf-8")
    return BackupResult(archive=archive, checksum_file=checksum_file, sha256=digest, media_files=len(media_files))


def backup_verify(archive: Path, checksum_file: Path | None = None) -> str:
    """The archive's SHA-256, if it matches its checksum file; BackupError otherwise."""
    checksum_file = checksum_file or archive.with_name(archive.name + ".sha256")
    if not archive.is_file():
        raise BackupError(f"No archive at {archive}.")
    if not checksum_file.is_file():
        raise BackupError(f"No checksum file at {checksum_file}: the archive cannot be verified.")
    expected = checksum_file.read_text(encoding="utf-8").split()[0].lower() if checksum_file.stat().st_size else ""
    actual = sha256_of(archive)
    if expected != actual:
        raise BackupError(f"The archive's SHA-256 is {actual}, its checksum file says {expected or 'nothing'}: "
                          "the archive is damaged or was changed. Nothing was restored.")
    return actual


def database_is_empty() -> bool:
    """No table at all: a database just created, never migrated."""
    return not connection.introspection.table_names()


def media_is_empty() -> bool:
    media_root = Path(settings.MEDIA_ROOT)
    return not media_root.is_dir() or not any(media_root.iterdir())


def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Regular files and folders only, each under a name the archive format allows."""
    members = []
    for member in tar.getmembers():
        name = member.name
        if not (member.isfile() or member.isdir()) or name.startswith("/") or ".." in Path(name).parts:
            raise BackupError(f"The archive holds an unexpected entry {name!r}: not restored.")
        if name not in ("manifest.json", PG_DUMP_NAME, SQLITE_NAME) and name.split("/")[0] != MEDIA_PREFIX:
            raise BackupError(f"The archive holds an unexpected entry {name!r}: not restored.")
        members.append(member)
    return members


def backup_restore(archive: Path, *, checksum_file: Path | None = None, force: bool = False) -> dict:
    """Restore the database, then the media files, from a verified archive; returns its manifest.

    Refuses a database that has any table, or a media folder with files, unless ``force``: PostgreSQL then drops
    each object of the archive before recreating it (``pg_restore --clean``), SQLite has its file replaced page by
    page, and the archive's media files overwrite those of the same name.
    """
    backup_verify(archive, checksum_file)
    engine = _engine()
    if not force and not database_is_empty():
        raise BackupError("The database is not empty (it has tables). Restore into a new, empty database, "
                          "or pass --force to overwrite this one.")
    if not force and not media_is_empty():
        raise BackupError(f"The media folder {settings.MEDIA_ROOT} is not empty. Restore into an empty folder, "
                          "or pass --force to overwrite its files.")
    with tempfile.TemporaryDirectory(prefix="ccfi-restore-") as work:
        work_path = Path(work)
        with tarfile.open(archive, "r:gz") as tar:
            # Checked entries only, and the "data" filter refuses links, devices and absolute names as well.
            tar.extractall(work_path, members=_safe_members(tar), filter="data")  # nosec B202
        manifest = json.loads((work_path / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise BackupError(f"Unknown archive format {manifest.get('format')!r}.")
        if manifest["engine"] != engine:
            raise BackupError(f"The archive holds a {manifest['engine']} database; this portal runs on {engine}.")
        database_file = work_path / manifest["database_file"]
        if sha256_of(database_file) != manifest["database_sha256"]:
            raise BackupError("The database file in the archive does not match its manifest. Nothing was restored.")
        if engine == "postgresql":
            arguments, env = _pg_arguments()
            clean = ["--clean", "--if-exists"] if force else []
            _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", *clean,
                  *arguments, "--dbname", str(connection.settings_dict["NAME"]), str(database_file)], env)
        else:
            connection.ensure_connection()
            source = sqlite3.connect(database_file)
            try:
                source.backup(connection.connection)
            finally:
                source.close()
        connection.close()  # the next query sees the restored database, not a cached state
        media_source = work_path / MEDIA_PREFIX
        if media_source.is_dir():
            shutil.copytree(media_source, Path(settings.MEDIA_ROOT), dirs_exist_ok=True)
    return manifest
