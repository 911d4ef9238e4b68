"""Build the white paper (or one city's report) of a period's published index from the shell."""
from django.core.management.base import BaseCommand, CommandError

from accounts.models import City
from indices.models import ReportKind, ReportState
from indices.reports.builder import harfbuzz_subset_available
from indices.reports.services import LANGUAGES, report_build
from indices.selectors import run_published
from reporting.models import ReportingPeriod


class Command(BaseCommand):
    help = "Build the PDF white paper, or a city report, of a period's published index run."

    def add_arguments(self, parser):
        parser.add_argument("--period", type=int, required=True, help="Data year of the reporting period.")
        parser.add_argument("--lang", required=True, choices=LANGUAGES, help="Language of the report.")
        parser.add_argument("--city", help="Administrative division code of a city: build its city report instead.")

    def handle(self, *args, period, lang, city=None, **options):
        reporting_period = ReportingPeriod.objects.filter(data_year=period).first()
        if reporting_period is None:
            raise CommandError(f"There is no reporting period for {period}.")
        run = run_published(period=reporting_period)
        if run is None:
            raise CommandError(f"The index of {period} is not published yet.")
        city_row = None
        if city:
            city_row = City.objects.filter(code=city).first()
            if city_row is None:
                raise CommandError(f"There is no city with the code {city}.")
        if not harfbuzz_subset_available():
            self.stderr.write("Warning: libharfbuzz-subset0 is missing; font subsetting will be very slow.")
        report = report_build(run=run, kind=ReportKind.CITY if city_row else ReportKind.WHITE_PAPER,
                              language=lang, city=city_row)
        if report.state != ReportState.SUCCEEDED:
            raise CommandError(f"The build failed: {report.error}")
        self.stdout.write(f"Built {report.file.name}: {report.pages} pages, {report.size:,} bytes, "
                          f"{report.build_seconds:.1f} s, SHA-256 {report.sha256}.")
