"""Services of the audit trail: appending an event (every app that records one calls this)."""
from django.db import models
from django.utils import translation

from audit.models import AuditEvent


def client_ip(request) -> str | None:
    """The address a request came from, for the audit trail (set REMOTE_ADDR behind a proxy)."""
    return request.META.get("REMOTE_ADDR") if request is not None else None


def audit_record(
    *,
    actor,
    event_type: str,
    obj: models.Model | None = None,
    success: bool = True,
    details: dict | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Append one audit event; call it inside the transaction of the change it records."""
    # The stored text must not depend on the language of whoever caused the event.
    with translation.override(None):
        object_repr = str(obj)[:200] if obj is not None else ""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        event_type=event_type,
        success=success,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=object_repr,
        ip_address=ip_address,
        details=details or {},
    )
