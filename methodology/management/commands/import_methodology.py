from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from indices.engine.spec import DocumentError
from methodology.models import render_problem
from methodology.services import methodology_import


class Command(BaseCommand):
    help = "Create a draft methodology version from a JSON document; an invalid document changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The JSON document (schema: docs/methodology-schema.md).")
        parser.add_argument("--as-version", dest="version_label", help="Import under this version label instead.")

    def handle(self, *args, file, version_label, **options):
        try:
            with open(file, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        try:
            version = methodology_import(text=text, actor=None, version_label=version_label)
        except DocumentError as error:
            lines = "\n".join(f"  - {render_problem(problem)}" for problem in error.problems)
            raise CommandError(f"{file} is not a valid methodology document; nothing was imported:\n{lines}") from error
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"Imported {version.code} {version.version} as a draft "
                          f"({version.indicators.count()} indicators and context variables).")
