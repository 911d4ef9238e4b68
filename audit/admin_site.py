"""The admin site that records every change made through it in the audit trail: each model registered
on it (the project's, Django's and third parties') gets AuditedModelAdminMixin, which writes one event per
added, changed or deleted object with its field values before and after, and one per refused form."""
import datetime
import decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.db.models.fields import BLANK_CHOICE_DASH
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record

BLANK_LABEL = BLANK_CHOICE_DASH[0][1]
NOTHING_CHOSEN = _("(none)")
SENSITIVE = ("password", "secret", "key", "token")
HIDDEN = "***"
TEXT_LIMIT = 1000


def _plain(value):
    """A value as JSON stores it and an auditor reads it (times in the portal's time zone)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value[:TEXT_LIMIT] if isinstance(value, str) else value
    if isinstance(value, datetime.datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).isoformat(sep=" ")
    if isinstance(value, datetime.date | decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)[:TEXT_LIMIT]
    if isinstance(value, list | tuple | set | models.QuerySet):
        return sorted(str(item) for item in value)
    return str(value)[:TEXT_LIMIT]


def _sensitive(name: str) -> bool:
    return any(word in name.lower() for word in SENSITIVE)


def _field_value(obj, field):
    if field.is_relation:
        try:
            return _plain(getattr(obj, field.name))
        except ObjectDoesNotExist:
            return None
    return _plain(field.value_from_object(obj))


def snapshot(obj) -> dict:
    """The concrete fields of ``obj`` (foreign keys by their names), secrets masked."""
    if obj is None:
        return {}
    return {field.name: HIDDEN if _sensitive(field.name) else _field_value(obj, field)
            for field in obj._meta.concrete_fields}


def _differences(before: dict, after: dict) -> dict:
    return {name: {"old": before.get(name), "new": value} for name, value in after.items()
            if before.get(name) != value}


class AuditedModelAdminMixin:
    """Each add, change and delete of the admin, and each refused form, as an audit event. (And menus start
    with words, not Django's "---------": the one presentational change every registered admin needs, made
    here where they all pass.)"""

    def get_action_choices(self, request, default_choices=None):
        return super().get_action_choices(request, [("", _("Choose an action"))])

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if getattr(formfield, "empty_label", None) == BLANK_LABEL:  # a foreign key's menu
            formfield.empty_label = NOTHING_CHOSEN
        elif isinstance(formfield, forms.ChoiceField) and not hasattr(formfield, "queryset"):  # a field's choices
            formfield.choices = [(value, NOTHING_CHOSEN if label == BLANK_LABEL else label)
                                 for value, label in formfield.choices]
        return formfield

    def save_model(self, request, obj, form, change):
        before = type(obj)._default_manager.filter(pk=obj.pk).first() if change and obj.pk is not None else None
        form.audit_before = snapshot(before)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        changes = _differences(getattr(form, "audit_before", {}), snapshot(obj))
        for name in form.changed_data:
            try:
                field = obj._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if field.many_to_many:
                changes[name] = {"old": _plain(form.initial.get(name) or []),
                                 "new": _plain(form.cleaned_data.get(name) or [])}
        audit_record(actor=request.user, event_type="admin.change" if change else "admin.add", obj=obj,
                     details={"model": obj._meta.label, "changes": changes,
                              "inlines": [entry for formset in formsets if (entry := self._inline_changes(formset))]})

    @staticmethod
    def _inline_changes(formset) -> dict:
        forms = {form.instance.pk: form for form in formset.initial_forms}
        changed = []
        for obj, names in formset.changed_objects:
            form = forms.get(obj.pk)
            changed.append({"object": str(obj)[:200], "changes": {
                name: {"old": HIDDEN if _sensitive(name) else _plain(form.initial.get(name) if form else None),
                       "new": HIDDEN if _sensitive(name) else _plain(form.cleaned_data.get(name) if form else None)}
                for name in names}})
        if not (formset.new_objects or changed or formset.deleted_objects):
            return {}
        return {"model": formset.model._meta.label, "added": [snapshot(obj) for obj in formset.new_objects],
                "changed": changed, "deleted": [str(obj)[:200] for obj in formset.deleted_objects]}

    def delete_model(self, request, obj):
        # Recorded first (the admin deletes inside a transaction): afterwards the object has no key.
        self._audit_deletion(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self._audit_deletion(request, obj)
        super().delete_queryset(request, queryset)

    @staticmethod
    def _audit_deletion(request, obj) -> None:
        audit_record(actor=request.user, event_type="admin.delete", obj=obj,
                     details={"model": obj._meta.label, "values": snapshot(obj)})

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if request.method == "POST" and context.get("errors"):
            adminform = context.get("adminform")
            errors = dict(adminform.form.errors) if adminform is not None else {}
            for formset in context.get("inline_admin_formsets", []):
                errors.update({f"{formset.formset.prefix}-{index}": form_errors
                               for index, form_errors in enumerate(formset.formset.errors) if form_errors})
            audit_record(actor=request.user, event_type="admin.refused", obj=obj, success=False, details={
                "model": self.opts.label, "action": "add" if add else "change",
                "errors": {name: [str(message) for message in messages] if isinstance(messages, list)
                           else _plain(messages) for name, messages in errors.items()},
                "submitted": {name: HIDDEN if _sensitive(name) else _plain(value)
                              for name, value in adminform.form.data.items()
                              if name in adminform.form.fields} if adminform is not None else {},
            })
        return super().render_change_form(request, context, add, change, form_url, obj)


class AuditedAdminSite(admin.AdminSite):
    """Django's admin site whose every ModelAdmin is audited (AuditedModelAdminMixin)."""

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedModelAdminMixin):
            admin_class = type(admin_class.__name__, (AuditedModelAdminMixin, admin_class),
                               {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__})
        super().register(model_or_iterable, admin_class, **options)
