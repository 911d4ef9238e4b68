"""A task runs in a real Celery worker process over Redis, against the test database."""
import pytest

from indices.tasks import methodology_check_task
from methodology.models import Indicator

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_checks_a_methodology(celery_worker_process, draft_methodology):
    incomplete = Indicator.objects.get(version=draft_methodology, code="A.2")
    incomplete.hard_max = None
    incomplete.save()

    result = methodology_check_task.apply_async(args=[draft_methodology.pk], queue=celery_worker_process)
    problems = result.get(timeout=60)

    assert problems == ["tree.children[0].children[1].bounds.hard_max: A.2 缺少 hard_max"]
    assert result.successful()
