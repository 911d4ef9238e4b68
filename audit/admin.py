"""The audit trail in the admin: read only, for the audit administrator (and the system administrator).
The trail is append-only: nobody adds, changes or deletes an event here. The auditor searches and filters
it by person, city, event, object and time, reads each change as old → new, in local time and in their
language, and exports what the filters select as CSV (itself an audited event)."""
import csv

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from audit import presentation
from audit.labels import event_type_label, object_type_label
from audit.models import AuditEvent
from audit.services import audit_trail_read
from ccfi_portal.spreadsheets import escape_formula


class ReadOnlyAdminMixin:
    """View permission only, for everyone including superusers."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventTypeFilter(admin.SimpleListFilter):
    title = _("event type")
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        codes = AuditEvent.objects.order_by().values_list("event_type", flat=True).distinct()
        return sorted(((code, event_type_label(code)) for code in codes), key=lambda item: item[1])

    def queryset(self, request, queryset):
        return queryset.filter(event_type=self.value()) if self.value() else queryset


class ObjectTypeFilter(admin.SimpleListFilter):
    title = _("object type")
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        labels = AuditEvent.objects.exclude(object_type="").order_by().values_list("object_type", flat=True)
        return sorted(((label, object_type_label(label)) for label in labels.distinct()), key=lambda item: item[1])

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


class _Echo:
    def write(self, value):
        return value


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("time_local", "actor", "city", "event_label", "outcome", "object_label", "ip_address",
                    "changes_summary")
    list_display_links = ("time_local",)
    list_filter = (EventTypeFilter, "success", ("actor", admin.RelatedOnlyFieldListFilter),
                   ("city", admin.RelatedOnlyFieldListFilter), ObjectTypeFilter, "occurred_at")
    # Indicator codes and other values are found in the details' text.
    search_fields = ("object_repr", "object_id", "actor__username", "event_type", "ip_address", "details")
    list_select_related = ("actor", "city")
    date_hierarchy = "occurred_at"
    # The user and the city as text: a link would lead the auditor to pages closed to them.
    fields = ("time_local", "actor_name", "event_label", "outcome", "city_name", "object_label", "ip_address",
              "user_agent", "changes_table", "details_text", "chain")
    readonly_fields = ("time_local", "actor_name", "event_label", "outcome", "city_name", "object_label",
                       "changes_table", "details_text", "chain")

    @admin.display(description=_("Time (Beijing)"), ordering="occurred_at")
    def time_local(self, event):
        return presentation.local_time(event)

    @admin.display(description=_("user"))
    def actor_name(self, event):
        return event.actor.get_username() if event.actor else "—"

    @admin.display(description=_("city"))
    def city_name(self, event):
        return str(event.city) if event.city else "—"

    @admin.display(description=_("event type"), ordering="event_type")
    def event_label(self, event):
        return event_type_label(event.event_type)

    @admin.display(description=_("outcome"), ordering="success")
    def outcome(self, event):
        return presentation.outcome_label(event)

    @admin.display(description=_("object"))
    def object_label(self, event):
        return presentation.object_label(event)

    @admin.display(description=_("changes (old → new)"))
    def changes_summary(self, event):
        return presentation.summary(event)[:300]

    @admin.display(description=_("changes (old → new)"))
    def changes_table(self, event):
        lines = presentation.change_lines(event)
        if not lines:
            return "—"
        return format_html(
            '<table data-testid="audit-changes"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>", _("field"), _("old value"), _("new value"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                             ((line.field, line.old or "—", line.new or "—") for line in lines)))

    @admin.display(description=_("details"))
    def details_text(self, event):
        return format_html("<pre>{}</pre>", presentation.details_json(event))

    @admin.display(description=_("hash chain"))
    def chain(self, event):
        link = presentation.chain_link(event)
        if link is None:
            return "—"
        return format_html("#{}<br>{}: <code>{}</code><br>{}: <code>{}</code>", link.sequence,
                           _("previous record's hash"), link.previous_hash, _("record hash"), link.record_hash)

    def get_urls(self):
        export = path("export/", self.admin_site.admin_view(self.export_view), name="audit_auditevent_export")
        return [export, *super().get_urls()]

    def export_view(self, request):
        """The events the change list's filters and search select, as CSV (formula cells escaped)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest()
        # The events as of the request (the export's own event, and later ones, are not in it).
        last = AuditEvent.objects.aggregate(last=Max("pk"))["last"] or 0
        queryset = queryset.filter(pk__lte=last).select_related("actor", "city", "link")
        audit_trail_read(request, count=queryset.count(), channel="admin")
        writer = csv.writer(_Echo())

        def rows():
            yield "\ufeff"  # spreadsheet programs then read the file as UTF-8
            yield writer.writerow([str(column) for column in presentation.CSV_COLUMNS])
            for event in queryset.iterator(chunk_size=2000):
                yield writer.writerow([escape_formula(cell) for cell in presentation.csv_row(event)])

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        name = f"audit-trail-{timezone.localtime():%Y%m%d-%H%M%S}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
