"""Personal API tokens: made and revoked by their owner on the account page, checked by the API's bearer
authentication. Only a hash is stored, so a leaked database gives no usable token."""
import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken
from accounts.selectors import last_password_change, user_needs_second_factor, user_password_expired
from audit.services import audit_record
from ccfi_portal.queries import PreparedQuery

TOKEN_PREFIX = "ccfi_"  # the visible start of every token, not a secret  # nosec B105
DEFAULT_DAYS = 90
MAX_DAYS = 366  # a year, a leap year's included
LAST_USED_STEP = datetime.timedelta(minutes=1)  # the last-used time is written at most once a minute


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class MadeToken:
    token: ApiToken
    secret: str  # shown once, never stored


def api_token_create(*, user, name: str, days: int = DEFAULT_DAYS, verified: bool,
                     ip_address: str | None = None) -> MadeToken:
    """A new token of ``user``. A role that logs in with a second factor makes tokens only in a session
    that has passed it (``verified``): a token never opens what the password alone would not."""
    if user_needs_second_factor(user) and not verified:
        raise PermissionDenied(_("Enter the code of your authenticator app before you make an API token."))
    name = name.strip()
    if not name:
        raise ValidationError(_("Give the token a name, e.g. the system that uses it."), code="name")
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(_("A token lasts between 1 and %(max)s days.") % {"max": MAX_DAYS}, code="days")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name[:80], key_hash=token_hash(secret), prefix=secret[:12], created_at=now,
            expires_at=now + datetime.timedelta(days=days), second_factor=verified)
        audit_record(actor=user, event_type="api_token.create", obj=token, ip_address=ip_address,
                     details={"name": token.name, "expires_at": token.expires_at.isoformat()})
    return MadeToken(token=token, secret=secret)


def api_token_revoke(*, user, token_id: int, ip_address: str | None = None) -> ApiToken:
    """Revoke one of the user's own tokens (another user's is not found)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(user=user, pk=token_id)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(actor=user, event_type="api_token.revoke", obj=token, ip_address=ip_address,
                         details={"name": token.name})
    return token


def api_tokens_of(user):
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


@dataclass(frozen=True)
class TokenUser:
    user: object  # accounts.models.User
    password_expired: bool  # the web's rule (accounts.middleware): an expired password opens nothing


def _unrevoked_token(key_hash: str):
    """The unrevoked token of the hash, with its user, the user's password date and (on PostgreSQL) roles."""
    tokens = (ApiToken.objects.select_related("user").filter(key_hash=key_hash, revoked_at__isnull=True)
              .annotate(password_changed_at=last_password_change("user")))
    if connection.vendor == "postgresql":  # elsewhere User.role_names reads them when first asked
        tokens = tokens.annotate(user_roles=ArraySubquery(Group.objects.filter(user=OuterRef("user"))
                                                          .values("name")))
    return tokens


# Built once per process: building the query cost as much as running it (ccfi_portal.queries).
_UNREVOKED_TOKEN = PreparedQuery(_unrevoked_token, key_hash=str)


def api_token_user(secret: str) -> TokenUser | None:
    """The active user of an unexpired, unrevoked token, or None; notes when the token was last used.

    The token, its user, the date of the user's password and (on PostgreSQL) the user's roles come in one
    query: every API request with a token asks all four, and they were three round trips."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = _UNREVOKED_TOKEN.first(key_hash=token_hash(secret))  # the hash is unique
    if token is None or token.expires_at <= now or not token.user.is_active:
        return None
    user = token.user
    if hasattr(token, "user_roles"):
        user.role_names = frozenset(token.user_roles)
    if user_needs_second_factor(user) and not token.second_factor:
        return None  # made before the user's role needed the second factor
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_STEP:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return TokenUser(user=user, password_expired=user_password_expired(user, last_change=token.password_changed_at))
