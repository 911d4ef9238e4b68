"""A task runs in a real Celery worker process over Redis, against the test database."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from ccfi_portal.celery import app as celery_app
from indices.models import Indicator
from indices.tasks import methodology_check_task

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/15"
PROJECT_DIR = Path(settings.BASE_DIR)


def _database_url() -> str:
    """The URL of the test database (pytest-django has renamed it), for the worker process."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(tmp_path):
    """Start `celery worker` as its own process on the test database; stop it afterwards."""
    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        pytest.fail(f"Redis is not answering at {BROKER_URL}: {error}. Start it (see README) and run again.")
    queue = f"test-{os.getpid()}-{time.monotonic_ns()}"
    env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": BROKER_URL,
           "SECRET_KEY": settings.SECRET_KEY, "DJANGO_SETTINGS_MODULE": "ccfi_portal.test_settings"}
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ccfi_portal", "worker", "--pool=solo", "--concurrency=1",
             "--without-heartbeat", "--without-gossip", "--without-mingle", "-Q", queue, "--loglevel=INFO"],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    previous = {key: celery_app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    celery_app.conf.update(broker_url=BROKER_URL, result_backend=BROKER_URL, task_always_eager=False)
    try:
        yield queue
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        celery_app.conf.update(previous)
        print(log_path.read_text())


def test_a_real_worker_checks_a_methodology(celery_worker_process, draft_methodology):
    incomplete = Indicator.objects.get(version=draft_methodology, code="A.2")
    incomplete.hard_max = None
    incomplete.save()

    result = methodology_check_task.apply_async(args=[draft_methodology.pk], queue=celery_worker_process)
    problems = result.get(timeout=60)

    assert problems == ["tree.children[0].children[1].bounds.hard_max: A.2 缺少 hard_max"]
    assert result.successful()
