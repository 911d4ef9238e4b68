"""Cities, accounts, reporting periods, returns and the audit trail in the admin.

Values and the review workflow change only through the reporting services (the validation that
forms and imports share, and an audit event per step), so the admin shows them without editing
them. The audit trail is append-only: nobody adds, changes or deletes an event here.
"""
from http import HTTPStatus

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from reporting.models import (
    AuditEvent,
    City,
    EvidenceFile,
    ImportReport,
    IndicatorReturn,
    PeriodExtension,
    ReportingPeriod,
    ReturnSnapshot,
    ReturnValue,
    ReviewComment,
    User,
    ValueChange,
    ValueFlag,
)
from reporting.second_factor import second_factor_reset
from reporting.selectors import roles_assignable_by, user_may_manage_account
from reporting.services import audit_record, client_ip


class ReadOnlyAdminMixin:
    """View permission only, for everyone including superusers."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "province_zh", "province_en")
    search_fields = ("code", "name_zh", "name_en", "province_zh", "province_en")
    list_filter = ("province_zh",)


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "city")}),
        *auth_admin.UserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        *auth_admin.UserAdmin.add_fieldsets,
        (None, {"classes": ("wide",), "fields": ("email", "city")}),
    )
    list_display = ("username", "first_name", "last_name", "email", "city", "is_staff", "is_active")
    list_filter = ("groups", "city", "is_staff", "is_superuser", "is_active")
    list_select_related = ("city",)
    search_fields = (*auth_admin.UserAdmin.search_fields, "city__name_zh", "city__name_en")
    autocomplete_fields = ("city",)

    def get_readonly_fields(self, request, obj=None):
        # A security administrator manages accounts but cannot hand out superuser rights.
        if request.user.is_superuser:
            return self.readonly_fields
        return (*self.readonly_fields, "is_superuser", "user_permissions")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = roles_assignable_by(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        # Nor take over an administrator's account (e.g. by setting its password), nor widen their own.
        if obj is not None and not user_may_manage_account(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def save_related(self, request, form, formsets, change):
        account = form.instance
        roles_before = set(account.groups.values_list("name", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        roles_after = set(account.groups.values_list("name", flat=True))
        audit_record(actor=request.user, event_type="user.change" if change else "user.create", obj=account,
                     ip_address=client_ip(request), details={
                         "fields": sorted(name for name in form.changed_data if not name.startswith("password")),
                         "roles_added": sorted(roles_after - roles_before),
                         "roles_removed": sorted(roles_before - roles_after),
                     })

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == HTTPStatus.FOUND:
                audit_record(actor=request.user, event_type="user.password_set", obj=self.get_object(request, id),
                             ip_address=client_ip(request))
        return response


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


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "actor", "event_type", "success", "object_repr", "ip_address")
    list_filter = ("event_type", "success")
    search_fields = ("object_repr", "actor__username")
    list_select_related = ("actor",)
    date_hierarchy = "occurred_at"


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


@admin.register(ValueChange)
class ValueChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("changed_at", "indicator_return", "indicator", "field", "old", "new", "actor", "channel")
    list_filter = ("channel", "field")
    search_fields = ("indicator__code", "actor__username")
    list_select_related = ("indicator_return__city", "indicator_return__period", "indicator", "actor")


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


# Authenticators (the second factor): the security administrator resets a lost one by deleting it; the
# user sets up a new one at the next login. Nobody adds, edits or reads a secret here.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)  # recovery codes: reset with the authenticator, never listed


@admin.register(TOTPDevice)
class AuthenticatorAdmin(TOTPDeviceAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not user_may_manage_account(request.user, obj.user):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        second_factor_reset(actor=request.user, devices=[obj], ip_address=client_ip(request))

    def delete_queryset(self, request, queryset):
        devices = list(queryset.select_related("user"))
        if not all(user_may_manage_account(request.user, device.user) for device in devices):
            raise PermissionDenied
        second_factor_reset(actor=request.user, devices=devices, ip_address=client_ip(request))
