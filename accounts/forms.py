from django import forms
from django.utils.translation import gettext_lazy as _


class SecondFactorForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"), max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True,
                                      "size": 8}),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80,
                           help_text=_("What uses the token, e.g. the finance bureau's reporting system."))
    days = forms.TypedChoiceField(
        label=_("Valid for"), coerce=int, initial=90,
        choices=[(30, _("30 days")), (90, _("90 days")), (180, _("180 days")), (365, _("one year"))])
