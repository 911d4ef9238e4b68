"""Production mode for real: the Procfile's processes (gunicorn, a worker per queue, beat) run by honcho on the real
settings (DEBUG off, DJANGO_ENV=production) against the test database and Redis, until /readyz says every component
is up; a reviewer approves a return through the web, the recompute worker computes the run, a methodologist
publishes it through the web and the reports worker builds the white papers; then SIGTERM stops them all."""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from indices.demo import demo_load
from indices.models import IndexRun, RunState, WorkRequest, WorkState
from indices.outbox import BUILD_REPORT_TASK, RECOMPUTE_INDEX_TASK
from reporting.models import IndicatorReturn, ReportingPeriod, ReturnState
from tests.celery_worker import _database_url

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "Ccfi-demo-2025"
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


class _Browser:
    """Just enough of a browser for the portal's forms: cookies (whatever their Secure flag) and the CSRF token."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items()),
                   "Referer": f"http://127.0.0.1:{self.port}{path}", "Accept-Language": "en"}
        body = None
        if form is not None:
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": self.csrf_token, **form})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        page = response.read().decode()
        if match := re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page):
            self.csrf_token = match.group(1)
        return response.status, response.headers.get("Location", ""), page

    def log_in(self, username: str) -> None:
        """Password, then the second factor (production asks the reviewer and the methodologist for one)."""
        device = TOTPDevice.objects.create(user=User.objects.get(username=username), name="phone", confirmed=True)
        self.request("GET", "/accounts/login/")
        status, location, page = self.request("POST", "/accounts/login/", {
            "username": username, "password": DEMO_PASSWORD})
        assert status == 302, page[-3000:]
        self.request("GET", "/accounts/second-factor/")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        status, location, page = self.request("POST", "/accounts/second-factor/", {"token": f"{totp.token():06d}"})
        assert status == 302, page[-3000:]


def _wait_for(condition, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.5)
    raise AssertionError(f"not within {seconds} s: {what}")


def _queue_of(worker: str) -> str:
    """The queue the Celery process ``host:pid`` consumes (a pool process has its parent's command line)."""
    arguments = Path(f"/proc/{worker.rsplit(':', 1)[1]}/cmdline").read_bytes().split(b"\0")
    return arguments[arguments.index(b"-Q") + 1].decode()


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
    demo_load()  # approved returns and no run yet; one return waits for the reviewer
    period = ReportingPeriod.objects.get(data_year=2024)
    waiting = IndicatorReturn.objects.get(period=period, city__code="500000")
    IndicatorReturn.objects.filter(pk=waiting.pk).update(state=ReturnState.SUBMITTED)
    # Hashed as the real settings hash (the test settings' fast hasher is not one they accept).
    hasher = PBKDF2PasswordHasher()
    for username in ("reviewer", "methodologist"):
        User.objects.filter(username=username).update(password=hasher.encode(DEMO_PASSWORD, hasher.salt()))
    port, marker = _free_port(), f"ccfi-production-test-{uuid.uuid4()}"
    venv_bin = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{venv_bin}:{os.environ['PATH']}", "PYTHONPATH": str(settings.BASE_DIR),
           "DJANGO_SETTINGS_MODULE": "ccfi_portal.settings", "DJANGO_ENV": "production", "DEBUG": "false",
           "SECRET_KEY": settings.SECRET_KEY, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": BROKER_URL,
           "MEDIA_ROOT": str(tmp_path / "media"), "STATIC_ROOT": str(tmp_path / "static"), "PORT": str(port),
           "WEB_CONCURRENCY": "2", "PRODUCTION_TEST_MARKER": marker,
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),  # as serve.sh sets it
           # Plain HTTP on this machine (a deployment has TLS at its proxy); the white papers only, not 60 city reports.
           "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false", "SECURE_SSL_REDIRECT": "false",
           "REPORTS_CITY_ON_PUBLISH": "false"}
    env.pop("LOG_FORMAT", None)
    env.pop("CELERY_RESULT_BACKEND", None)
    log_path = tmp_path / "serve.log"
    # As the README says: scripts/serve.sh migrates, collects the static files and runs the Procfile with honcho.
    with open(log_path, "w") as log:
        honcho = subprocess.Popen(["bash", str(settings.BASE_DIR / "scripts" / "serve.sh")], env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    try:
        deadline, status, body = time.monotonic() + 120, None, {}
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

        reviewer = _Browser(port)
        reviewer.log_in("reviewer")
        status, location, _ = reviewer.request("GET", f"/review/{waiting.pk}/")
        assert status == 200, (status, location)
        started = time.monotonic()
        status, location, _ = reviewer.request("POST", f"/review/{waiting.pk}/", {"action": "approve"})
        assert status == 302 and time.monotonic() - started < 2, (status, location)
        recompute = _wait_for(lambda: WorkRequest.objects.filter(
            task=RECOMPUTE_INDEX_TASK, period=period, state__in=[WorkState.DONE, WorkState.FAILED]).first(),
            seconds=60, what="the recompute")
        assert recompute.state == WorkState.DONE, recompute.error
        assert _queue_of(recompute.worker) == "recompute" and recompute.request_id  # the web request's id went along
        run = IndexRun.objects.get(period=period)
        assert run.state == RunState.SUCCEEDED and not run.is_provisional
        assert run.units == IndicatorReturn.objects.filter(period=period).count()

        methodologist = _Browser(port)
        methodologist.log_in("methodologist")
        methodologist.request("GET", "/index/runs/")
        status, location, _ = methodologist.request("POST", f"/index/runs/{run.pk}/publish/", {})
        assert status == 302
        run.refresh_from_db()
        assert run.is_published
        builds = _wait_for(lambda: (lambda found: found if len(found) == 2 and all(
            work.state in (WorkState.DONE, WorkState.FAILED) for work in found) else None)(
            list(WorkRequest.objects.filter(task=BUILD_REPORT_TASK, run=run))), seconds=150, what="the white papers")
        assert [(work.state, work.error) for work in builds] == [(WorkState.DONE, "")] * 2
        assert {_queue_of(work.worker) for work in builds} == {"reports"}
        assert sorted(work.args[2] for work in builds) == ["en", "zh-hans"]
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
