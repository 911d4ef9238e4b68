from django import template

from accounts.permissions import may_manage_periods, user_is_filer, user_is_methodologist, user_is_reviewer
from ccfi_portal.i18n import pick as localized
from reporting.models import Channel
from reporting.selectors import notification_unread_count
from reporting.validation import observation_status_label

register = template.Library()


@register.simple_tag
def portal_roles(user) -> dict:
    """What the menus may offer this user."""
    if not user.is_authenticated:
        return {}
    return {"filer": user_is_filer(user), "reviewer": user_is_reviewer(user),
            "methodologist": user_is_methodologist(user), "period_manager": may_manage_periods(user)}


@register.simple_tag
def unread_notice_count(user) -> int:
    """The badge on the inbox link of the menu."""
    if user is None or not user.is_authenticated:
        return 0
    return notification_unread_count(user=user)


@register.filter
def pick(item, name: str):
    """``{{ city|pick:"name" }}``: the Chinese or English field for the active language."""
    return localized(item, name)


@register.filter
def channel_label(value: str) -> str:
    return Channel(value).label if value in Channel.values else value


@register.filter
def field_value(value: str, field: str) -> str:
    """``{{ change.old|field_value:change.field }}``: an observation status as the form's label (终值), not its code."""
    return observation_status_label(value) if field == "observation_status" and value else value


@register.filter
def person(user) -> str:
    """A person's full name, or their user name when none is recorded."""
    if user is None:
        return ""
    return user.get_full_name().strip() or user.get_username()
