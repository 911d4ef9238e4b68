"""Spreadsheet import into a return: the template, the upload, the preview, applying it and its report."""
from __future__ import annotations

import tablib
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.services import audit_upload_rejected, client_ip
from reporting import selectors, services, validation
from reporting.forms import ImportUploadForm
from reporting.models import ImportState, ReturnState
from reporting.resources import dataset_as_csv, dataset_as_xlsx, template_dataset
from reporting.selectors import returns_visible_to
from reporting.views.shared import visible_return, workflow_error


@login_required
def import_template(request, pk: int):
    indicator_return = visible_return(request, pk)
    dataset = template_dataset(returns=[indicator_return], language=get_language() or "zh-hans")
    name = f"ccfi-{indicator_return.city.code}-{indicator_return.period.data_year}-r{indicator_return.revision}"
    if request.GET.get("format") == "csv":
        response = HttpResponse(dataset_as_csv(dataset), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    else:
        response = HttpResponse(dataset_as_xlsx(dataset, title=str(indicator_return.period.data_year),
                                                language=get_language() or "zh-hans"),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


@login_required
def import_upload(request, pk: int):
    indicator_return = visible_return(request, pk)
    refusal = selectors.return_edit_refusal(request.user, indicator_return)
    if refusal is not None and refusal.forbidden:
        raise PermissionDenied
    if refusal is not None:
        messages.error(request, _("Only a draft or a returned return can be imported into, while the period is open "
                                  "for the city."))
        return redirect("reporting:return_detail", pk)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and not form.is_valid():
        audit_upload_rejected(request, indicator_return, kind="import", upload=request.FILES.get("file"),
                              form_errors=form.errors)
    elif request.method == "POST":
        upload = form.cleaned_data["file"]
        try:
            report = services.values_import_preview(period=indicator_return.period, actor=request.user,
                                                    upload=upload, city=indicator_return.city,
                                                    ip_address=client_ip(request))
        except ValidationError as error:
            form.add_error("file", error)
            audit_upload_rejected(request, indicator_return, kind="import", upload=upload, error=error)
        except PermissionDenied:
            raise
        else:
            return redirect("reporting:import_detail", report.pk)
    reports = selectors.imports_visible_to(user=request.user).filter(period=indicator_return.period,
                                                                    city=indicator_return.city)[:20]
    return render(request, "reporting/import_upload.html", {"indicator_return": indicator_return, "form": form,
                                                            "reports": reports})


def _render_rows(report):
    rows = []
    for row in report.rows:
        rows.append({**row, "texts": [{"severity": m["severity"],
                                       "text": validation.render_message(m["message"], m.get("params"))}
                                      for m in row.get("messages", [])]})
    return rows


@login_required
def import_detail(request, report_id: int):
    report = get_object_or_404(selectors.imports_visible_to(user=request.user), pk=report_id)
    indicator_return = None
    if report.city_id:
        indicator_return = returns_visible_to(user=request.user).filter(
            city_id=report.city_id, period=report.period).exclude(state=ReturnState.WITHDRAWN).order_by(
            "-revision").first()
    only = request.GET.get("show")
    rows = _render_rows(report)
    if only == "problems":
        rows = [row for row in rows if row["outcome"] in ("error", "warning", "ignored")]
    elif only == "changes":
        rows = [row for row in rows if row["changes"]]
    return render(request, "reporting/import_detail.html", {
        "report": report, "rows": rows, "indicator_return": indicator_return,
        "may_apply": report.state == ImportState.PREVIEWED and report.actor_id == request.user.pk})


@login_required
@require_POST
def import_apply(request, report_id: int):
    report = get_object_or_404(selectors.imports_visible_to(user=request.user), pk=report_id)
    try:
        report = services.values_import_apply(report=report, actor=request.user, ip_address=client_ip(request))
    except ValidationError as error:
        workflow_error(request, error)
        return redirect("reporting:import_detail", report.pk)
    if report.state == ImportState.APPLIED:
        messages.success(request, _("The file was imported: %(count)s value(s) changed.")
                         % {"count": report.summary.get("changes", 0)})
    elif report.state == ImportState.STALE:
        messages.error(request, services.STALE_PREVIEW)
    else:
        messages.error(request, services.IMPORT_HAS_ERRORS)
    return redirect("reporting:import_detail", report.pk)


@login_required
def import_report_download(request, report_id: int):
    """Every row's outcome and why, as a spreadsheet (CSV, formula cells escaped)."""
    report = get_object_or_404(selectors.imports_visible_to(user=request.user), pk=report_id)
    dataset = tablib.Dataset(headers=[_("Row"), _("City code"), _("Indicator code"), _("Outcome"), _("Changes"),
                                      _("Messages")])
    labels = {"changed": _("changed"), "unchanged": _("unchanged"), "warning": _("warning"), "error": _("error"),
              "ignored": _("ignored")}
    for row in _render_rows(report):
        dataset.append([
            row["row"], row["city"], row["code"], labels.get(row["outcome"], row["outcome"]),
            "; ".join(f"{change['field']}: {change['old'] or '∅'} → {change['new'] or '∅'}"
                      for change in row["changes"]),
            "; ".join(text["text"] for text in row["texts"]),
        ])
    response = HttpResponse(dataset_as_csv(dataset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-report-{report.pk}.csv"'
    return response
