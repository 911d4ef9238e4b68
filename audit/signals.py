"""Authentication events go into the audit trail (who, when, from where, success or failure)."""
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.services import audit_record, client_ip


@receiver(user_logged_in, dispatch_uid="audit_login")
def audit_login(sender, request, user, **kwargs):
    audit_record(actor=user, event_type="auth.login", obj=user, ip_address=client_ip(request))


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
