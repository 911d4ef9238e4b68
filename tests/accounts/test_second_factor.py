"""The second factor (TOTP) of the privileged roles: set up at the first login, asked at each login,
each code used once, wrong codes slowed down, a lost authenticator reset by the security administrator."""
import re
import time
from http import HTTPStatus

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "Ccfi-test-2025"


@pytest.fixture(autouse=True)
def second_factor_on(settings):
    settings.OTP_REQUIRED = True


def code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def log_in(client, username: str):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def test_a_reviewer_sets_up_the_app_at_the_first_login_and_then_reaches_the_pages(client, reviewer):
    log_in(client, "reviewer")
    queue = reverse("reporting:review_queue")

    response = client.get(queue)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("second_factor")) and "next=" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="second-factor-qr"' in page and "<svg" in page
    secret = re.search(r'data-testid="second-factor-secret">([A-Z2-7 ]+)<', page).group(1)
    device = TOTPDevice.objects.get(user=reviewer, confirmed=False)
    assert secret.replace(" ", "") in device.config_url

    wrong = client.post(reverse("second_factor"), {"token": "000000", "next": queue})
    assert wrong.status_code == HTTPStatus.OK and "验证码错误或已使用" in wrong.content.decode()
    time.sleep(1.1)  # django-otp makes the user wait 1 s after the first wrong code
    right = client.post(reverse("second_factor"), {"token": code(device), "next": queue})

    assert right.status_code == HTTPStatus.OK  # the recovery codes, shown once
    page = right.content.decode()
    assert len(re.findall(r"<li><code>[a-z2-7]{8}</code></li>", page)) == 10
    assert f'href="{queue}" data-testid="recovery-continue"' in page
    assert client.get(queue).status_code == HTTPStatus.OK
    assert TOTPDevice.objects.get(user=reviewer).confirmed
    events = list(AuditEvent.objects.filter(event_type__startswith="auth.otp").order_by("id")
                  .values_list("event_type", "success"))
    assert events == [("auth.otp_failed", False), ("auth.otp_enrolled", True)]


def test_each_code_works_once_and_the_next_login_asks_for_a_new_one(client, reviewer):
    device = TOTPDevice.objects.create(user=reviewer, name="phone", confirmed=True)
    log_in(client, "reviewer")
    first = code(device)
    assert client.post(reverse("second_factor"), {"token": first}).status_code == HTTPStatus.FOUND
    client.post(reverse("logout"))

    log_in(client, "reviewer")
    page = client.get(reverse("second_factor")).content.decode()
    assert 'data-testid="second-factor-qr"' not in page  # no second set-up
    replayed = client.post(reverse("second_factor"), {"token": first})
    assert replayed.status_code == HTTPStatus.OK and "已使用" in replayed.content.decode()
    assert client.get(reverse("reporting:review_queue")).status_code == HTTPStatus.FOUND

    time.sleep(1.1)
    fresh = client.post(reverse("second_factor"), {"token": code(device, steps_ahead=1)})
    assert fresh.status_code == HTTPStatus.FOUND
    assert client.get(reverse("reporting:review_queue")).status_code == HTTPStatus.OK


def test_wrong_codes_make_the_user_wait(client, methodologist):
    device = TOTPDevice.objects.create(user=methodologist, name="phone", confirmed=True)
    log_in(client, "methodologist")
    client.post(reverse("second_factor"), {"token": "000000"})

    hurried = client.post(reverse("second_factor"), {"token": code(device)})

    assert hurried.status_code == HTTPStatus.OK and "错误次数过多" in hurried.content.decode()
    assert not client.session.get("otp_device_id")


def test_a_filer_logs_in_with_the_password_alone(client, filer_chongqing):
    log_in(client, "filer-chongqing")
    assert client.get(reverse("reporting:dashboard")).status_code == HTTPStatus.OK
    assert not TOTPDevice.objects.exists()


def test_the_page_never_sends_anyone_to_another_site(client, reviewer):
    device = TOTPDevice.objects.create(user=reviewer, name="phone", confirmed=True)
    log_in(client, "reviewer")
    response = client.post(reverse("second_factor"), {"token": code(device), "next": "https://evil.example/"})
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == reverse("home")


def test_the_security_administrator_resets_a_lost_authenticator_but_not_an_administrators(
        client, security_admin, reviewer, audit_admin):
    lost = TOTPDevice.objects.create(user=reviewer, name="phone", confirmed=True)
    StaticDevice.objects.create(user=reviewer, name="recovery codes", confirmed=True)
    auditor_device = TOTPDevice.objects.create(user=audit_admin, name="phone", confirmed=True)
    own = TOTPDevice.objects.create(user=security_admin, name="phone", confirmed=True)
    log_in(client, "secadmin")
    client.post(reverse("second_factor"), {"token": code(own)})

    page = client.get(reverse("admin:otp_totp_totpdevice_change", args=[lost.pk])).content.decode()
    assert lost.key not in page  # the secret is never shown
    deleted = client.post(reverse("admin:otp_totp_totpdevice_delete", args=[lost.pk]), {"post": "yes"})
    refused = client.post(reverse("admin:otp_totp_totpdevice_delete", args=[auditor_device.pk]), {"post": "yes"})

    assert deleted.status_code == HTTPStatus.FOUND and refused.status_code == HTTPStatus.FORBIDDEN
    assert not TOTPDevice.objects.filter(pk=lost.pk).exists()
    assert not StaticDevice.objects.filter(user=reviewer).exists()  # the recovery codes went with it
    assert TOTPDevice.objects.filter(pk=auditor_device.pk).exists()
    event = AuditEvent.objects.get(event_type="auth.otp_reset")
    assert event.actor == security_admin and event.object_repr == str(reviewer)


def test_a_recovery_code_stands_in_for_the_app_once(client, reviewer):
    TOTPDevice.objects.create(user=reviewer, name="phone", confirmed=True)
    recovery = StaticDevice.objects.create(user=reviewer, name="recovery codes", confirmed=True)
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token="abcd2345"),
                                     StaticToken(device=recovery, token="efgh6789")])
    log_in(client, "reviewer")

    used = client.post(reverse("second_factor"), {"token": "ABCD 2345"})
    assert used.status_code == HTTPStatus.FOUND
    assert client.get(reverse("reporting:review_queue")).status_code == HTTPStatus.OK
    event = AuditEvent.objects.get(event_type="auth.otp_recovery_used")
    assert event.details == {"codes_left": 1}
    client.post(reverse("logout"))

    log_in(client, "reviewer")
    again = client.post(reverse("second_factor"), {"token": "abcd2345"})
    assert again.status_code == HTTPStatus.OK and "未使用的恢复码" in again.content.decode()
    assert client.get(reverse("reporting:review_queue")).status_code == HTTPStatus.FOUND
