"""Production mode for real: the Procfile's processes (gunicorn, a worker per queue, beat) run by honcho on the real
settings (DEBUG off, DJANGO_ENV=production) against the test database and Redis, until /readyz says every component
is up; then SIGTERM stops them all."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tests.celery_worker import _database_url

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BROKER_URL = "redis://127.0.0.1:6379/13"  # this test's own database: the Procfile's queue names are the real ones


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _readyz(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _processes_with(marker: str) -> list[int]:
    """The processes whose environment carries ``marker`` (everything honcho started, and their children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_the_procfile_runs_ready_on_the_real_settings_and_stops_on_sigterm(tmp_path):
    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        pytest.fail(f"Redis is not answering at {BROKER_URL}: {error}.")
    port, marker = _free_port(), f"ccfi-production-test-{uuid.uuid4()}"
    venv_bin = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{venv_bin}:{os.environ['PATH']}", "PYTHONPATH": str(settings.BASE_DIR),
           "DJANGO_SETTINGS_MODULE": "ccfi_portal.settings", "DJANGO_ENV": "production", "DEBUG": "false",
           "SECRET_KEY": settings.SECRET_KEY, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": BROKER_URL,
           "MEDIA_ROOT": str(tmp_path / "media"), "WEB_CONCURRENCY": "2", "PRODUCTION_TEST_MARKER": marker,
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")}  # as serve.sh sets it
    env.pop("LOG_FORMAT", None)
    (tmp_path / "prometheus").mkdir()
    env.pop("CELERY_RESULT_BACKEND", None)
    (tmp_path / "var").mkdir()  # beat's schedule file, relative to the working directory as in serve.sh
    log_path = tmp_path / "honcho.log"
    # The Procfile as serve.sh runs it (its working directory aside: a temporary one, for beat's schedule file).
    command = [os.path.join(venv_bin, "honcho"), "start", "--procfile", str(settings.BASE_DIR / "Procfile"),
               "--app-root", str(tmp_path), "--env", "/dev/null", "--port", str(port), "--no-colour"]
    with open(log_path, "w") as log:
        honcho = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline, status, body = time.monotonic() + 60, None, {}
        while time.monotonic() < deadline and honcho.poll() is None:
            try:
                status, body = _readyz(port)
            except OSError:  # not listening yet
                status = None
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200, (status, body, log_path.read_text()[-5000:])
        assert {name: component["status"] for name, component in body["components"].items()} == {
            "database": "ok", "broker": "ok", "workers": "ok", "outbox": "ok"}
        assert body["components"]["workers"]["detail"] == "2 worker(s) on recompute, reports"
        started = time.monotonic()
        status, _ = _readyz(port)
        assert status == 200 and time.monotonic() - started < 3
        # Every gunicorn worker's requests are counted, whichever answers the scrape (multiprocess mode).
        for _ in range(4):
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/healthz",
                                                          headers={"X-Request-ID": "prod-test-1"}), timeout=5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert 'django_http_requests_total_by_view_transport_method_total{method="GET",transport="http",' \
               'view="healthz"} 4.0' in metrics
        assert 'ccfi_outbox_unfinished{state="pending"}' in metrics
    finally:
        honcho.send_signal(signal.SIGTERM)
        try:
            honcho.wait(timeout=20)
        except subprocess.TimeoutExpired:
            honcho.kill()
        left = _processes_with(marker)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        print(log_path.read_text())
    assert honcho.returncode is not None
    assert left == [], "processes still running 20 s after SIGTERM"
    log = log_path.read_text()
    assert "web.1" in log and "recompute.1" in log and "reports.1" in log and "beat.1" in log
    # The web process logs JSON, one object a line (after honcho's "time web.1 | " prefix), with the request id.
    web = [json.loads(line.split("| ", 1)[1]) for line in log.splitlines() if " web.1 " in line and "| {" in line]
    request_lines = [record for record in web if record["logger"] == "ccfi_portal.request"
                     and record["request_id"] == "prod-test-1"]
    assert len(request_lines) == 4 and request_lines[0]["path"] == "/healthz" and request_lines[0]["status"] == 200
    assert any(record["logger"] == "gunicorn.error" and "Booting worker" in record["message"] for record in web)
