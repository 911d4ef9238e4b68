"""How the indices app reacts to what the apps below it announce."""
from django.dispatch import receiver

from indices.outbox import RECOMPUTE_INDEX_TASK, work_request
from reporting.signals import period_values_approved


@receiver(period_values_approved, dispatch_uid="indices_recompute_on_approval")
def recompute_on_approval(sender, *, period_id: int, **kwargs) -> None:
    """Approved values changed: ask for the period's recomputation in the approval's own transaction
    (the outbox), so that it is queued after the commit and never lost."""
    work_request(task=RECOMPUTE_INDEX_TASK, args=[period_id], period_id=period_id)
