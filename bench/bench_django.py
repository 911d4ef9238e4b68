"""Django for the benchmarks, on a throw-away database: never the project's own."""
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the project's packages, for a bench run as `python bench/NAME.py`


def setup_django(folder: str | None = None) -> str:
    """Set Django up on SQLite in ``folder`` (a new temporary one by default), or on BENCH_DATABASE_URL,
    which the bench migrates and fills, so never point it at a database you care about. Returns the folder
    (media files go there too). A second call in the same process changes nothing."""
    import django
    from django.apps import apps

    folder = folder or os.environ.get("CCFI_BENCH_FOLDER") or tempfile.mkdtemp(prefix="ccfi-bench-")
    if apps.ready:
        return folder
    os.environ["CCFI_BENCH_FOLDER"] = folder  # processes the bench starts use the same database
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite3"
    os.environ["MEDIA_ROOT"] = f"{folder}/media"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccfi_portal.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Publishing the demo's runs must not build their reports unmeasured (in eager mode, inline).
    os.environ.setdefault("REPORTS_BUILD_ON_PUBLISH", "false")
    django.setup()
    return folder
