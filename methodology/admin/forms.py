"""Forms of the methodology admin: a version's parts (node, indicator, rule), clone and compare."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from audit.admin_site import NOTHING_CHOSEN
from methodology.models import MethodologyNode, MethodologyState, MethodologyVersion

LABEL_SPACES_MESSAGE = _("A version label contains no spaces.")


class VersionPartForm(forms.ModelForm):
    """Parents from the part's own version, and codes unique in it even when the version is read-only."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "version" in self.fields:
            self.fields["version"].queryset = MethodologyVersion.objects.filter(state=MethodologyState.DRAFT)
        if "parent" in self.fields:
            self._limit_parents()

    def _limit_parents(self) -> None:
        field = self.fields["parent"]
        nodes = MethodologyNode.objects.select_related("version")
        version_id = self.instance.version_id or self._chosen_version_id()
        if version_id:
            nodes = nodes.filter(version_id=version_id)
        else:
            nodes = nodes.filter(version__state=MethodologyState.DRAFT)
            field.label_from_instance = lambda node: f"{node.version.code} {node.version.version} · {node}"
        if isinstance(self.instance, MethodologyNode) and self.instance.pk:
            nodes = nodes.exclude(pk=self.instance.pk)
        field.queryset = nodes

    def _chosen_version_id(self) -> int | None:
        value = self.data.get(self.add_prefix("version")) if self.is_bound else self.initial.get("version")
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    def clean(self):
        cleaned_data = super().clean()
        code = cleaned_data.get("code")
        # Django skips the (version, code) constraint when version is not a form field: check it here.
        if "version" not in self.fields and code and self.instance.version_id:
            model = type(self.instance)
            taken = model._default_manager.filter(version_id=self.instance.version_id, code=code)
            if taken.exclude(pk=self.instance.pk).exists():
                self.add_error("code", self.instance.unique_error_message(model, ("version", "code")))
        return cleaned_data


class VersionPartFormSet(BaseInlineFormSet):
    """Offers as parents only the nodes of the version being edited, read once for all rows."""

    @cached_property
    def parent_nodes(self) -> list[MethodologyNode]:
        return list(MethodologyNode.objects.filter(version_id=self.instance.pk))

    def add_fields(self, form, index):
        super().add_fields(form, index)
        field = form.fields.get("parent")
        if field is None:
            return
        own = form.instance.pk if isinstance(form.instance, MethodologyNode) else None  # not its own parent
        field.queryset = MethodologyNode.objects.filter(version_id=self.instance.pk).exclude(pk=own)
        field.choices = [("", NOTHING_CHOSEN), *((node.pk, str(node)) for node in self.parent_nodes
                                                     if node.pk != own)]


class MethodologyCloneForm(forms.Form):
    new_version = forms.CharField(
        label=_("New version label"), max_length=MethodologyVersion._meta.get_field("version").max_length,
        help_text=_("The clone is a new draft of the same index under this label."),
    )

    def clean_new_version(self) -> str:
        label = self.cleaned_data["new_version"]
        if any(char.isspace() for char in label):
            raise ValidationError(LABEL_SPACES_MESSAGE, code="spaces")
        return label


class MethodologyCompareForm(forms.Form):
    old = forms.ModelChoiceField(MethodologyVersion.objects.all(), label=_("Old version"), empty_label=NOTHING_CHOSEN)
    new = forms.ModelChoiceField(MethodologyVersion.objects.all(), label=_("New version"), empty_label=NOTHING_CHOSEN)
