"""A real Celery worker process over Redis, on the test database, for the tests that need one."""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from ccfi_portal.celery import app as celery_app

BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/15"


def _database_url() -> str:
    """The URL of the test database (pytest-django has renamed it), for the worker process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":  # the engine may be django-prometheus's wrapper of SQLite
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _configure(**conf) -> None:
    """Point the producer at another broker and backend. Celery caches its connection pool, producer
    pool and result backend on first use (e.g. an eager task earlier in the session), so drop them; and
    it prefers the CELERY_BROKER_URL of the environment (as CI sets it) to its settings, so set that too."""
    celery_app.conf.update(conf)
    if "broker_url" in conf:  # Celery reads CELERY_BROKER_URL from the environment before its settings
        if conf["broker_url"]:
            os.environ["CELERY_BROKER_URL"] = conf["broker_url"]
        else:
            os.environ.pop("CELERY_BROKER_URL", None)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)
    celery_app.amqp._rtable = None  # the routes, read once from task_routes, and the router holding them
    celery_app.amqp.__dict__.pop("router", None)


def worker_start(prefix: str, log_path: Path, *, pool: str = "threads",
                 broker_url: str = BROKER_URL) -> subprocess.Popen:
    """`celery worker` as its own process on the test database, logging to ``log_path``. It consumes both
    queues of the settings (recompute, reports) under names of its own (``CELERY_QUEUE_PREFIX``), and its
    own outbox sweep sends there too: test runs sharing the Redis database never take each other's tasks.
    ``pool="prefork"`` runs the tasks in a child process, as production does (one child)."""
    env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": broker_url,
           "SECRET_KEY": settings.SECRET_KEY, "DJANGO_SETTINGS_MODULE": "ccfi_portal.test_settings",
           "CELERY_QUEUE_PREFIX": prefix,
           "MEDIA_ROOT": str(settings.MEDIA_ROOT)}  # files the worker writes are where the test reads them
    with open(log_path, "a") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ccfi_portal", "worker", f"--pool={pool}",
             "--concurrency=1" if pool == "prefork" else "--concurrency=2",
             "--without-heartbeat", "--without-gossip", "--without-mingle", "-Q",
             f"{prefix}recompute,{prefix}reports", "--loglevel=INFO"],
            cwd=Path(settings.BASE_DIR), env=env, stdout=log, stderr=subprocess.STDOUT,
        )


def queue_prefix(queue: str) -> str:
    """The prefix of the worker whose (recompute) queue the fixture yielded."""
    return queue.removesuffix("recompute")


class RedisServer:
    """A Redis server of a test's own, on a free port, that the test may stop and start again (an outage)."""

    def __init__(self, folder: Path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.folder, self.process = folder, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=1).ping()
                return
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Gone at once, and with it every message it held (it keeps nothing on disk)."""
        self.process.kill()
        self.process.wait()


@pytest.fixture
def own_redis(tmp_path):
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed; scripts/setup.sh installs Debian's redis-server.")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture
def celery_worker_process(tmp_path, request):
    """Start `celery worker` as its own process on the test database, consuming its own recompute and reports
    queues; yield the (default) recompute queue's name; stop it afterwards. The routes of this process send
    to that worker's queues. A test marked ``worker_pool("prefork")`` gets a prefork worker (threads otherwise:
    fast to start, but a test that builds PDFs needs prefork, as production has, since WeasyPrint is not thread-safe);
    one that asks for ``own_redis`` has the worker and the producer on that server."""
    broker_url = request.getfixturevalue("own_redis").url if "own_redis" in request.fixturenames else BROKER_URL
    try:
        redis.Redis.from_url(broker_url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        pytest.fail(f"Redis is not answering at {broker_url}: {error}. Start it (see README) and run again.")
    prefix = f"test-{os.getpid()}-{time.monotonic_ns()}-"
    base = settings.CELERY_QUEUE_PREFIX
    routes = {task: {**route, "queue": prefix + route["queue"].removeprefix(base)}
              for task, route in settings.CELERY_TASK_ROUTES.items()}
    queue = prefix + settings.CELERY_TASK_DEFAULT_QUEUE.removeprefix(base)
    log_path = tmp_path / "worker.log"
    pool_marker = request.node.get_closest_marker("worker_pool")
    worker = worker_start(prefix, log_path, pool=pool_marker.args[0] if pool_marker else "threads",
                          broker_url=broker_url)
    previous = {key: celery_app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager",
                                                       "task_default_queue", "task_routes")}
    _configure(broker_url=broker_url, result_backend=broker_url, task_always_eager=False, task_default_queue=queue,
               task_routes=routes)
    try:
        yield queue
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        _configure(**previous)
        print(log_path.read_text())
