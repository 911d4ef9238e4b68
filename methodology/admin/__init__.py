"""The methodology in the admin: edit a draft's tree, then clone, publish, retire, export and compare.

A published or retired version is frozen (methodology.models enforces it in save() and delete()). Here
its pages, and those of its nodes and indicators, turn read-only, and an attempt to change one ends
in a message on the page instead of a bare 403 or a 500. Life-cycle steps call methodology.services.

Split by concern: ``freeze`` (the read-only pages), ``forms``, ``diff`` (the diff page's grouping) and
``versions`` (the ModelAdmins, registered when it is imported here).
"""
from methodology.admin.diff import DIFF_KINDS, DIFF_STATUSES, KEY_DIFF_FIELDS, diff_groups
from methodology.admin.forms import MethodologyCloneForm, MethodologyCompareForm, VersionPartForm, VersionPartFormSet
from methodology.admin.freeze import FrozenVersionAdminMixin, delete_selected_drafts
from methodology.admin.versions import (
    IndicatorAdmin,
    MethodologyNodeAdmin,
    MethodologyVersionAdmin,
    ValidationRuleAdmin,
)

__all__ = [
    "DIFF_KINDS",
    "DIFF_STATUSES",
    "KEY_DIFF_FIELDS",
    "FrozenVersionAdminMixin",
    "IndicatorAdmin",
    "MethodologyCloneForm",
    "MethodologyCompareForm",
    "MethodologyNodeAdmin",
    "MethodologyVersionAdmin",
    "ValidationRuleAdmin",
    "VersionPartForm",
    "VersionPartFormSet",
    "delete_selected_drafts",
    "diff_groups",
]
