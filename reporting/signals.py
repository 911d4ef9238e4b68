"""Authentication events go into the audit trail (who, when, from where, success or failure)."""
import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from ccfi_portal.middleware import PASSWORD_EXPIRES_KEY, SESSION_STARTED_KEY
from reporting.selectors import user_password_expires_at
from reporting.services import audit_record, client_ip


@receiver(user_logged_in, dispatch_uid="audit_login")
def audit_login(sender, request, user, **kwargs):
    audit_record(actor=user, event_type="auth.login", obj=user, ip_address=client_ip(request))


@receiver(user_logged_in, dispatch_uid="session_started")
def session_started(sender, request, user, **kwargs):
    """Where the session's absolute lifetime counts from, and when the password expires (both checked by
    ccfi_portal.middleware on every request, without a query)."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STARTED_KEY] = time.time()
        expires_at = user_password_expires_at(user)
        if expires_at is not None:  # what PasswordExpiryMiddleware compares with, read once per login
            request.session[PASSWORD_EXPIRES_KEY] = expires_at.timestamp()


@receiver(user_logged_out, dispatch_uid="audit_logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, event_type="auth.logout", obj=user, ip_address=client_ip(request))


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in ``credentials``; keep only the name tried.
    audit_record(actor=None, event_type="auth.login_failed", success=False, ip_address=client_ip(request),
                 details={"username": str(credentials.get("username", ""))[:150]})


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def audit_locked_out(sender, request, username, ip_address, **kwargs):
    audit_record(actor=None, event_type="auth.locked_out", success=False, ip_address=ip_address,
                 details={"username": str(username or "")[:150]})
