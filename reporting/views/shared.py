"""What the reporting pages share: finding a return the user may see, the reviewer gate, a
workflow refusal as messages (and an audit event), the values a save refused in the audit trail, and a value's
change against last year."""
from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from accounts.permissions import user_is_reviewer
from audit.services import audit_refusal
from reporting.selectors import return_visible_to


def visible_return(request, pk: int):
    """The return ``pk`` if the user may see it, else 404 (another city's return is not said to exist)."""
    indicator_return = return_visible_to(user=request.user, pk=pk)
    if indicator_return is None:
        raise Http404
    return indicator_return


def require_reviewer(request) -> None:
    if not user_is_reviewer(request.user):
        raise PermissionDenied


def audit_values_refused(request, indicator_return, *, refused: list[str], entries) -> None:
    """The values a save refused, with what was sent for them, in the audit trail (the form's and the API's)."""
    audit_refusal(request, indicator_return, codes=["values_rejected"], indicators=refused,
                  submitted={code: str(entries[code].value) for code in refused if code in entries})


def workflow_error(request, error: ValidationError, *, obj=None) -> None:
    """The refusal as messages; with the object refused on, also in the audit trail (what, why)."""
    for message in error.messages:
        messages.error(request, message)
    if obj is not None:
        audit_refusal(request, obj, codes=[item.code or "" for item in error.error_list], error=error)


def change_text(value, last) -> str:
    """The change against last year in per cent, signed; blank without a base."""
    if value is None or not last:
        return ""
    return f"{(Decimal(value) / Decimal(last) - 1) * 100:+.1f} %"
