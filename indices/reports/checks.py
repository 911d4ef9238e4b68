"""The PDF reports need HarfBuzz's subsetter and the CJK font to build in seconds: a system check (a warning at
every manage.py command) and two checks of ``python manage.py doctor`` (ccfi_portal.health's registry)."""
import shutil
import subprocess  # runs fc-list with a fixed argument list, no shell  # nosec B404

from django.core.checks import Warning as CheckWarning

from ccfi_portal.health import FAIL, OK, Result
from indices.reports.builder import harfbuzz_subset_available
from indices.reports.charts import FONT

HARFBUZZ_HINT = "Run scripts/setup.sh (apt-get install libharfbuzz-subset0)."
FONT_HINT = "Run scripts/setup.sh (apt-get install fonts-noto-cjk)."


def cjk_font_installed() -> bool | None:
    """Whether fontconfig knows the reports' CJK font; None when fc-list is not there to ask."""
    if not shutil.which("fc-list"):
        return None
    # fc-list found on PATH just above; FONT is a constant of the code.
    return bool(subprocess.run(["fc-list", FONT], capture_output=True, text=True,  # nosec B603 B607
                               check=False).stdout.strip())


def report_dependencies_check(app_configs=None, **kwargs):
    problems = []
    if not harfbuzz_subset_available():
        problems.append(CheckWarning(
            "libharfbuzz-subset0 is not installed: WeasyPrint falls back to fontTools and a CJK report takes "
            "minutes instead of seconds.", hint=HARFBUZZ_HINT, id="indices.W101"))
    if cjk_font_installed() is False:
        problems.append(CheckWarning(
            f"The font {FONT} is not installed: Chinese text in the PDF reports cannot be set.",
            hint=FONT_HINT, id="indices.W102"))
    return problems


def harfbuzz_doctor_check() -> Result:
    if harfbuzz_subset_available():
        return Result(OK, "libharfbuzz-subset found: fonts are subset in seconds")
    return Result(FAIL, "libharfbuzz-subset missing: a CJK report takes minutes", hint=HARFBUZZ_HINT)


def cjk_font_doctor_check() -> Result:
    installed = cjk_font_installed()
    if installed:
        return Result(OK, FONT)
    if installed is None:
        return Result(FAIL, "fc-list not found: cannot tell whether the CJK font is installed",
                      hint="apt-get install fontconfig, then run scripts/setup.sh.")
    return Result(FAIL, f"{FONT} not installed: Chinese text in the reports cannot be set", hint=FONT_HINT)
