"""The admin of methodology versions and of their parts (nodes, indicators, rules): edit a draft's
tree, then clone, publish, retire, export and compare. Life-cycle steps call methodology.services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from methodology.admin.diff import DIFF_STATUSES, diff_groups
from methodology.admin.forms import (
    ENGINE_FIELDS,
    MethodologyCloneForm,
    MethodologyCompareForm,
    MethodologyVersionForm,
    VersionPartForm,
    VersionPartFormSet,
)
from methodology.admin.freeze import FrozenVersionAdminMixin
from methodology.models import Indicator, MethodologyNode, MethodologyState, MethodologyVersion, ValidationRule
from methodology.selectors import (
    methodology_diff,
    methodology_document,
    methodology_next_free_label,
    methodology_tree,
    methodology_weight_diff,
)
from methodology.services import (
    methodology_clone,
    methodology_publish,
    methodology_publish_problems,
    methodology_retire,
)

SELECT_ONE_MESSAGE = _("Select exactly one methodology version.")
SELECT_TWO_MESSAGE = _("Select exactly two methodology versions to compare.")
CLONED_MESSAGE = _("Methodology %(code)s %(source)s was cloned as the new draft %(version)s.")
PUBLISHED_MESSAGE = _("Methodology %(code)s %(version)s is published; it can no longer be changed.")
RETIRED_MESSAGE = _("Methodology %(code)s %(version)s is retired.")


def _label_params(version: MethodologyVersion) -> dict:
    return {"code": version.code, "version": version.version}


def _error_html(error: ValidationError) -> str:
    """A refusal as one message: its first line, then every further problem on a line of its own.

    Lines, not a nested list: the admin styles every list item of its message list as a message.
    """
    head, *problems = error.messages
    if not problems:
        return head
    return format_html("{}{}", head, format_html_join("", "<br>• {}", ((problem,) for problem in problems)))


def _document_response(version: MethodologyVersion) -> HttpResponse:
    response = HttpResponse(methodology_document(version=version), content_type="application/json; charset=utf-8")
    response.headers["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{version.code}-{version.version}.json"
    )
    return response


class VersionPartInline(admin.TabularInline):
    """Rows of the version's change page; read-only once the version (the inline's parent) is frozen."""

    formset = VersionPartFormSet
    extra = 0
    # Folded (details/summary, no script): the tree above shows the version at a glance; open a table to edit.
    classes = ("collapse",)
    show_change_link = True
    # Narrow inputs, so that a row of the indicator table fits on a screen.
    formfield_overrides = {
        models.FloatField: {"widget": forms.NumberInput(attrs={"class": "vIntegerField", "step": "any"})},
        models.PositiveIntegerField: {"widget": forms.NumberInput(attrs={"class": "vIntegerField"})},
    }
    input_sizes = {"code": 6, "name_zh": 8, "name_en": 14, "unit_zh": 4, "unit_en": 8}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.input_sizes:
            kwargs["widget"] = forms.TextInput(attrs={"size": self.input_sizes[db_field.name]})
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "parent" and isinstance(formfield.widget, RelatedFieldWidgetWrapper):
            # No add/change pop-ups: a node added there could belong to any version.
            formfield.widget = formfield.widget.widget
        return formfield

    related = ("parent",)  # shown in every row

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.related)

    def has_add_permission(self, request, obj):
        return (obj is None or obj.is_draft) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return (obj is None or obj.is_draft) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or obj.is_draft) and super().has_delete_permission(request, obj)


class MethodologyNodeInline(VersionPartInline):
    model = MethodologyNode
    fields = ("code", "name_zh", "name_en", "parent", "weight", "aggregation", "position")


class IndicatorInline(VersionPartInline):
    model = Indicator
    fields = (
        "code", "kind", "parent", "name_zh", "name_en", "unit_zh", "unit_en", "direction", "weight",
        "hard_min", "hard_max", "soft_min", "soft_max", "yoy_tolerance_pct", "normalisation", "position",
    )


class ValidationRuleInline(VersionPartInline):
    model = ValidationRule
    fields = ("code", "name_zh", "name_en", "target", "expression", "tolerance_kind", "tolerance", "severity",
              "position")
    input_sizes = {**VersionPartInline.input_sizes, "expression": 36}
    related = ()


@admin.register(MethodologyVersion)
class MethodologyVersionAdmin(FrozenVersionAdminMixin, admin.ModelAdmin):
    version_field = "pk"
    list_display = ("code", "version", "title_zh", "title_en", "state", "cloned_from", "created_at", "published_at")
    list_filter = ("state", "code")
    search_fields = ("code", "version", "title_zh", "title_en")
    list_select_related = ("cloned_from",)
    readonly_fields = ("state", "cloned_from", "created_at", "published_at", "published_by")
    form = MethodologyVersionForm
    fieldsets = (
        (None, {"fields": ("code", "version", "title_zh", "title_en", "notes")}),
        (_("Engine settings"), {"fields": ENGINE_FIELDS, "classes": ("collapse", "engine-settings")}),
        (_("Checks"), {"fields": ("check_severities",), "classes": ("collapse",)}),
        (_("Life cycle"), {"fields": ("state", "cloned_from", "created_at", "published_at", "published_by"),
                           "classes": ("collapse",)}),
    )
    inlines = (MethodologyNodeInline, IndicatorInline, ValidationRuleInline)
    actions = ("clone_selected", "publish_selected", "retire_selected", "export_selected", "compare_selected")
    change_form_template = "admin/methodology/methodologyversion/change_form.html"

    def version_of(self, obj):
        return obj

    def get_fieldsets(self, request, obj=None):
        """The typed engine fields to whoever may change the version; the settings document (read-only) to
        whoever may only view it, e.g. a frozen version."""
        if self.has_change_permission(request, obj):
            return self.fieldsets
        return tuple((name, {**options, "fields": ("engine_settings",)}) if options["fields"] == ENGINE_FIELDS
                     else (name, options) for name, options in self.fieldsets)

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("diff/", view(self.diff_view), name=f"{info}_diff"),
            path("<path:object_id>/clone/", view(self.clone_view), name=f"{info}_clone"),
            path("<path:object_id>/publish/", view(self.publish_view), name=f"{info}_publish"),
            path("<path:object_id>/retire/", view(self.retire_view), name=f"{info}_retire"),
            path("<path:object_id>/export/", view(self.export_view), name=f"{info}_export"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The object's own change permission is off once frozen; retiring needs the model's.
        context["has_lifecycle_permission"] = self.has_change_permission(request)
        context["tree"] = methodology_tree(version=obj) if obj is not None else None
        return super().render_change_form(request, context, add, change, form_url, obj)

    # Actions on the change list.

    @admin.action(description=_("Clone the selected version"), permissions=["add"])
    def clone_selected(self, request, queryset):
        version = self._single(request, queryset)
        if version is not None:
            return HttpResponseRedirect(self._url("clone", version))
        return None

    @admin.action(description=_("Publish the selected drafts"), permissions=["change"])
    def publish_selected(self, request, queryset):
        for version in queryset:
            self._publish(request, version)

    @admin.action(description=_("Retire the selected published versions"), permissions=["change"])
    def retire_selected(self, request, queryset):
        for version in queryset:
            self._retire(request, version)

    @admin.action(description=_("Export the selected version as JSON"), permissions=["view"])
    def export_selected(self, request, queryset):
        version = self._single(request, queryset)
        return _document_response(version) if version is not None else None

    @admin.action(description=_("Compare the two selected versions"), permissions=["view"])
    def compare_selected(self, request, queryset):
        versions = list(queryset.order_by("created_at", "pk")[:3])
        if len(versions) != 2:
            self.message_user(request, SELECT_TWO_MESSAGE, messages.ERROR)
            return None
        return HttpResponseRedirect(self._diff_url(old=versions[0], new=versions[1]))

    # Views behind the buttons of the change page.

    def clone_view(self, request, object_id):
        source = self._get_viewable(request, object_id)
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = MethodologyCloneForm(
            request.POST if request.method == "POST" else None,
            initial={"new_version": methodology_next_free_label(code=source.code, version=source.version)},
        )
        if form.is_valid():
            try:
                clone = methodology_clone(version=source, actor=request.user,
                                          new_version=form.cleaned_data["new_version"])
            except ValidationError as error:
                form.add_error("new_version", error)
            else:
                self.message_user(request, CLONED_MESSAGE % {**_label_params(clone), "source": source.version},
                                  messages.SUCCESS)
                return HttpResponseRedirect(self._url("change", clone))
        title = gettext("Clone %(code)s %(version)s") % _label_params(source)
        return self._page(request, "clone.html", source, title=title, form=form)

    def publish_view(self, request, object_id):
        version = self._get_viewable(request, object_id)
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            self._publish(request, version)
            return HttpResponseRedirect(self._url("change", version))
        problems = methodology_publish_problems(version=version) if version.is_draft else []
        return self._page(
            request, "confirm.html", version, title=gettext("Publish %(code)s %(version)s") % _label_params(version),
            explanation=gettext(
                "Publishing freezes methodology %(code)s %(version)s: its tree, weights, bounds and "
                "normalisation can no longer be changed. To change it later, clone it."
            ) % _label_params(version),
            problems=problems, allowed=version.is_draft and not problems, button=gettext("Publish"),
        )

    def retire_view(self, request, object_id):
        version = self._get_viewable(request, object_id)
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            self._retire(request, version)
            return HttpResponseRedirect(self._url("change", version))
        return self._page(
            request, "confirm.html", version, title=gettext("Retire %(code)s %(version)s") % _label_params(version),
            explanation=gettext(
                "Retiring marks methodology %(code)s %(version)s as no longer in use. It stays frozen."
            ) % _label_params(version),
            problems=[], allowed=version.state == MethodologyState.PUBLISHED, button=gettext("Retire"),
        )

    def export_view(self, request, object_id):
        return _document_response(self._get_viewable(request, object_id))

    def diff_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        bound = "old" in request.GET and "new" in request.GET
        form = MethodologyCompareForm(request.GET if bound else None, initial=request.GET.dict())
        groups, totals, weight_changes = None, {}, []
        if form.is_valid():
            items = methodology_diff(old=form.cleaned_data["old"], new=form.cleaned_data["new"])
            weight_changes = methodology_weight_diff(old=form.cleaned_data["old"], new=form.cleaned_data["new"])
            groups = diff_groups(items)
            totals = {status: sum(1 for item in items if item.status == status) for status, _label in DIFF_STATUSES}
        return TemplateResponse(request, "admin/methodology/methodologyversion/diff.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Compare methodology versions"),
            "form": form,
            "groups": groups,
            "weight_changes": weight_changes,
            "totals": totals,
            "total": sum(totals.values()),
        })

    # Helpers.

    def _publish(self, request, version: MethodologyVersion) -> None:
        try:
            methodology_publish(version=version, actor=request.user)
        except ValidationError as error:
            self.message_user(request, _error_html(error), messages.ERROR)
        else:
            self.message_user(request, PUBLISHED_MESSAGE % _label_params(version), messages.SUCCESS)

    def _retire(self, request, version: MethodologyVersion) -> None:
        try:
            methodology_retire(version=version, actor=request.user)
        except ValidationError as error:
            self.message_user(request, _error_html(error), messages.ERROR)
        else:
            self.message_user(request, RETIRED_MESSAGE % _label_params(version), messages.SUCCESS)

    def _single(self, request, queryset) -> MethodologyVersion | None:
        versions = list(queryset[:2])
        if len(versions) != 1:
            self.message_user(request, SELECT_ONE_MESSAGE, messages.ERROR)
            return None
        return versions[0]

    def _get_viewable(self, request, object_id) -> MethodologyVersion:
        version = self.get_object(request, unquote(object_id))
        if version is None:
            raise Http404
        if not self.has_view_permission(request, version):
            raise PermissionDenied
        return version

    def _url(self, name: str, version: MethodologyVersion) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=[quote(version.pk)])

    def _diff_url(self, *, old: MethodologyVersion, new: MethodologyVersion) -> str:
        base = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_diff")
        return f"{base}?{urlencode({'old': old.pk, 'new': new.pk})}"

    def _page(self, request, template: str, version: MethodologyVersion, **context) -> TemplateResponse:
        return TemplateResponse(request, f"admin/methodology/methodologyversion/{template}", {
            **self.admin_site.each_context(request), "opts": self.opts, "original": version, **context,
        })


@admin.register(MethodologyNode)
class MethodologyNodeAdmin(FrozenVersionAdminMixin, admin.ModelAdmin):
    form = VersionPartForm
    list_display = ("code", "name_zh", "name_en", "version", "parent", "weight", "aggregation", "position")
    list_filter = ("version", "aggregation")
    search_fields = ("code", "name_zh", "name_en")
    list_select_related = ("version", "parent")
    fields = ("version", "code", "name_zh", "name_en", "parent", "weight", "aggregation", "position")

    def get_readonly_fields(self, request, obj=None):
        return ("version",) if obj is not None else ()


@admin.register(Indicator)
class IndicatorAdmin(FrozenVersionAdminMixin, admin.ModelAdmin):
    form = VersionPartForm
    list_display = ("code", "name_zh", "name_en", "version", "kind", "parent", "weight", "direction", "normalisation")
    list_filter = ("version", "kind", "direction", "normalisation")
    search_fields = ("code", "name_zh", "name_en")
    list_select_related = ("version", "parent")
    fieldsets = (
        (None, {"fields": ("version", "code", "kind", "parent", "position")}),
        (_("Names and unit"), {"fields": ("name_zh", "name_en", "unit_zh", "unit_en", "decimals")}),
        (_("Definition"), {"fields": ("definition_zh", "definition_en")}),
        (_("Scoring"), {"fields": ("weight", "direction", "normalisation", "normalisation_params", "log_transform")}),
        (_("Validation bounds"), {"fields": ("hard_min", "hard_max", "soft_min", "soft_max", "yoy_tolerance_pct")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return ("version",) if obj is not None else ()


@admin.register(ValidationRule)
class ValidationRuleAdmin(FrozenVersionAdminMixin, admin.ModelAdmin):
    form = VersionPartForm
    list_display = ("code", "name_zh", "version", "target", "expression", "tolerance_kind", "tolerance", "severity")
    list_filter = ("version", "severity", "tolerance_kind")
    search_fields = ("code", "name_zh", "name_en", "target", "expression")
    list_select_related = ("version",)
    fields = ("version", "code", "name_zh", "name_en", "target", "expression", "tolerance_kind", "tolerance",
              "severity", "position")

    def get_readonly_fields(self, request, obj=None):
        return ("version",) if obj is not None else ()
