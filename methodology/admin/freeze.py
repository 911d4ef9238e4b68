"""The freeze in the admin: pages of a version, or of a part of one, turn read-only once the version
leaves draft, and an attempt to change one ends in a message instead of a bare 403 or a 500."""

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import quote, unquote
from django.db import models, transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record, client_ip
from methodology.models import MethodologyFrozenError, MethodologyState, MethodologyVersion

NOTHING_CHANGED_MESSAGE = _("Nothing was changed.")


def _refusal(reason: str) -> str:
    return f"{reason} {NOTHING_CHANGED_MESSAGE}"


@admin.action(permissions=["delete"], description=delete_selected.short_description)
def delete_selected_drafts(modeladmin, request, queryset):
    """Django's bulk delete, refused up front for frozen rows: its own check would end in a bare 403."""
    frozen = modeladmin.frozen_in(queryset).first()
    if frozen is not None:
        reason = MethodologyFrozenError(frozen).messages[0]
        _audit_refusal(request, modeladmin.opts.label, reason, action="delete_selected", obj=frozen)
        modeladmin.message_user(request, _refusal(reason), messages.ERROR)
        return None
    try:
        with transaction.atomic():
            return delete_selected(modeladmin, request, queryset)
    except MethodologyFrozenError as error:
        # Published while this request ran: nothing was deleted.
        _audit_refusal(request, modeladmin.opts.label, error.messages[0], action="delete_selected")
        modeladmin.message_user(request, _refusal(error.messages[0]), messages.ERROR)
        return None


def _audit_refusal(request, model_label: str, reason: str, *, action: str, obj=None) -> None:
    audit_record(actor=request.user, event_type="admin.refused", obj=obj, success=False,
                 ip_address=client_ip(request),
                 details={"model": model_label, "action": action, "reason": str(reason), "path": request.path})


class FrozenVersionAdminMixin:
    """Pages of a version, or of a part of one, that turn read-only once the version leaves draft."""

    version_field = "version"  # the admin model's field that holds its version's primary key

    def version_of(self, obj) -> MethodologyVersion:
        return obj.version

    def frozen_version(self, obj) -> MethodologyVersion | None:
        version = self.version_of(obj)
        return None if version.is_draft else version

    def frozen_in(self, queryset) -> models.QuerySet[MethodologyVersion]:
        """The frozen versions that rows of ``queryset`` belong to."""
        versions = MethodologyVersion.objects.filter(pk__in=queryset.values(self.version_field))
        return versions.exclude(state=MethodologyState.DRAFT)

    # Every edit of a methodology goes into the audit trail too, not only into Django's admin log.
    def log_addition(self, request, obj, message):
        self._audit(request, obj, action="add", changes=message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, obj, action="change", changes=message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, obj, action="delete", changes=[])
        return super().log_deletions(request, queryset)

    def _audit(self, request, obj, *, action: str, changes) -> None:
        audit_record(actor=request.user, event_type="methodology.edit", obj=obj, ip_address=client_ip(request),
                     details={"action": action, "changes": changes})

    def delete_queryset(self, request, queryset):
        # Row by row, so that the model's freeze check runs: a queryset delete skips Model.delete().
        for obj in queryset:
            obj.delete()

    def has_change_permission(self, request, obj=None):
        if obj is not None and self.frozen_version(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and self.frozen_version(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            actions["delete_selected"] = (delete_selected_drafts, *actions["delete_selected"][1:])
        return actions

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and object_id is not None:
            refusal = self._refuse_if_frozen(request, object_id, allowed=self.has_change_permission(request))
            if refusal is not None:
                return refusal
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except MethodologyFrozenError as error:
            # Published while this request ran: the view's transaction has rolled back.
            return self._refuse(request, error.messages[0], request.path)

    def delete_view(self, request, object_id, extra_context=None):
        refusal = self._refuse_if_frozen(request, object_id, allowed=self.has_delete_permission(request))
        if refusal is not None:
            return refusal
        try:
            return super().delete_view(request, object_id, extra_context)
        except MethodologyFrozenError as error:
            return self._refuse(request, error.messages[0], self._change_url(object_id))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        version = self.frozen_version(obj) if obj is not None else None
        if version is not None:
            context["frozen_message"] = MethodologyFrozenError(version).messages[0]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _refuse_if_frozen(self, request, object_id, *, allowed: bool) -> HttpResponseRedirect | None:
        """Back to the page with a message, for a user who could change the object were it a draft."""
        obj = self.get_object(request, unquote(object_id))
        version = self.frozen_version(obj) if obj is not None else None
        if version is None or not allowed:
            return None
        return self._refuse(request, MethodologyFrozenError(version).messages[0], self._change_url(quote(obj.pk)))

    def _change_url(self, object_id: str) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[object_id])

    def _refuse(self, request, reason: str, url: str) -> HttpResponseRedirect:
        _audit_refusal(request, self.opts.label, reason, action="delete" if "/delete/" in request.path else "change")
        self.message_user(request, _refusal(reason), messages.ERROR)
        return HttpResponseRedirect(url)
