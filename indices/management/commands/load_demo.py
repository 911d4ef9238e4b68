from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from indices.demo import DEMO_PASSWORD, demo_index_ensure, demo_load


class Command(BaseCommand):
    help = ("Load the default methodology, the 30 cities, demo accounts and two years of illustrative returns; "
            "what already exists is left as it is.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-without-debug", action="store_true",
            help="Load even though DEBUG is off (the demo creates a superuser with a published password).",
        )

    def handle(self, *args, allow_without_debug, **options):
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError(
                "load_demo creates a superuser and accounts with the published password "
                f"{DEMO_PASSWORD}; it runs only with DEBUG=true (as scripts/demo.sh sets) or --allow-without-debug."
            )
        summary = demo_load()
        state = "imported and published" if summary.methodology_created else "already present"
        self.stdout.write(f"Methodology {summary.methodology}: {state}.")
        if not summary.created_anything:
            self.stdout.write("Nothing new: the demo data is already loaded.")
        else:
            self.stdout.write(
                f"Created {summary.cities} cities, {summary.accounts} accounts, {summary.periods} reporting periods, "
                f"{summary.returns} illustrative returns with {summary.values} values."
            )
        if summary.accounts:
            self.stdout.write(f"New demo accounts share the password {DEMO_PASSWORD}.")
        for data_year in summary.skipped_periods:
            self.stdout.write(f"Data year {data_year} uses another methodology version: no demo returns added.")
        for outcome in demo_index_ensure():
            run = outcome.run
            state = "published" if outcome.published else ("published before" if run.published_at else run.state)
            self.stdout.write(f"Index {outcome.data_year}: run {run.input_hash[:12]} {state}"
                              + (f" ({run.error})" if run.error else "") + ".")
