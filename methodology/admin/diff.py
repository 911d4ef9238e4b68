"""The diff page's grouping and display: changes by kind and status, values as the page prints them."""
import json

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from indices.engine.spec import BOUND_FIELDS, ItemDiff
from methodology.models import Indicator, MethodologyNode

# Fields of a diff that change scores: the page sets them apart.
KEY_DIFF_FIELDS = frozenset(
    {"weight", "direction", "aggregation", "normalisation", "normalisation_params", "log_transform", "parent",
     *BOUND_FIELDS}
)
DIFF_KINDS = (
    ("indicator", _("Indicators")), ("node", _("Tree nodes")), ("context", _("Context variables")),
    ("rule", _("Validation rules")), ("settings", _("Checks and engine settings")),
)
DIFF_STATUSES = (("added", _("Added")), ("removed", _("Removed")), ("changed", _("Changed")))


def _field_label(name: str) -> str:
    for model in (Indicator, MethodologyNode):
        try:
            return capfirst(model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            continue
    return name


def _display_value(name: str, value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    for model in (Indicator, MethodologyNode):
        try:
            choices = dict(model._meta.get_field(name).flatchoices)
        except FieldDoesNotExist:
            continue
        if value in choices:
            return str(choices[value])
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def diff_groups(items: list[ItemDiff]) -> list[dict]:
    """The diff by kind, then by status, each change as labels and printable old and new values."""
    groups = []
    for kind, kind_label in DIFF_KINDS:
        of_kind = [item for item in items if item.kind == kind]
        sections = []
        for status, status_label in DIFF_STATUSES:
            rows = [
                {"code": item.code, "name": item.name, "changes": [
                    {"field": change.field, "label": _field_label(change.field),
                     "old": _display_value(change.field, change.old), "new": _display_value(change.field, change.new),
                     "key": change.field in KEY_DIFF_FIELDS}
                    for change in item.changes
                ]}
                for item in of_kind if item.status == status
            ]
            sections.append({"status": status, "label": status_label, "rows": rows})
        groups.append({"kind": kind, "label": kind_label, "count": len(of_kind), "sections": sections})
    return groups
