"""How the indices app reacts to what the apps below it announce."""
from django.db import transaction
from django.dispatch import receiver

from indices.tasks import recompute_index_task
from reporting.signals import period_values_approved


@receiver(period_values_approved, dispatch_uid="indices_recompute_on_approval")
def recompute_on_approval(sender, *, period_id: int, **kwargs) -> None:
    """Approved values changed: recompute the period's index once the approval is committed."""
    transaction.on_commit(lambda: recompute_index_task.delay(period_id))
