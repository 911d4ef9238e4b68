"""Which reports a user may see and download."""
from django.db.models import Q, QuerySet

from accounts.permissions import user_is_filer, user_is_reviewer
from indices.models import IndexRun, Report, ReportKind, ReportState
from reporting.models import ReportingPeriod


def reports_visible_to(*, user) -> QuerySet[Report]:
    """Built reports of published runs: every white paper for everyone; a city report for that
    city's filers and for reviewers."""
    reports = (Report.objects.filter(run__in=IndexRun.objects.published()).exclude(file="").exclude(sha256="")
               .select_related("run__period", "run__methodology", "city"))
    if user_is_reviewer(user):
        return reports
    if user_is_filer(user):
        return reports.filter(Q(kind=ReportKind.WHITE_PAPER) | Q(kind=ReportKind.CITY, city_id=user.city_id))
    return reports.filter(kind=ReportKind.WHITE_PAPER)


def user_may_see_city_report(user, city) -> bool:
    """A city's report is for that city's filers and for reviewers."""
    return user_is_reviewer(user) or (user_is_filer(user) and user.city_id == city.pk)


def city_reports_offered(*, user) -> list:
    """The published periods whose report of the user's own city a filer may download (built on demand)."""
    if not user_is_filer(user):
        return []
    # Only a succeeded run can be published (index_run_publish), so a published run is enough.
    return list(ReportingPeriod.objects.filter(runs__in=IndexRun.objects.published()).distinct().order_by("-data_year"))


def run_report_builds(*, run) -> dict:
    """A run's reports as the secretariat follows their builds: each white paper, and the city reports
    counted by state with the failed ones listed."""
    reports = list(Report.objects.filter(run=run).select_related("city").order_by("kind", "city__code", "language"))
    city_reports = [report for report in reports if report.kind == ReportKind.CITY]
    return {
        "white_papers": [report for report in reports if report.kind == ReportKind.WHITE_PAPER],
        "city_reports_built": sum(report.is_available for report in city_reports),
        "city_reports_failed": [report for report in city_reports if report.state == ReportState.FAILED],
    }
