"""What the reporting pages share: finding a return the user may see, the reviewer gate, a
workflow refusal as messages, and a value's change against last year."""
from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404

from accounts.permissions import user_is_reviewer
from reporting.selectors import returns_visible_to


def visible_return(request, pk: int):
    return get_object_or_404(returns_visible_to(user=request.user).select_related("period__methodology", "amends"),
                             pk=pk)


def require_reviewer(request) -> None:
    if not user_is_reviewer(request.user):
        raise PermissionDenied


def workflow_error(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def change_text(value, last) -> str:
    """The change against last year in per cent, signed; blank without a base."""
    if value is None or not last:
        return ""
    return f"{(Decimal(value) / Decimal(last) - 1) * 100:+.1f} %"
