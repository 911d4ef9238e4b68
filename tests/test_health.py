"""/healthz, /readyz, `manage.py doctor` and the settings' refusal to run production with DEBUG or a weak secret."""
import datetime
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ccfi_portal import health
from tests.celery_worker import _configure


@pytest.fixture
def closed_broker():
    """Tasks go to a broker that refuses connections (nothing listens on port 1)."""
    from ccfi_portal.celery import app

    previous = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    _configure(broker_url="redis://127.0.0.1:1/0", task_always_eager=False)
    yield
    _configure(**previous)


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz")  # no django_db mark: a query would raise

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ready_with_the_database_up_and_tasks_in_process(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: component["status"] for name, component in body["components"].items()} == {
        "database": "ok", "broker": "eager", "workers": "eager", "outbox": "ok"}


@pytest.mark.django_db
def test_readyz_is_unavailable_quickly_when_the_broker_is_down_and_says_nothing_secret(client, closed_broker):
    started = time.monotonic()
    response = client.get("/readyz")
    seconds = time.monotonic() - started

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["broker"] == {"status": "fail", "ms": body["components"]["broker"]["ms"],
                                            "detail": "unreachable (OperationalError)"}
    assert body["components"]["workers"]["status"] == "fail"
    assert seconds < 3
    text = response.content.decode()
    assert "redis://" not in text and "127.0.0.1" not in text and settings.SECRET_KEY not in text


@pytest.mark.django_db
def test_the_health_pages_are_open_to_a_user_stopped_at_a_login_gate(client, reviewer, settings):
    """An expired password sends every page to the password form, but not the probes."""
    settings.PASSWORD_MAX_AGE_DAYS = 1
    type(reviewer).objects.filter(pk=reviewer.pk).update(date_joined=timezone.now() - datetime.timedelta(days=2))
    reviewer.password_records.all().delete()
    reviewer.refresh_from_db()
    client.force_login(reviewer)

    assert client.get("/").status_code == 302
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_a_registered_check_appears_in_readyz_and_its_failure_makes_it_503(client, db):
    def outbox_check():
        raise RuntimeError("postgres://user:secret@db/ccfi is gone")

    health.check_register("outbox", outbox_check)
    try:
        response = client.get("/readyz")
    finally:
        health._CHECKS.pop("outbox")

    assert response.status_code == 503
    assert response.json()["components"]["outbox"]["detail"] == "RuntimeError"
    assert "secret" not in response.content.decode()


def test_a_check_not_required_is_reported_without_making_readyz_fail(client, db):
    health.check_register("optional", lambda: health.Result(health.FAIL, "down"), required=False)
    try:
        response = client.get("/readyz")
    finally:
        health._CHECKS.pop("optional")

    assert response.status_code == 200
    assert response.json()["components"]["optional"] == {"status": "fail", "ms": pytest.approx(0, abs=50),
                                                         "detail": "down", "required": False}


@pytest.mark.django_db
def test_doctor_passes_on_a_healthy_installation_and_names_every_check(capsys):
    call_command("doctor")

    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[1] for line in lines]
    assert names == ["database", "broker", "workers", "migrations", "translations", "cjk_font", "harfbuzz_subset"]
    assert all(line.split()[0] in ("OK", "EAGER") for line in lines)


@pytest.mark.django_db
def test_doctor_fails_with_what_to_do_when_the_broker_is_down(capsys, closed_broker):
    with pytest.raises(CommandError, match="2 check\\(s\\) failed: broker, workers") as failure:
        call_command("doctor")

    assert failure.value.returncode == 1
    out = capsys.readouterr().out
    assert "FAIL  broker" in out and "Start Redis, or check CELERY_BROKER_URL" in out


def test_doctor_says_which_migrations_are_missing(db):
    result = health.check_run(health.Check("migrations", health.migrations_check))
    assert result.state == health.OK

    from django.db.migrations.recorder import MigrationRecorder
    MigrationRecorder.Migration.objects.filter(app="audit").delete()
    result = health.check_run(health.Check("migrations", health.migrations_check))
    assert result.state == health.FAIL and "audit.0001_initial" in result.detail
    assert result.hint == "Run: python manage.py migrate"


def _settings_in_a_new_process(**environ) -> subprocess.CompletedProcess:
    """Load the real settings in a fresh interpreter with this environment (no .env read: the keys it would set
    are given here)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("DEBUG", "DJANGO_ENV", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(DJANGO_SETTINGS_MODULE="ccfi_portal.settings", **environ)
    return subprocess.run([sys.executable, "-c", "import django; django.setup(); print('started')"],
                          cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60)


STRONG = "p" + "Zq8Lm3Vx7Rk2Tn9Wb4Hc6Jd1Fg5Ys0Ae" * 2


@pytest.mark.parametrize(("environ", "message"), [
    ({"DEBUG": "true", "DJANGO_ENV": "production"}, "DEBUG is on with DJANGO_ENV=production"),
    ({"DEBUG": "false", "DJANGO_ENV": "production", "DATABASE_URL": "", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/10"},
     "DATABASE_URL not set with DJANGO_ENV=production"),
    ({"DEBUG": "false", "SECRET_KEY": "short-secret"}, "SECRET_KEY is too weak for DEBUG off"),
    ({"DEBUG": "false", "SECRET_KEY": "django-insecure-" + "x1y2z3" * 10}, "SECRET_KEY is too weak for DEBUG off"),
    ({"DEBUG": "false", "SECRET_KEY": "ab" * 30}, "SECRET_KEY is too weak for DEBUG off"),
])
def test_the_settings_refuse_production_with_debug_a_weak_secret_or_no_services(environ, message):
    environ = {"SECRET_KEY": STRONG, **environ}

    finished = _settings_in_a_new_process(**environ)

    assert finished.returncode != 0
    assert "ImproperlyConfigured" in finished.stderr and message in finished.stderr


def test_the_settings_start_in_production_with_debug_off_a_strong_secret_and_both_services():
    finished = _settings_in_a_new_process(DEBUG="false", DJANGO_ENV="production", SECRET_KEY=STRONG,
                                          DATABASE_URL="postgres://postgres@127.0.0.1:5432/ccfi",
                                          CELERY_BROKER_URL="redis://127.0.0.1:6379/10")

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "started"
