from django.core.management.base import BaseCommand, CommandError

from indices.models import RunState
from indices.services import index_run_compute
from reporting.models import ReportingPeriod


class Command(BaseCommand):
    help = ("Recompute a reporting period's index from its approved returns, as approval does; "
            "the same inputs reuse the run already stored.")

    def add_arguments(self, parser):
        parser.add_argument("--period", type=int, required=True, metavar="YEAR", help="data year of the period")

    def handle(self, *args, period, **options):
        found = ReportingPeriod.objects.select_related("methodology").filter(data_year=period).first()
        if found is None:
            raise CommandError(f"No reporting period for data year {period}.")
        run = index_run_compute(period=found)
        if run.state == RunState.FAILED:
            raise CommandError(f"Run {run.input_hash[:12]} failed: {run.error}")
        completeness = "provisional" if run.is_provisional else "complete"
        timings = ", ".join(f"{step} {seconds * 1000:.0f} ms" for step, seconds in run.timings.items())
        self.stdout.write(f"Index {period}: run {run.input_hash[:12]} {run.state}, {run.units} cities ({completeness})"
                          + (f"; {timings}" if timings else "") + ".")
