"""The second factor of the privileged roles (TOTP, any authenticator app): enrolment, the code at
each login, and the reset of a lost device. Every step is audited."""
from __future__ import annotations

import base64
import math

import django_otp
import segno
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from reporting.services import audit_record, client_ip


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


@transaction.atomic
def second_factor_check(*, request, device: TOTPDevice, token: str) -> bool:
    """Check a code (each code works once: django-otp refuses a time step already used). The first good
    code of a new device confirms it and retires any older one; a good code marks the session verified."""
    token = "".join(token.split())
    if not device.verify_token(token):
        audit_record(actor=request.user, event_type="auth.otp_failed", success=False, obj=request.user,
                     ip_address=client_ip(request))
        return False
    enrolling = not device.confirmed
    if enrolling:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    django_otp.login(request, device)
    audit_record(actor=request.user, event_type="auth.otp_enrolled" if enrolling else "auth.otp_verified",
                 obj=request.user, ip_address=client_ip(request))
    return True


@transaction.atomic
def second_factor_reset(*, actor, devices, ip_address: str | None = None) -> int:
    """Remove authenticators (a lost phone): the user sets up a new one at their next login."""
    count = 0
    for device in devices:
        audit_record(actor=actor, event_type="auth.otp_reset", obj=device.user, ip_address=ip_address,
                     details={"device": device.pk})
        device.delete()
        count += 1
    return count
