from django.core.management.base import BaseCommand, CommandError

from methodology.models import MethodologyVersion
from methodology.selectors import methodology_document


class Command(BaseCommand):
    help = "Write a methodology version as one JSON document (schema: docs/methodology-schema.md)."

    def add_arguments(self, parser):
        parser.add_argument("code", help="Index code, e.g. CCFI.")
        parser.add_argument("version", help="Version label, e.g. 2025.1.")
        parser.add_argument("--out", help="File to write; standard output when omitted.")

    def handle(self, *args, code, version, out, **options):
        try:
            methodology = MethodologyVersion.objects.get(code=code, version=version)
        except MethodologyVersion.DoesNotExist:
            raise CommandError(f"No methodology version {code} {version}.") from None
        document = methodology_document(version=methodology)
        if out:
            with open(out, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(document)
            self.stderr.write(f"Wrote {code} {version} to {out}.")
        else:
            self.stdout.write(document, ending="")
