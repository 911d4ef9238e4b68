"""The API's door to accounts.permissions: a DRF permission class asking one named predicate, so the API
decides exactly as the pages do (a refusal is 403 ``permission_denied``, or ``not_authenticated``)."""
from collections.abc import Callable

from rest_framework.permissions import BasePermission


def allowed_by(predicate: Callable[[object], bool]) -> type[BasePermission]:
    def has_permission(self, request, view) -> bool:
        return bool(predicate(request.user))

    return type(f"AllowedBy_{predicate.__name__}", (BasePermission,), {"has_permission": has_permission})
