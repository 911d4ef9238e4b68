"""What an auditor reads instead of the stored codes: each event type's name (translated: Chinese first),
each object type's (the model's verbose name) and the fields of a change."""
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

EVENT_TYPES = {
    "access.denied": _("Access denied"),
    "action.refused": _("Action refused"),
    "admin.add": _("Added in the admin"),
    "admin.change": _("Changed in the admin"),
    "admin.delete": _("Deleted in the admin"),
    "admin.refused": _("Change refused in the admin"),
    "api_token.create": _("API token created"),
    "api_token.revoke": _("API token revoked"),
    "audit.export": _("Audit trail exported"),
    "auth.locked_out": _("User name locked out"),
    "auth.login": _("Login"),
    "auth.login_failed": _("Failed login"),
    "auth.logout": _("Logout"),
    "auth.otp_enrolled": _("Second factor set up"),
    "auth.otp_failed": _("Wrong second-factor code"),
    "auth.otp_recovery_used": _("Recovery code used"),
    "auth.otp_reset": _("Second factor reset"),
    "auth.otp_verified": _("Second factor verified"),
    "auth.password_change": _("Own password changed"),
    "demo.load": _("Demo data loaded"),
    "evidence.download": _("Evidence downloaded"),
    "evidence.upload": _("Evidence uploaded"),
    "upload.rejected": _("Upload refused"),
    "import.apply": _("Import applied"),
    "import.preview": _("Import previewed"),
    "index_run.publish": _("Index run published"),
    "index_run.recompute_request": _("Index recomputation requested"),
    "methodology.clone": _("Methodology copied"),
    "methodology.create": _("Methodology created"),
    "methodology.edit": _("Methodology edited"),
    "methodology.publish": _("Methodology published"),
    "methodology.retire": _("Methodology retired"),
    "period.extension_grant": _("Extension granted"),
    "report.download": _("Report downloaded"),
    "reports.rebuild": _("Reports rebuilt"),
    "return.amend": _("Return amended"),
    "return.approve": _("Return approved"),
    "return.comment": _("Review comment"),
    "return.explanation_review": _("Explanation reviewed"),
    "return.resubmit": _("Return resubmitted"),
    "return.send_back": _("Return sent back"),
    "return.start": _("Return started"),
    "return.submit": _("Return submitted"),
    "return.supersede": _("Return superseded"),
    "return.values_change": _("Values changed"),
    "user.change": _("Account changed"),
    "user.create": _("Account created"),
    "user.password_set": _("Password set by an administrator"),
}

# The fields of a value change (reporting's ValueChange.field), which live outside any admin form.
VALUE_FIELDS = {
    "value": _("value"), "observation_status": _("observation status"), "source_note": _("source"),
    "explanation": _("explanation"),
}


def event_type_label(code: str) -> str:
    return str(EVENT_TYPES.get(code, code))


def _model(label: str):
    try:
        return apps.get_model(label) if label else None
    except (LookupError, ValueError):
        return None


def object_type_label(label: str) -> str:
    model = _model(label)
    return str(model._meta.verbose_name) if model is not None else label


def field_label(model_label: str, name: str) -> str:
    model = _model(model_label)
    try:
        return str(model._meta.get_field(name).verbose_name) if model is not None else name
    except FieldDoesNotExist:
        return name


def value_text(field: str, raw: str) -> str:
    """A value change's old or new value: a status by its label (终值), not its code (final); read from the
    model's choices, as the labels above are, so audit imports nothing of reporting."""
    model = _model("reporting.ReturnValue")
    if field != "observation_status" or not raw or model is None:
        return raw
    return str(dict(model._meta.get_field(field).choices).get(raw, raw))
