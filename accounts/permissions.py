"""Who may do what: the one permission module. Views, the API, the admin, services and menus ask these
named predicates; nothing else decides. ``is_staff`` only opens the Django admin site's door (what a
staff member sees there follows the role's model permissions below) and grants nothing else.

Roles are Django groups with the least permissions their duty needs. Security and audit administration
are separate duties (等保 level 3 三权分立): the security administrator manages accounts and cannot read
the audit trail; the audit administrator reads the audit trail and nothing else; neither sees unpublished
index results nor acts on index runs.
"""
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db.models import QuerySet

from accounts.models import Role

# Roles.

def user_is_reviewer(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.has_role(Role.REVIEWER)))


def user_is_methodologist(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.has_role(Role.METHODOLOGIST)))


def user_is_filer(user) -> bool:
    return bool(user.is_authenticated and user.city_id and user.has_role(Role.FILER))


ADMINISTRATOR_ROLES = (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)


def user_may_manage_account(actor, account) -> bool:
    """Separation of duties (等保 三权分立): a security administrator manages the accounts of filers,
    reviewers and methodologists; only the system administrator (a superuser) manages administrators'
    accounts, the security administrator's own included, so no administrator widens their own rights
    or takes over the audit administrator's account."""
    if actor.is_superuser:
        return True
    if account.is_superuser:
        return False
    return not any(account.has_role(role) for role in ADMINISTRATOR_ROLES)


def roles_assignable_by(actor) -> QuerySet[Group]:
    """The role groups ``actor`` may hand out: the administrator roles only by the system administrator."""
    groups = Group.objects.order_by("name")
    return groups if actor.is_superuser else groups.exclude(name__in=ADMINISTRATOR_ROLES)


# The index secretariat: reviewers and methodologists (the system administrator included).

def may_see_provisional(user) -> bool:
    """Unpublished runs (provisional results, diagnostics, the run list): the secretariat only."""
    return user is not None and (user_is_reviewer(user) or user_is_methodologist(user))


def may_see_draft_methodology(user) -> bool:
    """Draft methodology versions on the reader pages and in the API (methodologists edit them in the admin)."""
    return may_see_provisional(user)


def may_recompute_index(user) -> bool:
    return may_see_provisional(user)


def may_publish_run(user) -> bool:
    return user_is_methodologist(user)


def may_rebuild_reports(user) -> bool:
    return user_is_methodologist(user)


def may_import_methodology(user) -> bool:
    """A methodology document imported as a draft (the API; in the admin, the methodologist's model permissions)."""
    return user_is_methodologist(user)


def may_try_methodology(user) -> bool:
    """The what-if of a draft methodology against a published run."""
    return user_is_methodologist(user)


# Filing and review.

def may_review(user) -> bool:
    return user_is_reviewer(user)


def may_manage_periods(user) -> bool:
    """Open a reporting period (with every city's return) and close it: the secretariat that runs the review."""
    return user_is_reviewer(user)


def may_see_all_returns(user) -> bool:
    """Every city's returns, values, evidence and imports (a filer sees their own city's only)."""
    return user_is_reviewer(user)


# Accounts and the audit trail: separate duties.

def may_manage_accounts(user) -> bool:
    """Filers', reviewers' and methodologists' accounts, lockouts and lost authenticators (the admin site);
    which accounts exactly: user_may_manage_account."""
    return bool(user.is_authenticated and (user.is_superuser or user.has_role(Role.SECURITY_ADMIN)))


def may_read_audit_trail(user) -> bool:
    """Also what the audit role's model permission (audit.view_auditevent, below) grants in the admin site."""
    return bool(user.is_authenticated and (user.is_superuser or user.has_role(Role.AUDIT_ADMIN)))


# The role groups and their model permissions (what each role sees in the admin site).

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.FILER: [],
    Role.REVIEWER: [
        "accounts.view_city", "reporting.view_reportingperiod", "reporting.view_indicatorreturn",
        "reporting.view_returnvalue",
    ],
    Role.METHODOLOGIST: [
        f"methodology.{action}_{model}"
        for model in ("methodologyversion", "methodologynode", "indicator", "validationrule")
        for action in ("add", "change", "delete", "view")
    ] + ["accounts.view_city", "reporting.view_reportingperiod"],
    Role.SECURITY_ADMIN: [
        "accounts.add_user", "accounts.change_user", "accounts.view_user",
        "auth.view_group", "accounts.view_city",
        # Locked-out user names (django-axes): deleting the attempts unlocks the name.
        "axes.view_accessattempt", "axes.delete_accessattempt",
        # Lost authenticators: deleting one lets its user set up a new one at the next login.
        "otp_totp.view_totpdevice", "otp_totp.delete_totpdevice",
    ],
    Role.AUDIT_ADMIN: ["audit.view_auditevent"],
}


def roles_sync(sender=None, **kwargs) -> None:
    """Create the role groups and set their permissions. Connected to post_migrate, which Django sends once
    per app: acts on the last app's, when every permission the roles name exists."""
    if sender is not None and sender is not [config for config in apps.get_app_configs() if config.models_module][-1]:
        return
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = [
            Permission.objects.get(content_type__app_label=label, codename=codename)
            for label, codename in (name.split(".") for name in codenames)
        ]
        group.permissions.set(permissions)
