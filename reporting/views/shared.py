"""What the reporting pages share: finding a return the user may see, the reviewer gate, a
workflow refusal as messages (and an audit event), and a value's change against last year."""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.utils import translation

from accounts.permissions import user_is_reviewer
from audit.services import audit_record
from reporting.selectors import returns_visible_to


def visible_return(request, pk: int):
    return get_object_or_404(returns_visible_to(user=request.user).select_related("period__methodology", "amends"),
                             pk=pk)


def require_reviewer(request) -> None:
    if not user_is_reviewer(request.user):
        raise PermissionDenied


def workflow_error(request, error: ValidationError, *, obj=None) -> None:
    """The refusal as messages; with the object refused on, also in the audit trail (what, why)."""
    for message in error.messages:
        messages.error(request, message)
    if obj is not None:
        audit_refusal(request, obj, codes=[item.code or "" for item in error.error_list], error=error)


def audit_refusal(request, obj, *, codes: list[str], error: ValidationError | None = None, **details) -> None:
    """A refused action on ``obj``: the page and action asked for, and why (in the portal's language)."""
    match = request.resolver_match
    with translation.override(settings.LANGUAGE_CODE):
        reasons = [str(message) for message in error.messages] if error is not None else []
    audit_record(actor=request.user, event_type="action.refused", obj=obj, success=False, details={
        "view": match.view_name if match else "", "action": request.POST.get("action", ""), "codes": codes,
        "reasons": reasons, **details})


def audit_upload_rejected(request, obj, *, kind: str, upload, error: ValidationError | None = None,
                          form_errors: dict | None = None) -> None:
    """A file refused (an import or an evidence file): who, which file, why; nothing of the file is kept."""
    with translation.override(settings.LANGUAGE_CODE):
        reasons = [str(message) for message in error.messages] if error is not None else []
        reasons += [f"{field}: {message}" for field, messages_ in (form_errors or {}).items() for message in messages_]
    audit_record(actor=request.user, event_type="upload.rejected", obj=obj, success=False, details={
        "kind": kind, "name": (getattr(upload, "name", "") or "")[:255], "size": getattr(upload, "size", None),
        "reasons": reasons})


def change_text(value, last) -> str:
    """The change against last year in per cent, signed; blank without a base."""
    if value is None or not last:
        return ""
    return f"{(Decimal(value) / Decimal(last) - 1) * 100:+.1f} %"
