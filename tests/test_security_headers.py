"""Deploy-grade HTTP: the security headers, a Content-Security-Policy the pages keep to, the error pages, and
`check --deploy` clean on the production settings. The browser side (no violation in Chromium) is in
tests/e2e/test_content_security_policy.py."""
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.utils import translation
from django.views import defaults

from accounts.models import User
from methodology.models import MethodologyVersion
from tests.reporting.conftest import (  # noqa: F401  (fixtures)
    ccfi,
    draft,
    last_year,
    media_root,
    period,
    period_2023,
    today,
    values,
)

PASSWORD = "Ccfi-test-2025"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {name: sources for name, *sources in (part.split() for part in policy.split(";") if part.strip())}


def assert_no_inline_code(response, where: str) -> None:
    html = response.content.decode()
    assert INLINE_SCRIPT.findall(html) == [], where
    assert INLINE_STYLE.findall(html) == [], where


@pytest.mark.django_db
def test_pages_carry_the_policy_and_the_other_security_headers(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    policy = directives(response)
    for name in ("script-src", "style-src"):
        assert policy[name] == ["'self'"], policy
    assert not any("'unsafe-inline'" in sources or "'unsafe-eval'" in sources for sources in policy.values())
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert_no_inline_code(response, "login")


@pytest.mark.django_db
def test_the_portal_pages_hold_no_inline_script_or_style(client, draft, reviewer):  # noqa: F811
    for path in ("/", "/rankings/", "/methodology/", "/reports/", "/accounts/login/"):
        response = client.get(path, follow=True)
        assert response.status_code == 200, path
        assert_no_inline_code(response, path)
    client.force_login(User.objects.get(username="filer-chongqing"))
    for path in ("/", "/returns/", f"/returns/{draft.pk}/", f"/returns/{draft.pk}/history/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<form" in response.content.decode()
        assert_no_inline_code(response, path)
    client.force_login(reviewer)
    for path in ("/review/", "/review/board/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_inline_code(response, path)


@pytest.mark.django_db
def test_the_second_factor_enrolment_page_draws_its_qr_code_without_inline_style(client, reviewer, settings):
    """segno's SVG sits in the page itself: its attributes must not include a style."""
    settings.OTP_REQUIRED = True
    client.force_login(reviewer)
    response = client.get("/accounts/second-factor/")
    assert response.status_code == 200
    assert 'data-testid="second-factor-qr"' in response.content.decode() and "<svg" in response.content.decode()
    assert_no_inline_code(response, "second factor")


@pytest.mark.django_db
def test_the_admin_pages_hold_no_inline_script_or_style(client, draft):  # noqa: F811
    """Django's admin (5.2) keeps its scripts in files and its data in attributes; the portal's own admin
    templates do too."""
    client.force_login(User.objects.create_superuser(username="root-admin", password=PASSWORD))
    version = MethodologyVersion.objects.get()
    filer = User.objects.get(username="filer-chongqing")
    for path in ("/admin/", "/admin/accounts/user/", "/admin/accounts/user/add/",
                 f"/admin/accounts/user/{filer.pk}/change/", "/admin/methodology/methodologyversion/",
                 f"/admin/methodology/methodologyversion/{version.pk}/change/",
                 f"/admin/methodology/methodologyversion/diff/?new={version.pk}",
                 "/admin/reporting/indicatorreturn/", f"/admin/reporting/indicatorreturn/{draft.pk}/change/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<script" in response.content.decode(), path  # the admin's scripts load, from files
        assert_no_inline_code(response, path)


@pytest.mark.parametrize("view, status, chinese, english", [
    (defaults.bad_request, 400, "请求有误", "Bad request"),
    (defaults.permission_denied, 403, "无权访问", "Access denied"),
    (defaults.page_not_found, 404, "页面不存在", "Page not found"),
    (defaults.server_error, 500, "服务器错误", "Server error"),
])
@pytest.mark.django_db
def test_the_error_pages_are_the_portals_in_both_languages(view, status, chinese, english):
    for language, title in (("zh-hans", chinese), ("en", english)):
        request = RequestFactory().get("/somewhere/")
        with translation.override(language):
            response = view(request) if status == 500 else view(request, Exception("detail not shown"))
        html = response.content.decode()
        assert response.status_code == status
        assert f'<h1 data-testid="error-title">{title}</h1>' in html, (language, html[:500])
        assert 'class="site-header"' in html  # the portal's layout, base.html
        assert "detail not shown" not in html
        assert_no_inline_code(response, f"{status} {language}")


@pytest.mark.django_db
def test_an_unknown_address_answers_the_portals_404_with_the_policy(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
    assert directives(response)["script-src"] == ["'self'"]


def production_environment(**overrides) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ccfi_portal.settings", "DJANGO_ENV": "production",
           "DEBUG": "false", "SECRET_KEY": settings.SECRET_KEY,
           "DATABASE_URL": "postgres://ccfi@127.0.0.1:5432/ccfi", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the browser tests' (tests/e2e/conftest.py), never a deployment's
    return {**env, **overrides}


def test_check_deploy_is_clean_on_the_production_settings():
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=settings.BASE_DIR, env=production_environment(), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout


def test_check_deploy_fails_when_a_protection_is_turned_off():
    """The check above can fail: HSTS off is reported."""
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=settings.BASE_DIR, env=production_environment(SECURE_HSTS_SECONDS="0"),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr
