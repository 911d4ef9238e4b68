"""Forms of the indices app's pages."""
from django import forms
from django.utils.translation import gettext_lazy as _

from indices.models import IndexRun, RunState
from methodology.models import MethodologyVersion


class RunChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, run):
        state = _("published") if run.published_at else _("not published")
        methodology = f"{run.methodology.code} {run.methodology.version}"
        return f"{run.period.data_year} · {methodology} · {state} · {run.input_hash[:8]}"


class VersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, version):
        return f"{version.code} {version.version} ({version.get_state_display()})"


class WhatIfForm(forms.Form):
    run = RunChoiceField(
        label=_("Data of the run"), empty_label=_("Choose a run"),
        queryset=IndexRun.objects.filter(state=RunState.SUCCEEDED).select_related("period", "methodology")
        .defer("inputs", "diagnostics").order_by("-period__data_year", "-published_at", "-created_at"),
    )
    methodology = VersionChoiceField(
        label=_("Methodology version to try"), empty_label=_("Choose a methodology version"),
        queryset=MethodologyVersion.objects.order_by("code", "-created_at"),
    )

    def clean_run(self):
        """The chosen run with the big fields the choice list leaves out: the what-if reads both, in one query."""
        run = self.cleaned_data["run"]
        run.refresh_from_db(fields=["inputs", "diagnostics"])
        return run
