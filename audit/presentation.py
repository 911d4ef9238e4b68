"""An audit event as an auditor reads it, on the page and in the CSV export: local time, labels in the
reader's language, and each change as field, old value and new value."""
import json
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from audit.labels import VALUE_FIELDS, event_type_label, field_label, object_type_label, value_text
from audit.models import AuditChainLink, AuditEvent

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class ChangeLine:
    field: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.field}: {self.old or '—'} → {self.new or '—'}"


def local_time(event: AuditEvent) -> str:
    """In the portal's time zone (Asia/Shanghai), as everywhere the trail is shown."""
    return timezone.localtime(event.occurred_at).strftime(TIME_FORMAT)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def change_lines(event: AuditEvent) -> list[ChangeLine]:
    """The old → new values an event carries: a return's values (by indicator code) or an admin change."""
    details = event.details if isinstance(event.details, dict) else {}
    lines = []
    for value in details.get("values", []) if event.event_type == "return.values_change" else []:
        label = str(VALUE_FIELDS.get(value.get("field"), value.get("field")))
        field = value.get("field")
        lines.append(ChangeLine(f"{value.get('code')} {label}", value_text(field, _text(value.get("old"))),
                                value_text(field, _text(value.get("new")))))
    model = details.get("model", event.object_type)
    changes = details.get("changes")
    for name, change in changes.items() if isinstance(changes, dict) else ():
        if isinstance(change, dict):
            lines.append(ChangeLine(field_label(model, name), _text(change.get("old")), _text(change.get("new"))))
    for inline in details.get("inlines", []):
        for changed in inline.get("changed", []):
            for name, change in changed.get("changes", {}).items():
                lines.append(ChangeLine(f"{changed.get('object')} {field_label(inline.get('model', ''), name)}",
                                        _text(change.get("old")), _text(change.get("new"))))
    return lines


def object_label(event: AuditEvent) -> str:
    if not event.object_type:
        return ""
    return f"{object_type_label(event.object_type)}{_label_separator()}{event.object_repr or event.object_id}"


def outcome_label(event: AuditEvent) -> str:
    return _("Succeeded") if event.success else _("Refused or failed")


def summary(event: AuditEvent) -> str:
    """One line for the list: the changes, else what the details say."""
    lines = change_lines(event)
    between = pgettext("list separator", "; ")
    if lines:
        return between.join(str(line) for line in lines)
    details = {key: value for key, value in (event.details or {}).items()
               if key not in ("values", "model") and value not in ({}, [], "", None)}
    # A key that names a field the catalogue knows (reason, city, summary...) in the reader's language.
    return between.join(f"{_(key)}{_label_separator()}{_text(value)}" for key, value in details.items())


def _label_separator() -> str:
    return pgettext("label separator", ": ")


def details_json(event: AuditEvent) -> str:
    return json.dumps(event.details, ensure_ascii=False, sort_keys=True, indent=2)


CSV_COLUMNS = [
    gettext_lazy("Time (Beijing)"), gettext_lazy("user"), gettext_lazy("city"), gettext_lazy("event type"),
    gettext_lazy("outcome"), gettext_lazy("object type"), gettext_lazy("object"), gettext_lazy("object id"),
    gettext_lazy("IP address"), gettext_lazy("user agent"), gettext_lazy("changes (old → new)"),
    gettext_lazy("details"), gettext_lazy("sequence"), gettext_lazy("record hash"),
]


def chain_link(event: AuditEvent) -> AuditChainLink | None:
    """The event's link of the hash chain; None for a moment after it is recorded."""
    try:
        return event.link
    except AuditChainLink.DoesNotExist:
        return None


def csv_row(event: AuditEvent) -> list[str]:
    link = chain_link(event)
    return [
        local_time(event), event.actor.get_username() if event.actor else "",
        str(event.city) if event.city else "", event_type_label(event.event_type), outcome_label(event),
        object_type_label(event.object_type) if event.object_type else "", event.object_repr, event.object_id,
        event.ip_address or "", event.user_agent, "\n".join(str(line) for line in change_lines(event)),
        details_json(event), str(link.sequence) if link else "", link.record_hash if link else "",
    ]
