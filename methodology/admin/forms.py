"""Forms of the methodology admin: a version with typed engine settings, its parts (node, indicator, rule),
clone and compare."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, Value, When
from django.forms.models import BaseInlineFormSet
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from audit.admin_site import NOTHING_CHOSEN
from indices.engine.settings import IMPUTATIONS, NORMALISATION_RANGES, WEIGHTINGS, EngineSettings, UncertaintySettings
from indices.engine.spec import AGGREGATIONS, NORMALISATIONS, DocumentError, engine_from_document
from methodology.models import (
    Aggregation,
    MethodologyNode,
    MethodologyState,
    MethodologyVersion,
    Normalisation,
    render_problem,
)
from methodology.selectors import methodology_tree_order

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
    """Rows in tree order (nodes and indicators), not by position alone, which interleaves the branches
    (CCFI, E1, M, M1, V1, E…); offers as parents only the nodes of the version being edited, read once for
    all rows."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and any(field.name == "parent" for field in self.model._meta.fields):
            codes = methodology_tree_order(version=self.instance)
            rank = Case(*(When(code=code, then=Value(index)) for index, code in enumerate(codes)),
                        default=Value(len(codes)))
            self.queryset = self.queryset.order_by(rank, "position", "code")

    @cached_property
    def parent_nodes(self) -> list[MethodologyNode]:
        return list(MethodologyNode.objects.filter(version_id=self.instance.pk))

    def add_fields(self, form, index):
        super().add_fields(form, index)
        # The tabular inline shows each column's label once, in the table head: each cell's input is named
        # for a screen reader by its own aria-label (WCAG 1.3.1, 4.1.2).
        for formfield in form.fields.values():
            if not formfield.widget.is_hidden:
                formfield.widget.attrs.setdefault("aria-label", formfield.label)
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


IMPUTATION_LABELS = {"none": _("None (missing values stay missing)"), "group_mean": _("Mean of the group"),
                     "group_median": _("Median of the group"), "last_period": _("Last period's value")}
WEIGHTING_LABELS = {"explicit": _("As declared in the tree"), "equal": _("Equal weights"),
                    "entropy": _("Entropy weights (from the data)")}


def _labelled(keys, labels) -> list[tuple[str, str]]:
    """The engine's keys with the labels people read (the key itself where none is known)."""
    return [(key, labels.get(key, key)) for key in keys]


def _range_value(pair) -> str:
    return ",".join(f"{bound:g}" for bound in pair)


class MethodologyVersionForm(forms.ModelForm):
    """The version with its engine settings as typed fields, one per key of the settings document; the
    fields are written back to the JSON (complete, so that the export reads plainly) and checked by the
    engine's own document reader."""

    engine_availability_threshold = forms.FloatField(
        label=_("Availability threshold"), min_value=0, max_value=1,
        help_text=_("Share of data (0 to 1) a city or an indicator needs; below it, it is excluded."))
    engine_imputation = forms.ChoiceField(label=_("Imputation"), choices=_labelled(IMPUTATIONS, IMPUTATION_LABELS))
    engine_outlier_treatment = forms.BooleanField(label=_("Outlier treatment"), required=False)
    engine_outlier_skew = forms.FloatField(label=_("Outlier skewness threshold"), min_value=0)
    engine_outlier_kurtosis = forms.FloatField(label=_("Outlier kurtosis threshold"), min_value=0)
    engine_winsorise_max = forms.IntegerField(label=_("Points winsorised at most"), min_value=0, max_value=100)
    engine_normalisation_range = forms.ChoiceField(
        label=_("Normalisation range"), choices=[(_range_value(pair), "–".join(f"{b:g}" for b in pair))
                                                 for pair in NORMALISATION_RANGES])
    engine_weighting = forms.ChoiceField(label=_("Weighting"), choices=_labelled(WEIGHTINGS, WEIGHTING_LABELS))
    engine_reference_year = forms.IntegerField(label=_("Reference year"), min_value=2000, max_value=2100,
                                               required=False)
    engine_uncertainty_samples = forms.IntegerField(label=_("Uncertainty: samples"), min_value=1, max_value=100_000)
    engine_uncertainty_seed = forms.IntegerField(label=_("Uncertainty: random seed"), min_value=0,
                                                 max_value=2**32 - 1)
    engine_uncertainty_weight_noise = forms.FloatField(label=_("Uncertainty: weight noise"), min_value=0,
                                                       max_value=1)
    engine_uncertainty_normalisations = forms.MultipleChoiceField(
        label=_("Uncertainty: normalisations"), choices=_labelled(NORMALISATIONS, dict(Normalisation.choices)),
        widget=forms.CheckboxSelectMultiple)
    engine_uncertainty_aggregations = forms.MultipleChoiceField(
        label=_("Uncertainty: aggregations"), choices=_labelled(AGGREGATIONS, dict(Aggregation.choices)),
        widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = MethodologyVersion
        fields = ("code", "version", "title_zh", "title_en", "notes", "check_severities")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        try:
            settings = engine_from_document(self.instance.engine_settings or {})
        except DocumentError:  # a stored document the reader refuses: start from the defaults
            settings = EngineSettings()
        for name, value in engine_form_initial(settings).items():
            self.fields[name].initial = value

    def clean(self):
        cleaned_data = super().clean()
        if not any(name.startswith("engine_") and name in self.errors for name in self.fields):
            document = engine_document(cleaned_data)
            try:
                engine_from_document(document)
            except DocumentError as error:
                raise ValidationError([render_problem(problem) for problem in error.problems]) from error
            self.instance.engine_settings = document
        return cleaned_data


ENGINE_FIELDS = tuple(name for name in MethodologyVersionForm.base_fields if name.startswith("engine_"))


def engine_form_initial(settings: EngineSettings) -> dict:
    """The form's values of ``settings``."""
    uncertainty = settings.uncertainty
    return {
        "engine_availability_threshold": settings.availability_threshold,
        "engine_imputation": settings.imputation,
        "engine_outlier_treatment": settings.outlier_treatment,
        "engine_outlier_skew": settings.outlier_skew,
        "engine_outlier_kurtosis": settings.outlier_kurtosis,
        "engine_winsorise_max": settings.winsorise_max,
        "engine_normalisation_range": _range_value(settings.normalisation_range),
        "engine_weighting": settings.weighting,
        "engine_reference_year": settings.reference_year,
        "engine_uncertainty_samples": uncertainty.samples,
        "engine_uncertainty_seed": uncertainty.seed,
        "engine_uncertainty_weight_noise": uncertainty.weight_noise,
        "engine_uncertainty_normalisations": list(uncertainty.normalisations),
        "engine_uncertainty_aggregations": list(uncertainty.aggregations),
    }


def engine_document(cleaned_data: dict) -> dict:
    """The settings document of the form's cleaned values, every key written out."""
    low, high = (float(bound) for bound in cleaned_data["engine_normalisation_range"].split(","))
    settings = EngineSettings(
        availability_threshold=cleaned_data["engine_availability_threshold"],
        imputation=cleaned_data["engine_imputation"],
        outlier_treatment=cleaned_data["engine_outlier_treatment"],
        outlier_skew=cleaned_data["engine_outlier_skew"],
        outlier_kurtosis=cleaned_data["engine_outlier_kurtosis"],
        winsorise_max=cleaned_data["engine_winsorise_max"],
        normalisation_range=(low, high),
        weighting=cleaned_data["engine_weighting"],
        reference_year=cleaned_data["engine_reference_year"],
        uncertainty=UncertaintySettings(
            samples=cleaned_data["engine_uncertainty_samples"],
            seed=cleaned_data["engine_uncertainty_seed"],
            weight_noise=cleaned_data["engine_uncertainty_weight_noise"],
            normalisations=tuple(cleaned_data["engine_uncertainty_normalisations"]),
            aggregations=tuple(cleaned_data["engine_uncertainty_aggregations"]),
        ),
    )
    return settings.to_document()
