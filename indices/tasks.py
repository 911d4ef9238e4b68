"""Celery tasks of the indices app: load by id, call a service, return plain data, and report to the
outbox request (``work_id``) that asked for them."""
import logging

from celery import shared_task
from celery.signals import worker_process_init, worker_ready
from django.db import InterfaceError, OperationalError

from indices.models import ReportState
from indices.outbox import (
    BUILD_REPORT_TASK,
    OUTBOX_SWEEP_TASK,
    RECOMPUTE_INDEX_TASK,
    work_done,
    work_failed,
    work_started,
    work_sweep,
)
from indices.reports.builder import report_engine_warm_up
from indices.reports.services import report_build_safe
from indices.services import index_run_compute
from methodology.models import MethodologyVersion
from methodology.services import methodology_publish_problems
from reporting.models import ReportingPeriod

logger = logging.getLogger(__name__)


@shared_task(name="indices.methodology_check")
def methodology_check_task(version_id: int) -> list[str]:
    """What stops a methodology version from being published; run off the request for large trees."""
    return methodology_publish_problems(version=MethodologyVersion.objects.get(pk=version_id))


@shared_task(name=RECOMPUTE_INDEX_TASK, bind=True, max_retries=5)
def recompute_index_task(self, period_id: int, work_id: int | None = None) -> dict:
    """Recompute the index of a reporting period from its approved returns (asked for on approval).

    Safe to deliver twice: the run is keyed by its inputs, so a second delivery finds the first's run
    (and takes it over if the worker computing it died). A lost database connection is retried with
    exponential back-off.
    """
    work_started(work_id)
    try:
        run = index_run_compute(period=ReportingPeriod.objects.select_related("methodology").get(pk=period_id))
    except (OperationalError, InterfaceError) as error:
        raise self.retry(exc=error, countdown=min(2 ** self.request.retries * 5, 300)) from error
    except Exception as error:
        work_failed(work_id, error)
        raise
    outcome = {"run": run.pk, "state": run.state, "input_hash": run.input_hash}
    work_done(work_id, outcome)
    return outcome


@shared_task(name=BUILD_REPORT_TASK, bind=True, max_retries=3)
def build_report_task(self, run_id: int, kind: str, language: str, city_code: str | None = None,
                      work_id: int | None = None) -> dict:
    """Build one PDF report of an index run (asked for when a run is published, or on demand).

    Safe to deliver twice: the PDF is deterministic and an unchanged file is not written again. A
    build that fails is recorded on the report (its previous file stays); a lost database
    connection is retried.
    """
    work_started(work_id)
    try:
        report = report_build_safe(run_id=run_id, kind=kind, language=language, city_code=city_code)
    except (OperationalError, InterfaceError) as error:
        raise self.retry(exc=error, countdown=min(2 ** self.request.retries * 5, 120)) from error
    except Exception as error:
        work_failed(work_id, error)
        raise
    outcome = {"report": report.pk, "state": report.state, "sha256": report.sha256, "pages": report.pages,
               "seconds": report.build_seconds, "error": report.error}
    work_done(work_id, outcome, error=report.error if report.state == ReportState.FAILED else "")
    return outcome


@shared_task(name=OUTBOX_SWEEP_TASK)
def outbox_sweep_task() -> dict:
    """Hand over again the work that is pending or was lost (run by beat every OUTBOX_SWEEP_SECONDS)."""
    return work_sweep()


@worker_ready.connect
def _sweep_at_start(**kwargs) -> None:
    """A restarted worker takes up at once the work its predecessor lost, without waiting for beat."""
    try:
        logger.info("Outbox sweep at worker start: %s", work_sweep())
    except Exception:  # a database not reachable yet must not stop the worker; beat sweeps again
        logger.exception("Outbox sweep at worker start failed")


@worker_process_init.connect
def _report_engine_warm_up(**kwargs) -> None:
    """A new worker process imports WeasyPrint and reads the fonts once, before its first report."""
    report_engine_warm_up()
