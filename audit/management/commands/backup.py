"""``manage.py backup``: the database and the media files in one timestamped archive with a SHA-256 file."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.backup import BackupError, backup_create
from audit.services import audit_record


class Command(BaseCommand):
    help = ("Back up the database (PostgreSQL: pg_dump, custom format; SQLite: the online backup API) and the media "
            "files into ccfi-backup-<UTC time>.tar.gz, with a .sha256 file beside it.")

    def add_arguments(self, parser):
        parser.add_argument("--output-dir", type=Path, default=None,
                            help=f"where to write the archive (default: BACKUP_DIR, now {settings.BACKUP_DIR})")

    def handle(self, *args, output_dir=None, **options):
        try:
            result = backup_create(folder=output_dir or Path(settings.BACKUP_DIR))
        except BackupError as error:
            audit_record(actor=None, event_type="backup.create", success=False, details={"error": str(error)[:500]})
            raise CommandError(str(error)) from error
        audit_record(actor=None, event_type="backup.create", details={
            "archive": result.archive.name, "sha256": result.sha256, "media_files": result.media_files})
        self.stdout.write(f"{result.archive}\n{result.checksum_file}\nSHA-256 {result.sha256}, "
                          f"{result.media_files} media file(s)")
