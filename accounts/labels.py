"""Groups and permissions as people read them: a role's label, not its code ("审计管理员", not "audit_admin"),
and a permission in the active language ("可查看 城市", not "Can view city").

Django shows ``str(group)`` and ``str(permission)`` wherever the admin lists them (the user form, the user list's
filter, the group pages, the audit of role changes). A group's name is the role's code (accounts.permissions keys
on it) and a permission's name is stored in English when the tables are made, so both are given a ``__str__``
here that reads them in the active language; installed by ``AccountsConfig.ready``. The stored names are
unchanged.
"""
from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role

_ACTIONS = {"add": _("Can add %(model)s"), "change": _("Can change %(model)s"),
            "delete": _("Can delete %(model)s"), "view": _("Can view %(model)s")}


def group_label(group: Group) -> str:
    """The role's label for a role group, the name otherwise."""
    return str(Role(group.name).label) if group.name in Role.values else group.name


def permission_label(permission: Permission) -> str:
    """``<app> | <model> | <what it allows>``, each part translated."""
    model = permission.content_type.model_class()
    action = permission.codename.split("_", 1)[0]
    if model is not None and permission.codename == f"{action}_{model._meta.model_name}" and action in _ACTIONS:
        name = _ACTIONS[action] % {"model": model._meta.verbose_name}
    else:
        name = gettext(permission.name)
    return f"{permission.content_type} | {name}"


def install() -> None:
    Group.__str__ = group_label
    Permission.__str__ = permission_label
