"""Front-end assets from the npm packages (installed by scripts/setup.sh, never copied into the repository),
served under ``static/vendor/``: only the files the templates use, so that collectstatic hashes and compresses
two files instead of every build each package ships (echarts' dist alone holds 9 MB of other builds and source
maps, which made collectstatic take minutes)."""
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage


class VendorFinder(BaseFinder):
    """Finds the files of ``settings.STATIC_VENDOR_FILES``: {URL path under STATIC_URL: file in node_modules}."""

    def __init__(self, *args, **kwargs):
        self.files = {url_path: Path(file) for url_path, file in settings.STATIC_VENDOR_FILES.items()}
        super().__init__(*args, **kwargs)

    def check(self, **kwargs):
        return [Error(f"{file} is missing: run scripts/setup.sh (npm ci) to install the front-end packages.",
                      id="ccfi_portal.E001") for file in self.files.values() if not file.is_file()]

    def find(self, path, find_all=False, **kwargs):
        file = self.files.get(path)
        if file is None or not file.is_file():
            return [] if find_all else None
        return [str(file)] if find_all else str(file)

    def list(self, ignore_patterns):
        for url_path, file in self.files.items():
            storage = FileSystemStorage(location=str(file.parent))
            storage.prefix = str(Path(url_path).parent)  # collectstatic writes the file under this folder
            yield file.name, storage
