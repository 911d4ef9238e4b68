"""Services of the reporting app: functions that change state."""
from django.db import models

from reporting.models import AuditEvent


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
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        event_type=event_type,
        success=success,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        ip_address=ip_address,
        details=details or {},
    )
