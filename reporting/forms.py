"""Forms of the reporting pages. The return form itself is built from the methodology (views.py),
because its fields are the version's indicators; these are the small fixed forms around it."""
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import City
from methodology.models import MethodologyState, MethodologyVersion
from reporting.models import ReportingPeriod, ReturnState


class HtmlDateInput(forms.DateInput):
    """``<input type="date">`` takes its value as YYYY-MM-DD whatever the language; the zh-hans format (Y/m/d)
    left the field blank, so a suggested date was lost and the browser refused to send the form."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class AmendmentForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the amendment"), widget=forms.Textarea(attrs={"rows": 3}),
                             max_length=4000)


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("File (PDF, XLSX, PNG or JPEG)"))
    indicator = forms.ChoiceField(label=_("Concerns"), required=False)
    description = forms.CharField(label=_("Description"), required=False, max_length=300)

    def __init__(self, *args, codes: list[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicator"].choices = [("", _("The whole return")), *codes]


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("Spreadsheet (XLSX or CSV)"))


class ExtensionForm(forms.Form):
    city = forms.ModelChoiceField(label=_("City"), queryset=City.objects.all(), empty_label=_("Choose a city"))
    until = forms.DateField(label=_("Extended until"), widget=HtmlDateInput())
    reason = forms.CharField(label=_("Reason"), max_length=1000)


class PeriodOpenForm(forms.Form):
    """The secretariat opens a period; the rules (a free year, dates in order) are the service's."""
    data_year = forms.IntegerField(label=_("Data year"), min_value=2000, max_value=2100)
    opens_on = forms.DateField(label=_("Opening date"), widget=HtmlDateInput())
    due_on = forms.DateField(label=_("Due date"), widget=HtmlDateInput())
    locks_on = forms.DateField(label=_("Lock date"), required=False, widget=HtmlDateInput(),
                               help_text=_("Empty: no lock before the period is closed."))
    methodology = forms.ModelChoiceField(
        label=_("Methodology version"), empty_label=None,
        queryset=MethodologyVersion.objects.filter(state=MethodologyState.PUBLISHED).order_by("-published_at"))


class QueueFilterForm(forms.Form):
    period = forms.ModelChoiceField(label=_("Period"), queryset=ReportingPeriod.objects.all(), required=False,
                                    empty_label=_("All"))
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("Submitted (awaiting review)")),
                                       *[(value, label) for value, label in ReturnState.choices
                                         if value not in (ReturnState.SUBMITTED, ReturnState.WITHDRAWN)]])
    city = forms.ModelChoiceField(label=_("City"), queryset=City.objects.all(), required=False, empty_label=_("All"))
