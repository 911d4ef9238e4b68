"""scripts/demo.sh itself, as the README's first command runs it: Redis, a worker, beat and the web server come
up, a task goes through the worker, and Ctrl-C stops every one of them (the Redis it started too)."""
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from ccfi_portal.celery import app as celery_app
from indices.tasks import methodology_check_task
from tests.celery_worker import _configure

pytestmark = pytest.mark.worker

READY_WITHIN = 75  # seconds: migrate and load_demo on a new SQLite file, then the processes start
STOPPED_WITHIN = 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _processes() -> dict[int, tuple[int, str]]:
    """Every live process: its parent and its state (Z: a zombie, i.e. exited)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
            found[int(entry.name)] = (int(ppid), state)
    return found


def _descendants(root: int) -> set[int]:
    processes = _processes()
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, (ppid, _) in processes.items() if ppid in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    processes = _processes()
    return {pid for pid in pids if pid in processes and processes[pid][1] != "Z"}


def _home_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def test_the_demo_runs_its_tasks_on_a_worker_and_stops_everything_on_ctrl_c(tmp_path, monkeypatch):
    web_port, redis_port = _free_port(), _free_port()
    # A port where no Redis answers: the script starts its own, and must stop it again.
    broker = f"redis://127.0.0.1:{redis_port}/0"
    database = tmp_path / "demo.sqlite3"
    env = {
        **os.environ,
        "HOST": "127.0.0.1", "PORT": str(web_port), "DATABASE_URL": f"sqlite:///{database}",
        "CELERY_BROKER_URL": broker, "CELERY_RESULT_BACKEND": broker, "CCFI_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"), "DEBUG": "true", "SECRET_KEY": settings.SECRET_KEY,
        # Set up already (scripts/test.sh ran setup.sh); with DEBUG the web server needs no collected files;
        # load_demo runs, without building the white papers (half a minute of PDFs).
        "CCFI_SKIP_SETUP": "1", "CCFI_SKIP_COLLECTSTATIC": "1", "REPORTS_BUILD_ON_PUBLISH": "false",
    }
    log_path = tmp_path / "demo.log"
    started = time.monotonic()
    with open(log_path, "w") as log:
        script = subprocess.Popen(["bash", "scripts/demo.sh"], cwd=settings.BASE_DIR, env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    redis_pidfile = tmp_path / "var" / "redis" / f"redis-{redis_port}.pid"
    previous = {key: celery_app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    pids: set[int] = set()
    try:
        # Ready: the home page answers and the worker answers a ping through the broker. (Celery prefers the
        # variable CELERY_BROKER_URL to its configuration, so a broker of the test run's own is replaced too.)
        monkeypatch.setenv("CELERY_BROKER_URL", broker)
        _configure(broker_url=broker, result_backend=broker, task_always_eager=False)
        ready = False
        while not ready and time.monotonic() - started < READY_WITHIN:
            assert script.poll() is None, f"demo.sh ended early:\n{log_path.read_text()}"
            ready = _home_answers(f"http://127.0.0.1:{web_port}/") and redis_pidfile.exists() and bool(
                celery_app.control.ping(timeout=1))
            if not ready:
                time.sleep(1)
        assert ready, f"the demo was not ready within {READY_WITHIN} s:\n{log_path.read_text()}"
        print(f"demo.sh ready in {time.monotonic() - started:.1f} s")

        # A task sent through the broker runs in the demo's worker, on each of its queues.
        with sqlite3.connect(database) as db:
            (version_id,) = db.execute("SELECT id FROM methodology_methodologyversion LIMIT 1").fetchone()
        for queue in ("recompute", "reports", None):
            result = methodology_check_task.apply_async(args=[version_id], queue=queue)
            assert result.get(timeout=30) == [], queue  # the demo's methodology is publishable
            assert result.successful()

        # Ctrl-C: the script, the web server (and its autoreloader's child), the worker (and its pool), beat and
        # the Redis it started all end.
        pids = _descendants(script.pid) | {int(redis_pidfile.read_text())}
        assert len(pids) >= 5, pids
        os.kill(script.pid, signal.SIGINT)
        script.wait(timeout=STOPPED_WITHIN)
        deadline = time.monotonic() + 5
        while _alive(pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(pids), f"still running after Ctrl-C: {_alive(pids)}\n{log_path.read_text()}"
    finally:
        _configure(**previous)
        if script.poll() is None:
            pids |= _descendants(script.pid)
            os.killpg(script.pid, signal.SIGKILL)
        if redis_pidfile.exists():
            pids.add(int(redis_pidfile.read_text()))
        for pid in _alive(pids):
            os.kill(pid, signal.SIGKILL)
