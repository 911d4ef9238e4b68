"""python manage.py doctor: is this installation ready to run? One line per check, exit code 1 if any fails.

The checks are those of /readyz (database, broker, workers, and whatever the apps add) and the doctor-only ones
(migrations applied, translations compiled, the reports' CJK font and HarfBuzz subsetter), all from the registry
in ccfi_portal.health. The command lives in indices, the top app, because the layers contract lets every app
import ccfi_portal.health but lets nothing import the wiring (ccfi_portal.urls...), and ccfi_portal is no app.
"""
from django.core.management.base import BaseCommand, CommandError

from ccfi_portal.health import EAGER, FAIL, checks_run


class Command(BaseCommand):
    help = "Checks the database, broker, workers, migrations, translations and the reports' font and subsetter."

    def handle(self, *args, **options):
        report = checks_run()
        width = max(len(name) for name in report.results)
        for name, (check, result) in report.results.items():
            label = {FAIL: "FAIL" if check.required else "WARN", EAGER: "EAGER"}.get(result.state, "OK")
            line = f"{label:<5} {name:<{width}}  {result.detail}"
            if result.state == FAIL:
                if result.error:
                    line += f": {result.error}"
                if result.hint:
                    line += f". {result.hint}"
            style = self.style.ERROR if result.state == FAIL and check.required else self.style.SUCCESS
            self.stdout.write(style(line.rstrip()))
        if not report.healthy:
            failed = [name for name, (check, result) in report.results.items()
                      if check.required and result.state == FAIL]
            raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)}", returncode=1)
