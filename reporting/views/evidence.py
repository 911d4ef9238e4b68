"""Evidence files attached to a return: upload and download."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.services import audit_record, audit_upload_rejected, client_ip
from reporting import selectors, services, validation
from reporting.forms import EvidenceForm
from reporting.views.shared import visible_return, workflow_error


@login_required
@require_POST
def evidence_upload(request, pk: int):
    indicator_return = visible_return(request, pk)
    spec = selectors.period_spec(period=indicator_return.period)
    form = EvidenceForm(request.POST, request.FILES, codes=[(code, code) for code in validation.variables(spec)])
    if not form.is_valid():
        for name, errors in form.errors.items():
            for error in errors:
                messages.error(request, _("%(field)s: %(error)s") % {"field": form.fields[name].label, "error": error})
        audit_upload_rejected(request, indicator_return, kind="evidence", upload=request.FILES.get("file"),
                              form_errors=form.errors)
        return redirect(reverse("reporting:return_detail", args=[pk]) + "#evidence")
    try:
        evidence = services.evidence_upload(indicator_return=indicator_return, actor=request.user,
                                            upload=form.cleaned_data["file"],
                                            indicator_code=form.cleaned_data["indicator"] or None,
                                            description=form.cleaned_data["description"],
                                            ip_address=client_ip(request))
    except ValidationError as error:
        workflow_error(request, error)
        audit_upload_rejected(request, indicator_return, kind="evidence", upload=form.cleaned_data["file"], error=error)
    else:
        messages.success(request, _("%(name)s was attached.") % {"name": evidence.original_name})
    return redirect(reverse("reporting:return_detail", args=[pk]) + "#evidence")


@login_required
def evidence_download(request, evidence_id: int):
    evidence = get_object_or_404(selectors.evidence_visible_to(user=request.user).select_related(
        "indicator_return"), pk=evidence_id)
    handle = evidence.file.open("rb")
    audit_record(actor=request.user, event_type="evidence.download", obj=evidence,
                 city_id=evidence.indicator_return.city_id, details={"name": evidence.original_name,
                                                                     "sha256": evidence.sha256})
    response = FileResponse(handle, as_attachment=True, filename=evidence.original_name,
                            content_type=evidence.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
