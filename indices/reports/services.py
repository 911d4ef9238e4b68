"""Building reports: render, store with its checksum, and keep the previous file when a build fails."""
from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import City
from accounts.permissions import may_rebuild_reports
from audit.services import audit_record
from ccfi_portal.i18n import is_chinese, pick
from indices.models import IndexRun, Report, ReportKind, ReportState
from indices.outbox import BUILD_REPORT_TASK, work_requests
from indices.reports.builder import report_render_pdf

logger = logging.getLogger(__name__)

LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)
NOT_METHODOLOGIST_MESSAGE = gettext_noop("Only a methodologist may rebuild the reports of a run.")
NOT_PUBLISHED_MESSAGE = gettext_noop("Only a published run has reports; publish the run first.")


def report_file_name(*, run: IndexRun, kind: str, language: str, city: City | None, sha256: str) -> str:
    """Storage name: by year, kind, language (and city), with the content hash, so a new build never
    overwrites the file a reader may be downloading."""
    parts = [f"ccfi-{run.period.data_year}", kind.replace("_", "-"), language]
    if city is not None:
        parts.append(city.code)
    return f"{run.period.data_year}/{'-'.join(parts)}-{sha256[:12]}.pdf"


def report_download_name(report) -> str:
    """The name the browser saves: CCFI-2024-中国消费金融指数白皮书.pdf, CCFI-2024-重庆-城市报告.pdf, ..."""
    year = report.run.period.data_year
    if report.kind == ReportKind.CITY:
        city = pick(report.city, "name", report.language).replace("'", "")
        label = "城市报告" if is_chinese(report.language) else "city-report"
        return f"CCFI-{year}-{city}-{label}.pdf"
    label = "中国消费金融指数白皮书" if is_chinese(report.language) else "white-paper-en"
    return f"CCFI-{year}-{label}.pdf"


def report_build(*, run: IndexRun, kind: str, language: str, city: City | None = None) -> Report:
    """Build (or rebuild) one report of ``run`` and store it.

    Idempotent: the PDF is deterministic (fixed dates and identifier), so the same run and language
    give the same bytes, and an unchanged file is not written again. A failed build records the error
    on the report and leaves its previous file, checksum, size and page count in place.
    """
    if language not in LANGUAGES:
        raise ValueError(f"Unknown report language {language!r}.")
    if (kind == ReportKind.CITY) != (city is not None):
        raise ValueError("A city report needs a city, and only a city report has one.")
    report, _created = Report.objects.get_or_create(run=run, kind=kind, language=language, city=city)
    Report.objects.filter(pk=report.pk).update(state=ReportState.BUILDING, error="")
    started = time.perf_counter()
    try:
        rendered = report_render_pdf(run=run, kind=kind, language=language, city=city)
    except Exception as error:
        logger.exception("Report %s of run %s failed to build", report.pk, run.pk)
        Report.objects.filter(pk=report.pk).update(
            state=ReportState.FAILED, error=f"{type(error).__name__}: {error}"[:2000], updated_at=timezone.now())
        report.refresh_from_db()
        return report
    seconds = round(time.perf_counter() - started, 3)
    digest = hashlib.sha256(rendered.content).hexdigest()
    report.refresh_from_db()
    previous_name = report.file.name if report.file else ""
    if digest != report.sha256 or not report.file or not report.file.storage.exists(report.file.name):
        name = report_file_name(run=run, kind=kind, language=language, city=city, sha256=digest)
        stored_name = report.file.field.generate_filename(report, name)  # with the field's upload_to
        if report.file.storage.exists(stored_name):
            report.file.storage.delete(stored_name)
        report.file.save(name, ContentFile(rendered.content), save=False)
        report.built_at = timezone.now()
    with transaction.atomic():
        report.sha256, report.size, report.pages = digest, len(rendered.content), rendered.pages
        report.build_seconds, report.state, report.error = seconds, ReportState.SUCCEEDED, ""
        report.save()
    if previous_name and previous_name != report.file.name:
        # Delete the replaced file only after the row points at the new one.
        transaction.on_commit(lambda: report.file.storage.delete(previous_name))
    return report


def report_build_safe(*, run_id: int, kind: str, language: str, city_code: str | None = None) -> Report:
    """report_build from plain ids (what the task and the command receive)."""
    run = IndexRun.objects.select_related("period", "methodology").get(pk=run_id)
    city = City.objects.get(code=city_code) if city_code else None
    return report_build(run=run, kind=kind, language=language, city=city)


def reports_request_for_run(run: IndexRun, *, actor=None) -> None:
    """Ask, in the caller's transaction, for the builds of a published run's reports: the white paper in
    every language (one task each, so two workers build the two editions at once), then each city's
    report. Queued after the commit through the outbox, so a broker outage delays them only.

    City reports follow ``settings.REPORTS_CITY_ON_PUBLISH`` (on with workers: in eager mode sixty city
    reports would take half a minute in the request; they are built on first download).
    """
    builds = [[run.pk, ReportKind.WHITE_PAPER, language] for language in LANGUAGES]
    if settings.REPORTS_CITY_ON_PUBLISH:
        codes = run.scores.filter(level=0).values_list("city__code", flat=True).order_by("city__code")
        builds += [[run.pk, ReportKind.CITY, language, code] for code in codes for language in LANGUAGES]
    work_requests(task=BUILD_REPORT_TASK, args_list=builds, run_id=run.pk, actor=actor)


@transaction.atomic
def reports_rebuild(*, run: IndexRun, actor, ip_address: str | None = None) -> None:
    """A methodologist asks for a published run's reports to be built again: after a failed build, or
    after the report templates changed. Unchanged files are not rewritten (builds are deterministic)."""
    if not may_rebuild_reports(actor):
        raise PermissionDenied(_(NOT_METHODOLOGIST_MESSAGE))
    if not run.is_published:
        raise ValidationError(_(NOT_PUBLISHED_MESSAGE), code="not_published")
    audit_record(actor=actor, event_type="reports.rebuild", obj=run, ip_address=ip_address,
                 details={"input_hash": run.input_hash})
    reports_request_for_run(run, actor=actor)


def city_report_ensure(*, run: IndexRun, city: City, language: str) -> Report:
    """The city's report of a published run, built now if no build has succeeded yet (about a second)."""
    report = Report.objects.filter(run=run, kind=ReportKind.CITY, city=city, language=language).first()
    if report is not None and report.is_available:
        return report
    return report_build(run=run, kind=ReportKind.CITY, language=language, city=city)
