"""``manage.py restore <archive>``: checks the archive's SHA-256, then restores the database and the media files."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.backup import BackupError, backup_restore
from audit.services import audit_record


class Command(BaseCommand):
    help = ("Restore a backup archive (manage.py backup) into this portal's database and media folder, after checking "
            "its SHA-256 against the .sha256 file beside it. Refuses a database with tables or a media folder with "
            "files unless --force.")

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument("--checksum-file", type=Path, default=None,
                            help="the archive's .sha256 file (default: beside the archive)")
        parser.add_argument("--force", action="store_true",
                            help="overwrite a database that is not empty and media files of the same name")

    def handle(self, *args, archive, checksum_file=None, force=False, **options):
        try:
            manifest = backup_restore(archive, checksum_file=checksum_file, force=force)
        except BackupError as error:
            raise CommandError(str(error)) from error
        # Recorded in the restored database, after the events the archive brought back.
        audit_record(actor=None, event_type="backup.restore", details={
            "archive": archive.name, "created_at": manifest["created_at"], "forced": force})
        self.stdout.write(f"Restored {archive.name} (made {manifest['created_at']}, {manifest['engine']}, "
                          f"{manifest['media_files']} media file(s)).")
