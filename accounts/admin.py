"""Cities, accounts and authenticators in the admin, under the separation of duties of
accounts.permissions: the security administrator manages filers', reviewers' and methodologists'
accounts; only the system administrator manages administrators'. Every change is audited."""
from http import HTTPStatus

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import City, User
from accounts.permissions import roles_assignable_by, user_may_manage_account
from accounts.second_factor import second_factor_reset
from audit.services import audit_record, client_ip


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
    # When the account was made and last used are facts, not settings; and as plain widgets every input has its
    # label (the split date-time inputs and the two-pane filter widget's JavaScript fail WCAG 2.1 AA in axe).
    readonly_fields = ("last_login", "date_joined")
    filter_horizontal = ()

    def get_readonly_fields(self, request, obj=None):
        # A security administrator manages accounts but cannot hand out superuser rights.
        if request.user.is_superuser:
            return self.readonly_fields
        return (*self.readonly_fields, "is_superuser", "user_permissions")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = roles_assignable_by(request.user)
            kwargs["widget"] = forms.CheckboxSelectMultiple
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


# Locked-out user names (django-axes): its status column has no translated heading.
admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LockoutAdmin(AccessAttemptAdmin):
    @admin.display(description=_("Status"))
    def status(self, obj):
        return super().status(obj)


# Authenticators (the second factor): the security administrator resets a lost one by deleting it; the
# user sets up a new one at the next login. Nobody adds, edits or reads a secret here.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)  # recovery codes: reset with the authenticator, never listed


@admin.register(TOTPDevice)
class AuthenticatorAdmin(TOTPDeviceAdmin):
    # django-otp's columns, filters and sections are English (its fields have no translated verbose names):
    # the few a security administrator needs, under translated names; read only, the secret never shown.
    list_display = ("owner", "device_name", "confirmed_state", "created", "last_used")
    list_filter = ()
    search_help_text = _("Search by user name or e-mail")
    readonly_fields = list_display

    def get_list_display(self, request):
        return self.list_display

    def get_fieldsets(self, request, obj=None):
        return [(None, {"fields": self.list_display})]

    @admin.display(description=_("user"), ordering="user__username")
    def owner(self, device):
        return device.user

    @admin.display(description=_("name"), ordering="name")
    def device_name(self, device):
        return device.name

    @admin.display(description=_("Confirmed"), boolean=True)
    def confirmed_state(self, device):
        return device.confirmed

    @admin.display(description=_("Created"), ordering="created_at")
    def created(self, device):
        return device.created_at

    @admin.display(description=_("Last used"), ordering="last_used_at")
    def last_used(self, device):
        return device.last_used_at

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
