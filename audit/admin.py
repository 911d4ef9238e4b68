"""The audit trail in the admin: read only, for the audit administrator (and the system administrator).
The trail is append-only: nobody adds, changes or deletes an event here."""
from django.contrib import admin

from audit.models import AuditEvent


class ReadOnlyAdminMixin:
    """View permission only, for everyone including superusers."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "actor", "event_type", "success", "object_repr", "ip_address")
    list_filter = ("event_type", "success")
    search_fields = ("object_repr", "actor__username")
    list_select_related = ("actor",)
    date_hierarchy = "occurred_at"
