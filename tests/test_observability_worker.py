"""The request id with a real worker: the outbox hands it over as a message header, and the worker's log lines of
that task carry it (in the JSON format of production)."""
import json
import time

import pytest
from django.db import transaction
from django_guid import clear_guid, set_guid

from indices.demo import demo_load
from indices.models import WorkRequest, WorkState
from indices.outbox import RECOMPUTE_INDEX_TASK, work_request
from reporting.models import ReportingPeriod

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def json_logs(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")  # before the worker starts: it reads its settings then


def test_a_worker_logs_the_task_under_the_request_id_of_the_request_that_asked(json_logs, celery_worker_process,
                                                                                tmp_path):
    demo_load()
    period = ReportingPeriod.objects.get(data_year=2024)
    set_guid("req-from-the-web-42")  # as django-guid's middleware does for a request
    try:
        with transaction.atomic():
            work = work_request(task=RECOMPUTE_INDEX_TASK, args=[period.pk], period_id=period.pk)
    finally:
        clear_guid()
    deadline = time.monotonic() + 90
    while not WorkRequest.objects.filter(pk=work.pk, state=WorkState.DONE).exists():
        assert time.monotonic() < deadline, "the worker did not finish the recompute within 90 s"
        time.sleep(0.05)
    time.sleep(0.5)  # the worker logs the task's success just after reporting it done

    records = [json.loads(line) for line in (tmp_path / "worker.log").read_text().splitlines()
               if line.startswith("{")]
    of_task = [record for record in records if record.get("work_id") == work.pk]
    assert of_task, records
    assert {record["request_id"] for record in of_task} == {"req-from-the-web-42"}
    assert {record["task_name"] for record in of_task} == {RECOMPUTE_INDEX_TASK}
