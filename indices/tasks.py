"""Celery tasks of the indices app: load by id, call a service, return plain data."""
from celery import shared_task
from celery.signals import worker_process_init
from django.db import InterfaceError, OperationalError

from indices.reports.builder import report_engine_warm_up
from indices.reports.services import report_build_safe
from indices.services import index_run_compute
from indices.task_queue import BUILD_REPORT_TASK, RECOMPUTE_INDEX_TASK
from methodology.models import MethodologyVersion
from methodology.services import methodology_publish_problems
from reporting.models import ReportingPeriod


@shared_task(name="indices.methodology_check")
def methodology_check_task(version_id: int) -> list[str]:
    """What stops a methodology version from being published; run off the request for large trees."""
    return methodology_publish_problems(version=MethodologyVersion.objects.get(pk=version_id))


@shared_task(name=RECOMPUTE_INDEX_TASK, bind=True, max_retries=5)
def recompute_index_task(self, period_id: int) -> dict:
    """Recompute the index of a reporting period from its approved returns (enqueued on approval).

    Safe to deliver twice: the run is keyed by its inputs, so a second delivery finds the first's run.
    A lost database connection is retried with exponential back-off.
    """
    try:
        run = index_run_compute(period=ReportingPeriod.objects.select_related("methodology").get(pk=period_id))
    except (OperationalError, InterfaceError) as error:
        raise self.retry(exc=error, countdown=min(2 ** self.request.retries * 5, 300)) from error
    return {"run": run.pk, "state": run.state, "input_hash": run.input_hash}


@shared_task(name=BUILD_REPORT_TASK, bind=True, max_retries=3)
def build_report_task(self, run_id: int, kind: str, language: str, city_code: str | None = None) -> dict:
    """Build one PDF report of an index run (enqueued when a run is published, or on demand).

    Safe to deliver twice: the PDF is deterministic and an unchanged file is not written again. A
    build that fails is recorded on the report (its previous file stays); a lost database
    connection is retried.
    """
    try:
        report = report_build_safe(run_id=run_id, kind=kind, language=language, city_code=city_code)
    except (OperationalError, InterfaceError) as error:
        raise self.retry(exc=error, countdown=min(2 ** self.request.retries * 5, 120)) from error
    return {"report": report.pk, "state": report.state, "sha256": report.sha256, "pages": report.pages,
            "seconds": report.build_seconds}


@worker_process_init.connect
def _report_engine_warm_up(**kwargs) -> None:
    """A new worker process imports WeasyPrint and reads the fonts once, before its first report."""
    report_engine_warm_up()
