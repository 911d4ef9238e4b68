"""Reporting periods, returns and their records in the admin.

Values and the review workflow change only through the reporting services (the validation that
forms and imports share, and an audit event per step), so the admin shows them without editing
them.
"""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.admin import ReadOnlyAdminMixin
from reporting.models import (
    EvidenceFile,
    ImportReport,
    IndicatorReturn,
    Notification,
    PeriodExtension,
    ReportingPeriod,
    ReturnSnapshot,
    ReturnValue,
    ReviewComment,
    ValueChange,
    ValueFlag,
)


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(admin.ModelAdmin):
    list_display = ("data_year", "opens_on", "due_on", "locks_on", "state", "methodology")
    list_filter = ("state", "methodology")
    search_fields = ("data_year",)
    list_select_related = ("methodology",)
    autocomplete_fields = ("methodology",)


class ReturnValueInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReturnValue
    fields = ("indicator", "value", "observation_status", "source_note", "explanation")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("indicator")


@admin.register(IndicatorReturn)
class IndicatorReturnAdmin(admin.ModelAdmin):
    list_display = ("city", "period", "revision", "state", "is_illustrative", "submitted_at", "approved_at")
    list_filter = ("period", "state", "is_illustrative", "city")
    search_fields = ("city__name_zh", "city__name_en", "city__code")
    list_select_related = ("city", "period")
    autocomplete_fields = ("city", "period")
    # The workflow state moves only through the review services.
    readonly_fields = ("state", "submitted_at", "approved_at", "created_at", "updated_at")
    inlines = (ReturnValueInline,)


@admin.register(ReturnValue)
class ReturnValueAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("indicator_return", "indicator", "value", "observation_status", "source_note")
    list_filter = ("observation_status", "indicator_return__period")
    search_fields = ("indicator__code", "indicator_return__city__name_zh", "indicator_return__city__name_en")
    list_select_related = ("indicator_return__city", "indicator_return__period", "indicator")


# The filing and review records: written by the reporting services only (each with its audit
# event), so the admin shows them and changes none of them.

@admin.register(PeriodExtension)
class PeriodExtensionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("period", "city", "until", "granted_by", "granted_at")
    list_filter = ("period",)
    list_select_related = ("period", "city", "granted_by")


@admin.register(ValueFlag)
class ValueFlagAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("value", "check_code", "severity", "decision", "decided_by")
    list_filter = ("severity", "decision", "check_code")
    list_select_related = ("value__indicator", "decided_by")


@admin.register(ReviewComment)
class ReviewCommentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("indicator_return", "indicator", "reason_code", "author", "created_at")
    list_filter = ("reason_code",)
    list_select_related = ("indicator_return__city", "indicator_return__period", "indicator", "author")


@admin.register(ReturnSnapshot)
class ReturnSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("indicator_return", "number", "taken_at", "taken_by")
    list_select_related = ("indicator_return__city", "indicator_return__period", "taken_by")


class ValueChangeFieldFilter(admin.SimpleListFilter):
    """The changed field by its label, not its code."""

    title = _("field")
    parameter_name = "field"

    def lookups(self, request, model_admin):
        return list(ValueChange.FIELD_LABELS.items())

    def queryset(self, request, queryset):
        return queryset.filter(field=self.value()) if self.value() else queryset


@admin.register(ValueChange)
class ValueChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("changed_at", "indicator_return", "indicator", "field_shown", "old_shown", "new_shown", "actor",
                    "channel")
    list_filter = ("channel", ValueChangeFieldFilter)
    search_fields = ("indicator__code", "actor__username")
    list_select_related = ("indicator_return__city", "indicator_return__period", "indicator", "actor")

    fields = ("indicator_return", "indicator", "field_shown", "old_shown", "new_shown", "actor", "changed_at",
              "channel", "edit_version")
    readonly_fields = fields

    @admin.display(description=_("field"), ordering="field")
    def field_shown(self, change):
        return change.field_label

    @admin.display(description=_("old"))
    def old_shown(self, change):
        return change.shown(change.old)

    @admin.display(description=_("new"))
    def new_shown(self, change):
        return change.shown(change.new)


@admin.register(EvidenceFile)
class EvidenceFileAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("original_name", "indicator_return", "indicator", "content_type", "size", "uploaded_by",
                    "uploaded_at")
    list_select_related = ("indicator_return__city", "indicator_return__period", "indicator", "uploaded_by")
    exclude = ("file",)  # downloads go through the portal, which checks who may see the return


@admin.register(ImportReport)
class ImportReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("original_name", "period", "city", "actor", "state", "created_at")
    list_filter = ("state", "period")
    list_select_related = ("period", "city", "actor")
    exclude = ("file", "rows")




@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who was told what, and whether they have read it (support: "I never got the notice")."""
    list_display = ("created_at", "recipient", "event", "read_at")
    list_filter = ("event",)
    search_fields = ("recipient__username",)
    list_select_related = ("recipient",)
