"""System check: the PDF reports need HarfBuzz's subsetter and the CJK font to build in seconds."""
import shutil
import subprocess

from django.core.checks import Warning as CheckWarning

from indices.reports.builder import harfbuzz_subset_available
from indices.reports.charts import FONT


def report_dependencies_check(app_configs=None, **kwargs):
    problems = []
    if not harfbuzz_subset_available():
        problems.append(CheckWarning(
            "libharfbuzz-subset0 is not installed: WeasyPrint falls back to fontTools and a CJK report takes "
            "minutes instead of seconds.", hint="Run scripts/setup.sh (apt-get install libharfbuzz-subset0).",
            id="indices.W101"))
    if shutil.which("fc-list"):
        found = subprocess.run(["fc-list", FONT], capture_output=True, text=True, check=False).stdout.strip()
        if not found:
            problems.append(CheckWarning(
                f"The font {FONT} is not installed: Chinese text in the PDF reports cannot be set.",
                hint="Run scripts/setup.sh (apt-get install fonts-noto-cjk).", id="indices.W102"))
    return problems
