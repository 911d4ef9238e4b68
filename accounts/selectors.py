"""Selectors of the accounts app: what the login gates read about a user."""
import datetime

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts.models import PasswordRecord, Role
from accounts.permissions import ADMINISTRATOR_ROLES

SECOND_FACTOR_ROLES = (Role.REVIEWER, Role.METHODOLOGIST, *ADMINISTRATOR_ROLES)


def user_needs_second_factor(user) -> bool:
    """The system administrator and the roles that approve, publish, manage accounts or read the audit
    trail log in with a second factor (TOTP) when ``settings.OTP_REQUIRED``; filers with their password."""
    if not (settings.OTP_REQUIRED and user.is_authenticated):
        return False
    return user.is_superuser or any(user.has_role(role) for role in SECOND_FACTOR_ROLES)


_UNREAD = object()


def last_password_change(user_field: str = "pk") -> Subquery:
    """When the user of ``OuterRef(user_field)`` last changed the password (None: never since the account was
    made), for reading along with the user in one query (the API's token check: accounts.tokens)."""
    return Subquery(PasswordRecord.objects.filter(user=OuterRef(user_field))
                    .order_by("-created_at", "-id").values("created_at")[:1])


def user_password_expires_at(user, *, last_change=_UNREAD) -> datetime.datetime | None:
    """When the user's password passes ``settings.PASSWORD_MAX_AGE_DAYS``, counted from its last change
    (accounts.passwords records each) or, for an account never given a new one, from its creation.
    ``last_change``: the user's ``last_password_change()``, when it was read with the user."""
    if not (settings.PASSWORD_MAX_AGE_DAYS and user.is_authenticated):
        return None
    if last_change is _UNREAD:
        last_change = user.password_records.values_list("created_at", flat=True).first()
    return (last_change or user.date_joined) + datetime.timedelta(days=settings.PASSWORD_MAX_AGE_DAYS)


def user_password_expired(user, *, last_change=_UNREAD) -> bool:
    expires_at = user_password_expires_at(user, last_change=last_change)
    return expires_at is not None and timezone.now() > expires_at
