"""Check the audit trail's hash chain: the first broken link (the record where tampering starts) and a
non-zero exit status, or the number of records and the last hash (worth writing down elsewhere: it
vouches for everything before it)."""
from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.services import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit status 1 at the first broken link."

    def handle(self, **options):
        broken = next(audit_chain_verify(), None)
        if broken is not None:
            raise CommandError(f"audit trail broken at record id {broken.event_id} "
                               f"(sequence {broken.sequence}): {broken.reason}")
        last = AuditEvent.objects.filter(sequence__isnull=False).order_by("-sequence").first()
        count = last.sequence if last else 0
        self.stdout.write(f"audit trail intact: {count} records, last hash {last.record_hash if last else '-'}")
