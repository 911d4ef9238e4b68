"""The second factor of the privileged roles (TOTP, any authenticator app): enrolment with ten
one-time recovery codes, the code at each login, and the reset of a lost device. Every step is audited."""
from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass, field

import django_otp
import segno
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import audit_record, client_ip

RECOVERY_CODE_COUNT = 10


@dataclass(frozen=True)
class SecondFactorOutcome:
    verified: bool
    recovery_codes: list[str] = field(default_factory=list)  # issued once, at enrolment
    wait_seconds: int | None = None  # too many wrong codes: nothing was checked


def is_recovery_code(token: str) -> bool:
    """Authenticator codes are six digits; recovery codes eight letters and digits."""
    return not re.fullmatch(r"\d{6}", "".join(token.split()))


def recovery_device(user) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def second_factor_device(user) -> TOTPDevice | None:
    """The user's confirmed authenticator, if they have enrolled one."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def second_factor_enrolment(user) -> TOTPDevice:
    """The authenticator being set up: a new secret, kept (unconfirmed) until the first code matches."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def enrolment_secret(device: TOTPDevice) -> str:
    """The secret as an app expects it typed: base32 in groups of four."""
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[index:index + 4] for index in range(0, len(secret), 4))


def enrolment_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code, drawn here (nothing is fetched)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#1f2a37")


def second_factor_retry_seconds(device: TOTPDevice) -> int | None:
    """Seconds to wait after wrong codes (django-otp doubles the wait after each one), or None."""
    allowed, details = device.verify_is_allowed()
    locked_until = None if allowed else (details or {}).get("locked_until")
    if locked_until is None:
        return None
    return max(1, math.ceil((locked_until - timezone.now()).total_seconds()))


def second_factor_submit(*, request, device: TOTPDevice, token: str) -> SecondFactorOutcome:
    """A code the user entered: the app's, or, once the app is set up, a recovery code."""
    checked = recovery_device(request.user) if device.confirmed and is_recovery_code(token) else device
    if checked is None:
        return SecondFactorOutcome(verified=False)
    wait = second_factor_retry_seconds(checked)
    if wait:
        return SecondFactorOutcome(verified=False, wait_seconds=wait)
    if checked is device:
        return second_factor_check(request=request, device=device, token=token)
    return second_factor_recover(request=request, device=checked, token=token)


@transaction.atomic
def second_factor_check(*, request, device: TOTPDevice, token: str) -> SecondFactorOutcome:
    """Check an authenticator code (each works once: django-otp refuses a time step already used). The
    first good code of a new device confirms it, retires any older one and issues new recovery codes;
    a good code marks the session verified."""
    token = "".join(token.split())
    if not device.verify_token(token):
        audit_record(actor=request.user, event_type="auth.otp_failed", success=False, obj=request.user,
                     ip_address=client_ip(request))
        return SecondFactorOutcome(verified=False)
    enrolling = not device.confirmed
    recovery_codes = []
    if enrolling:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        recovery_codes = _recovery_codes_issue(device.user)
    django_otp.login(request, device)
    audit_record(actor=request.user, event_type="auth.otp_enrolled" if enrolling else "auth.otp_verified",
                 obj=request.user, ip_address=client_ip(request))
    return SecondFactorOutcome(verified=True, recovery_codes=recovery_codes)


@transaction.atomic
def second_factor_recover(*, request, device: StaticDevice, token: str) -> SecondFactorOutcome:
    """Log in with a recovery code instead of the app (a phone left at home): the code is used up."""
    if not device.verify_token("".join(token.split()).lower()):
        audit_record(actor=request.user, event_type="auth.otp_failed", success=False, obj=request.user,
                     ip_address=client_ip(request), details={"recovery_code": True})
        return SecondFactorOutcome(verified=False)
    django_otp.login(request, device)
    audit_record(actor=request.user, event_type="auth.otp_recovery_used", obj=request.user,
                 ip_address=client_ip(request), details={"codes_left": device.token_set.count()})
    return SecondFactorOutcome(verified=True)


def _recovery_codes_issue(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def second_factor_reset(*, actor, devices, ip_address: str | None = None) -> int:
    """Remove authenticators (a lost phone): the user sets up a new one at their next login."""
    count = 0
    for device in devices:
        audit_record(actor=actor, event_type="auth.otp_reset", obj=device.user, ip_address=ip_address,
                     details={"device": device.pk})
        StaticDevice.objects.filter(user=device.user).delete()  # the recovery codes go with the app
        device.delete()
        count += 1
    return count
