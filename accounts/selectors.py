"""Selectors of the accounts app: what the login gates read about a user."""
import datetime

from django.conf import settings
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import ADMINISTRATOR_ROLES

SECOND_FACTOR_ROLES = (Role.REVIEWER, Role.METHODOLOGIST, *ADMINISTRATOR_ROLES)


def user_needs_second_factor(user) -> bool:
    """The system administrator and the roles that approve, publish, manage accounts or read the audit
    trail log in with a second factor (TOTP) when ``settings.OTP_REQUIRED``; filers with their password."""
    if not (settings.OTP_REQUIRED and user.is_authenticated):
        return False
    return user.is_superuser or any(user.has_role(role) for role in SECOND_FACTOR_ROLES)


def user_password_expires_at(user) -> datetime.datetime | None:
    """When the user's password passes ``settings.PASSWORD_MAX_AGE_DAYS``, counted from its last change
    (accounts.passwords records each) or, for an account never given a new one, from its creation."""
    if not (settings.PASSWORD_MAX_AGE_DAYS and user.is_authenticated):
        return None
    last_change = user.password_records.values_list("created_at", flat=True).first() or user.date_joined
    return last_change + datetime.timedelta(days=settings.PASSWORD_MAX_AGE_DAYS)


def user_password_expired(user) -> bool:
    expires_at = user_password_expires_at(user)
    return expires_at is not None and timezone.now() > expires_at
