"""Personal API tokens: made and revoked on the account page, only their hash stored, accepted by the API
while unexpired and unrevoked, never a way around the second factor; the API's request limits."""
import datetime
import hashlib
import re
import time
from http import HTTPStatus

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken, PasswordRecord, Role
from accounts.tokens import api_token_create, api_token_user
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def make_token(client, name="城市系统", days=90) -> str:
    response = client.post(reverse("api_tokens"), {"name": name, "days": days})
    assert response.status_code == HTTPStatus.OK
    return re.search(r'data-testid="token-secret">([^<]+)<', response.content.decode()).group(1)


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_a_filer_makes_a_token_shown_once_and_the_api_accepts_it(client, filer_chongqing, city_chengdu):
    client.force_login(filer_chongqing)
    page = client.get(reverse("api_tokens")).content.decode()
    assert "API 令牌" in page or "API令牌" in page  # Chinese first
    secret = make_token(client)
    token = ApiToken.objects.get(user=filer_chongqing)
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in str(token.__dict__)
    assert (token.expires_at - token.created_at).days == 90 and token.last_used_at is None
    assert secret not in client.get(reverse("api_tokens")).content.decode()  # shown once
    event = AuditEvent.objects.get(event_type="api_token.create")
    assert event.actor == filer_chongqing and secret not in str(event.details)

    client.logout()
    response = client.get("/api/v1/returns/", **bearer(secret))
    assert response.status_code == HTTPStatus.OK and response.json()["results"] == []
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_expired_and_unknown_tokens_are_refused(client, filer_chongqing):
    client.force_login(filer_chongqing)
    revoked, expired = make_token(client, "a"), make_token(client, "b")
    ApiToken.objects.filter(name="b").update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    token = ApiToken.objects.get(name="a")
    assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == HTTPStatus.FOUND
    assert AuditEvent.objects.filter(event_type="api_token.revoke", object_id=str(token.pk)).exists()
    client.logout()
    for secret in (revoked, expired, "ccfi_not-a-token", revoked[:-1]):
        response = client.get("/api/v1/returns/", **bearer(secret))
        assert response.status_code == HTTPStatus.UNAUTHORIZED, secret
    assert client.get("/api/v1/returns/", HTTP_AUTHORIZATION="Bearer").status_code == HTTPStatus.UNAUTHORIZED


def test_a_user_revokes_only_their_own_tokens(client, filer_chongqing, filer_chengdu):
    client.force_login(filer_chongqing)
    make_token(client)
    token = ApiToken.objects.get()
    client.force_login(filer_chengdu)
    assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == HTTPStatus.NOT_FOUND
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_token_lasts_at_most_a_year(client, filer_chongqing):
    client.force_login(filer_chongqing)
    response = client.post(reverse("api_tokens"), {"name": "x", "days": 3650})
    assert response.status_code == HTTPStatus.OK and not ApiToken.objects.exists()


def test_the_second_factor_comes_before_a_token_of_a_privileged_role(client, settings, reviewer):
    settings.OTP_REQUIRED = True
    with pytest.raises(PermissionDenied):
        api_token_create(user=reviewer, name="x", verified=False)
    client.force_login(reviewer)
    assert client.get(reverse("api_tokens"))["Location"].startswith(reverse("second_factor"))  # the login gate
    device = TOTPDevice.objects.create(user=reviewer, name="app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    secret = make_token(client)
    assert ApiToken.objects.get().second_factor
    client.logout()
    assert client.get("/api/v1/returns/", **bearer(secret)).status_code == HTTPStatus.OK


def test_a_token_made_before_the_role_needed_the_second_factor_stops_working(client, settings, reviewer):
    made = api_token_create(user=reviewer, name="x", verified=False)  # OTP_REQUIRED off, as in the demo
    assert client.get("/api/v1/returns/", **bearer(made.secret)).status_code == HTTPStatus.OK
    settings.OTP_REQUIRED = True
    assert client.get("/api/v1/returns/", **bearer(made.secret)).status_code == HTTPStatus.UNAUTHORIZED


def test_the_api_limits_requests(client, filer_chongqing, city_chongqing, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "5/min"})
    statuses = [client.get("/api/v1/cities/").status_code for _ in range(4)]
    assert statuses == [HTTPStatus.OK] * 3 + [HTTPStatus.TOO_MANY_REQUESTS]
    secret = api_token_create(user=filer_chongqing, name="x", verified=False).secret
    statuses = [client.get("/api/v1/returns/", **bearer(secret)).status_code for _ in range(6)]
    assert statuses == [HTTPStatus.OK] * 5 + [HTTPStatus.TOO_MANY_REQUESTS]


def test_a_refused_request_says_when_the_clients_window_ends(client, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "5/min"})
    responses = [client.get("/api/v1/cities/") for _ in range(3)]
    assert [response.status_code for response in responses] == [HTTPStatus.OK] * 2 + [HTTPStatus.TOO_MANY_REQUESTS]
    assert responses[-1]["Retry-After"] == "60"  # local memory knows no time left: the whole window
    assert responses[-1].json()["code"] == "throttled"


def test_a_new_window_opens_when_the_last_one_ends(client, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1/s", "user": "5/min"})
    assert [client.get("/api/v1/cities/").status_code for _ in range(2)] == [HTTPStatus.OK,
                                                                             HTTPStatus.TOO_MANY_REQUESTS]
    time.sleep(1.1)
    assert client.get("/api/v1/cities/").status_code == HTTPStatus.OK


def test_an_anonymous_client_has_the_anonymous_limit_only(client, filer_chongqing, monkeypatch):
    """The per-user limit is for signed-in users: an anonymous client is not also counted against it."""
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "5/min", "user": "3/min"})
    statuses = [client.get("/api/v1/cities/").status_code for _ in range(6)]
    assert statuses == [HTTPStatus.OK] * 5 + [HTTPStatus.TOO_MANY_REQUESTS]


def test_a_token_stops_working_when_its_users_password_expires(client, filer_chongqing):
    """The web sends a user whose password has expired to the password page; their tokens answer 401 with the
    reason until the password is changed."""
    made = api_token_create(user=filer_chongqing, name="城市系统", verified=False)
    assert client.get("/api/v1/returns/", **bearer(made.secret)).status_code == HTTPStatus.OK
    type(filer_chongqing).objects.filter(pk=filer_chongqing.pk).update(
        date_joined=timezone.now() - datetime.timedelta(days=400))
    filer_chongqing.password_records.all().delete()
    refused = client.get("/api/v1/returns/", HTTP_ACCEPT_LANGUAGE="en", **bearer(made.secret))
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json()["code"] == "password_expired" and "password has expired" in refused.json()["detail"]


def test_a_token_counts_the_password_age_from_the_last_change(client, filer_chongqing):
    made = api_token_create(user=filer_chongqing, name="城市系统", verified=False)
    long_ago = timezone.now() - datetime.timedelta(days=400)
    type(filer_chongqing).objects.filter(pk=filer_chongqing.pk).update(date_joined=long_ago)
    filer_chongqing.password_records.all().delete()
    PasswordRecord.objects.create(user=filer_chongqing, password="hash",  # nosec B106: a stored hash's stand-in
                                  created_at=timezone.now() - datetime.timedelta(days=10))
    assert client.get("/api/v1/returns/", **bearer(made.secret)).status_code == HTTPStatus.OK
    filer_chongqing.password_records.update(created_at=long_ago)
    assert client.get("/api/v1/returns/", **bearer(made.secret)).status_code == HTTPStatus.UNAUTHORIZED


def test_a_token_its_user_roles_and_password_date_are_read_at_once(filer_chongqing):
    """Every API request with a token asks all four: one query on PostgreSQL (the roles apart on SQLite)."""
    made = api_token_create(user=filer_chongqing, name="城市系统", verified=False)
    ApiToken.objects.filter(pk=made.token.pk).update(last_used_at=timezone.now())  # no last-used write now
    with CaptureQueriesContext(connection) as queries:
        holder = api_token_user(made.secret)
        assert holder.user == filer_chongqing and holder.user.has_role(Role.FILER)
        assert not holder.user.has_role(Role.REVIEWER) and not holder.password_expired
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)
