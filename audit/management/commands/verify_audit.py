"""Check the audit trail's hash chain: the first broken link (the record where tampering starts) and a
non-zero exit status, or the number of records and the last hash (worth writing down elsewhere: it
vouches for everything before it). Events not linked yet (their process stopped between their commit
and the link) are linked first, as the next recorded event would."""
from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditChainLink
from audit.services import audit_chain_extend, audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit status 1 at the first broken link."

    def handle(self, **options):
        linked = audit_chain_extend()
        if linked:
            self.stdout.write(f"linked {linked} events recorded since the last link")
        broken = next(audit_chain_verify(), None)
        if broken is not None:
            raise CommandError(f"audit trail broken at record id {broken.event_id} "
                               f"(sequence {broken.sequence}): {broken.reason}")
        last = AuditChainLink.objects.order_by("-sequence").first()
        self.stdout.write(f"audit trail intact: {last.sequence if last else 0} records, "
                          f"last hash {last.record_hash if last else '-'}")
