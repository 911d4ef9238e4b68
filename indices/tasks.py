"""Celery tasks of the indices app: load by id, call a service, return plain data."""
from celery import shared_task

from indices.models import MethodologyVersion
from indices.services import methodology_publish_problems


@shared_task(name="indices.methodology_check")
def methodology_check_task(version_id: int) -> list[str]:
    """What stops a methodology version from being published; run off the request for large trees."""
    return methodology_publish_problems(version=MethodologyVersion.objects.get(pk=version_id))


@shared_task(name="indices.recompute_index", bind=True)
def recompute_index_task(self, period_id: int) -> None:
    """Recompute the index of a reporting period from its approved returns (enqueued on approval).

    The index engine's Django layer gives this its body; until then approval only enqueues it.
    """
