"""The five roles as Django groups, each with the least permissions its duty needs.

Security and audit administration are separate duties (等保 level 3 三权分立): the security
administrator manages accounts and cannot read the audit trail; the audit administrator reads
the audit trail and nothing else.
"""
from django.contrib.auth.models import Group, Permission

from reporting.models import Role

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.FILER: [],
    Role.REVIEWER: [
        "reporting.view_city", "reporting.view_reportingperiod", "reporting.view_indicatorreturn",
        "reporting.view_returnvalue",
    ],
    Role.METHODOLOGIST: [
        f"indices.{action}_{model}"
        for model in ("methodologyversion", "methodologynode", "indicator", "validationrule")
        for action in ("add", "change", "delete", "view")
    ] + ["reporting.view_city", "reporting.view_reportingperiod"],
    Role.SECURITY_ADMIN: [
        "reporting.add_user", "reporting.change_user", "reporting.view_user",
        "auth.view_group", "reporting.view_city",
        # Locked-out user names (django-axes): deleting the attempts unlocks the name.
        "axes.view_accessattempt", "axes.delete_accessattempt",
        # Lost authenticators: deleting one lets its user set up a new one at the next login.
        "otp_totp.view_totpdevice", "otp_totp.delete_totpdevice",
    ],
    Role.AUDIT_ADMIN: ["reporting.view_auditevent"],
}


def roles_sync(**kwargs) -> None:
    """Create the role groups and set their permissions (run after every migrate)."""
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = [
            Permission.objects.get(content_type__app_label=label, codename=codename)
            for label, codename in (name.split(".") for name in codenames)
        ]
        group.permissions.set(permissions)
