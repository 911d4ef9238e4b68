"""The download page of the published reports, and the downloads themselves."""
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import City
from audit.services import audit_record
from indices.models import ReportKind
from indices.reports.selectors import city_reports_offered, reports_visible_to, user_may_see_city_report
from indices.reports.services import LANGUAGES, city_report_ensure, report_download_name
from indices.selectors import run_published
from reporting.models import ReportingPeriod


@require_GET
def report_list(request):
    reports = list(reports_visible_to(user=request.user).order_by(
        "-run__period__data_year", "kind", "city__code", "language"))
    for report in reports:
        report.download_name = report_download_name(report)
    white_papers = [report for report in reports if report.kind == ReportKind.WHITE_PAPER]
    city_reports = [report for report in reports if report.kind == ReportKind.CITY]
    return render(request, "reports/report_list.html", {
        "white_papers": white_papers, "city_reports": city_reports, "title": _("Reports"),
        "own_city_periods": city_reports_offered(user=request.user),
    })


@require_GET
def report_download(request, pk: int):
    # A report the user may not see is a 404, like another city's return: its existence is not told.
    return _serve(request, get_object_or_404(reports_visible_to(user=request.user), pk=pk))


@require_GET
def city_report(request, year: int, code: str, language: str):
    """A city's report of the year's published run, built on first request if no worker has built it."""
    city = get_object_or_404(City, code=code)
    run = run_published(period=get_object_or_404(ReportingPeriod, data_year=year))
    if run is None or language not in LANGUAGES or not user_may_see_city_report(request.user, city):
        raise Http404
    report = city_report_ensure(run=run, city=city, language=language)
    if not report.is_available:
        raise Http404
    return _serve(request, report)


def _serve(request, report) -> FileResponse:
    try:
        handle = report.file.open("rb")
    except (FileNotFoundError, OSError) as error:
        raise Http404 from error
    audit_record(actor=request.user, event_type="report.download", obj=report,
                 details={"name": report_download_name(report), "sha256": report.sha256})
    response = FileResponse(handle, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True,
                                                                 filename=report_download_name(report))
    response["Content-Length"] = report.size
    response["X-Content-SHA256"] = report.sha256
    return response
