"""Pages of the reporting app. Thin: they read through selectors, change through services, and
look every return up among those the user may see, so that another city's return is a 404."""
from __future__ import annotations

from decimal import Decimal

import tablib
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import user_is_filer, user_is_reviewer
from audit.services import client_ip
from ccfi_portal.i18n import pick
from methodology.models import Severity
from reporting import selectors, services, validation
from reporting.forms import AmendmentForm, EvidenceForm, ExtensionForm, ImportUploadForm, QueueFilterForm
from reporting.models import (
    EXPLAINABLE,
    ExplanationDecision,
    ImportState,
    ObservationStatus,
    ReasonCode,
    ReportingPeriod,
    ReturnState,
    ReturnValue,
)
from reporting.resources import dataset_as_csv, dataset_as_xlsx, template_dataset
from reporting.selectors import city_list, period_overview_list, returns_visible_to, user_may_edit_values
from reporting.uploads import limit


def home(request):
    """The portal's front page: what the index is and which periods are open."""
    return render(request, "reporting/home.html", {
        "periods": period_overview_list(),
        "city_count": city_list().count(),
    })


def _visible_return(request, pk: int):
    return get_object_or_404(returns_visible_to(user=request.user).select_related("period__methodology", "amends"),
                             pk=pk)


def _require_reviewer(request) -> None:
    if not user_is_reviewer(request.user):
        raise PermissionDenied


def _workflow_error(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


# The filer's dashboard.

@login_required
def dashboard(request):
    if user_is_reviewer(request.user) and not request.user.city_id:
        return redirect("reporting:review_queue")
    if not request.user.city_id:
        raise PermissionDenied
    return render(request, "reporting/dashboard.html", {"rows": selectors.filer_dashboard(user=request.user),
                                                        "may_file": user_is_filer(request.user)})


@login_required
@require_POST
def return_start(request, period_id: int):
    period = get_object_or_404(ReportingPeriod, pk=period_id)
    if not request.user.city_id:
        raise Http404
    try:
        indicator_return = services.return_start(period=period, city=request.user.city, actor=request.user,
                                                 ip_address=client_ip(request))
    except ValidationError as error:
        _workflow_error(request, error)
        return redirect("reporting:dashboard")
    return redirect("reporting:return_detail", indicator_return.pk)


# The return form.

STATUS_CHOICES = ObservationStatus.choices


def _form_rows(indicator_return, stored, *, posted=None, result=None, conflict_codes=()):
    """Everything the form shows per value, grouped by dimension and group; ``stored`` holds the
    return's ``review_values`` by code."""
    spec = selectors.period_spec(period=indicator_return.period)
    variables = validation.variables(spec)
    previous = selectors.previous_approved_values(indicator_return=indicator_return)
    flags = {code: list(value.flags.all()) for code, value in stored.items()}
    comments = selectors.return_comments_by_code(indicator_return=indicator_return)
    evidence = selectors.return_evidence_by_code(indicator_return=indicator_return)
    rows = {}
    for code, variable in variables.items():
        row = stored.get(code)
        value = row.value if row else None
        last = previous.get(code)
        posted_value = posted.get(f"value-{code}") if posted is not None else None
        findings = result.for_code(code) if result is not None else []
        rows[code] = {
            "code": code, "slug": code.replace(".", "_"),
            "name": pick(variable, "name"), "unit": pick(variable, "unit"),
            "definition": pick(variable, "definition"), "decimals": variable.decimals,
            "value": validation.number_text(value),
            "input": posted_value if posted_value is not None else validation.number_text(value),
            "last_year": validation.number_text(last),
            "change": _change(value, last),
            "status": (posted.get(f"status-{code}") if posted is not None else None) or (
                row.observation_status if row else "final"),
            "source": (posted.get(f"source-{code}") if posted is not None else None) or (
                row.source_note if row else ""),
            "explanation": (posted.get(f"explanation-{code}") if posted is not None else None) or (
                row.explanation if row else ""),
            "findings": [{"severity": f.severity, "text": f.render()} for f in findings],
            "flags": [{"severity": f.severity, "text": f.render(), "decision": f.decision,
                       "decision_label": f.get_decision_display()} for f in flags.get(code, [])],
            "needs_explanation": any(f.severity == Severity.WARNING for f in flags.get(code, [])),
            "rejected": any(f.decision == ExplanationDecision.REJECTED for f in flags.get(code, [])),
            "comments": comments.get(code, []),
            "evidence": evidence.get(code, []),
            "conflict": code in conflict_codes,
            "is_context": code in {item.code for item in spec.context_variables},
        }
    sections = []
    for section in selectors.form_sections(spec):
        groups = [{"code": group.code, "name": pick(group, "name"), "rows": [rows[code] for code in group.codes]}
                  for group in section.groups]
        filled = sum(1 for group in groups for row in group["rows"] if row["value"])
        total = sum(len(group["rows"]) for group in groups)
        flagged = any(row["flags"] or row["findings"] or row["comments"] for group in groups for row in group["rows"])
        sections.append({"code": section.code, "name": pick(section, "name"), "groups": groups, "filled": filled,
                         "total": total, "open": flagged or filled < total})
    return sections, rows, comments.get("", []), evidence.get("", [])


def _change(value, last) -> str:
    if value is None or not last:
        return ""
    return f"{(Decimal(value) / Decimal(last) - 1) * 100:+.1f} %"


def _entries_from_post(post, codes) -> dict[str, services.ValueEntry]:
    entries = {}
    for code in codes:
        if f"value-{code}" not in post:
            continue
        entries[code] = services.ValueEntry(
            value=post.get(f"value-{code}", ""),
            observation_status=post.get(f"status-{code}", "final"),
            source_note=post.get(f"source-{code}", ""),
            explanation=post.get(f"explanation-{code}", services.KEEP) if f"explanation-{code}" in post
            else services.KEEP,
        )
    return entries


def _return_form_post(request, indicator_return):
    """Save the posted form (and submit if asked). Returns (response, posted, result, conflict): a redirect
    when done, else None with what the form shows again: the posted data, the findings or the conflict."""
    pk = indicator_return.pk
    spec = selectors.period_spec(period=indicator_return.period)
    entries = _entries_from_post(request.POST, validation.variables(spec))
    try:
        expected = int(request.POST.get("edit_version", ""))
    except ValueError:
        expected = None
    try:
        outcome = services.return_values_save(indicator_return=indicator_return, actor=request.user,
                                              entries=entries, expected_version=expected,
                                              ip_address=client_ip(request))
    except services.EditConflict as error:
        return None, request.POST, None, error
    except ValidationError as error:
        _workflow_error(request, error)
        return redirect("reporting:return_detail", pk), None, None, None
    result = outcome.result
    refused = sorted(result.rejected)
    if refused:
        messages.error(request, _("%(saved)s change(s) saved. Not saved, because of errors: %(codes)s.")
                       % {"saved": outcome.changed, "codes": ", ".join(refused)})
        return None, request.POST, result, None
    if request.POST.get("action") == "submit":
        try:
            services.return_submit(indicator_return=indicator_return, actor=request.user,
                                   ip_address=client_ip(request))
        except ValidationError as error:
            _workflow_error(request, error)
            return redirect("reporting:return_detail", pk), None, None, None
        messages.success(request, _("The return was submitted to the secretariat."))
    else:
        messages.success(request, _("Draft saved: %(count)s change(s).") % {"count": outcome.changed}
                         if outcome.changed else _("Nothing changed; nothing was saved."))
    return redirect("reporting:return_detail", pk), None, None, None


@login_required
def return_detail(request, pk: int):
    indicator_return = _visible_return(request, pk)
    window = selectors.filing_window(period=indicator_return.period, city_id=indicator_return.city_id)
    may_edit = selectors.return_edit_refusal(request.user, indicator_return, window=window) is None
    posted, result, conflict = None, None, None
    if request.method == "POST":  # the service refuses whoever may not save (a reviewer: 403)
        response, posted, result, conflict = _return_form_post(request, indicator_return)
        if response is not None:
            return response
        indicator_return.refresh_from_db()
    stored = {value.indicator.code: value for value in selectors.review_values(indicator_return=indicator_return)}
    sections, rows, general_comments, general_evidence = _form_rows(
        indicator_return, stored, posted=posted, result=result,
        conflict_codes={change.indicator.code for change in conflict.changes} if conflict else ())
    filled = sum(1 for row in rows.values() if row["value"])
    problems = []
    if may_edit and request.method == "GET" and filled == len(rows):
        problems = services.submission_problems(indicator_return=indicator_return, rows=stored)
    codes = [(code, f"{code} {row['name']}") for code, row in rows.items()]
    return render(request, "reporting/return_form.html", {
        "indicator_return": indicator_return, "window": window, "may_edit": may_edit, "sections": sections,
        "filled": filled, "total": len(rows), "conflict": conflict, "general_comments": general_comments,
        "general_evidence": general_evidence, "status_choices": STATUS_CHOICES, "problems": problems,
        "evidence_form": EvidenceForm(codes=codes), "amend_form": AmendmentForm(),
        "may_amend": selectors.return_amend_refusal(request.user, indicator_return, window=window) is None,
        "is_reviewer": user_is_reviewer(request.user),
        "evidence_max": limit("REPORTING_EVIDENCE_MAX_BYTES"),
    }, status=409 if conflict else 200)


@login_required
@require_POST
def return_validate(request, pk: int, code: str):
    """Inline feedback for one field (htmx): what saving this value would say; nothing is stored."""
    indicator_return = _visible_return(request, pk)
    if not user_may_edit_values(request.user, indicator_return):
        raise PermissionDenied
    findings = services.value_check(indicator_return=indicator_return, code=code,
                                    raw=request.POST.get(f"value-{code}", ""))
    if findings is None:
        raise Http404
    return render(request, "reporting/_partials/findings.html", {
        "findings": [{"severity": f.severity, "text": f.render()} for f in findings], "checked": True})


@login_required
def return_history(request, pk: int):
    indicator_return = _visible_return(request, pk)
    return render(request, "reporting/return_history.html", {
        "indicator_return": indicator_return,
        "entries": selectors.return_history(indicator_return=indicator_return),
        "revisions": returns_visible_to(user=request.user).filter(
            city_id=indicator_return.city_id, period=indicator_return.period).order_by("revision"),
    })


@login_required
@require_POST
def return_amend(request, pk: int):
    indicator_return = _visible_return(request, pk)
    form = AmendmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for the amendment."))
        return redirect("reporting:return_detail", pk)
    try:
        amendment = services.return_reopen_for_amendment(indicator_return=indicator_return, actor=request.user,
                                                         reason=form.cleaned_data["reason"],
                                                         ip_address=client_ip(request))
    except ValidationError as error:
        _workflow_error(request, error)
        return redirect("reporting:return_detail", pk)
    messages.success(request, _("Revision %(revision)s was opened for the amendment; the approved revision stays "
                                "in force until it is approved.") % {"revision": amendment.revision})
    return redirect("reporting:return_detail", amendment.pk)


# Evidence.

@login_required
@require_POST
def evidence_upload(request, pk: int):
    indicator_return = _visible_return(request, pk)
    spec = selectors.period_spec(period=indicator_return.period)
    form = EvidenceForm(request.POST, request.FILES, codes=[(code, code) for code in validation.variables(spec)])
    if not form.is_valid():
        messages.error(request, _("Choose a file to upload."))
        return redirect("reporting:return_detail", pk)
    try:
        evidence = services.evidence_upload(indicator_return=indicator_return, actor=request.user,
                                            upload=form.cleaned_data["file"],
                                            indicator_code=form.cleaned_data["indicator"] or None,
                                            description=form.cleaned_data["description"],
                                            ip_address=client_ip(request))
    except ValidationError as error:
        _workflow_error(request, error)
    else:
        messages.success(request, _("%(name)s was attached.") % {"name": evidence.original_name})
    return redirect(reverse("reporting:return_detail", args=[pk]) + "#evidence")


@login_required
def evidence_download(request, evidence_id: int):
    evidence = get_object_or_404(selectors.evidence_visible_to(user=request.user), pk=evidence_id)
    response = FileResponse(evidence.file.open("rb"), as_attachment=True, filename=evidence.original_name,
                            content_type=evidence.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Import.

@login_required
def import_template(request, pk: int):
    indicator_return = _visible_return(request, pk)
    dataset = template_dataset(returns=[indicator_return], language=get_language() or "zh-hans")
    name = f"ccfi-{indicator_return.city.code}-{indicator_return.period.data_year}-r{indicator_return.revision}"
    if request.GET.get("format") == "csv":
        response = HttpResponse(dataset_as_csv(dataset), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    else:
        response = HttpResponse(dataset_as_xlsx(dataset, title=str(indicator_return.period.data_year)),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


@login_required
def import_upload(request, pk: int):
    indicator_return = _visible_return(request, pk)
    refusal = selectors.return_edit_refusal(request.user, indicator_return)
    if refusal is not None and refusal.forbidden:
        raise PermissionDenied
    if refusal is not None:
        messages.error(request, _("Only a draft or a returned return can be imported into, while the period is open "
                                  "for the city."))
        return redirect("reporting:return_detail", pk)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.values_import_preview(period=indicator_return.period, actor=request.user,
                                                    upload=form.cleaned_data["file"], city=indicator_return.city,
                                                    ip_address=client_ip(request))
        except ValidationError as error:
            form.add_error("file", error)
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
            city_id=report.city_id, period=report.period).order_by("-revision").first()
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
        _workflow_error(request, error)
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


# Review.

@login_required
def review_queue(request):
    _require_reviewer(request)
    form = QueueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    returns = selectors.review_queue_list(
        period_id=filters.get("period").pk if filters.get("period") else None,
        state=filters.get("state") or None, city_id=filters.get("city").pk if filters.get("city") else None)
    return render(request, "reporting/review_queue.html", {"form": form, "returns": list(returns[:500])})


@login_required
@require_POST
def review_bulk_approve(request):
    _require_reviewer(request)
    ids = [int(pk) for pk in request.POST.getlist("returns") if pk.isdigit()]
    returns = list(returns_visible_to(user=request.user).filter(pk__in=ids))
    if not returns:
        messages.error(request, _("Select the returns to approve."))
        return redirect("reporting:review_queue")
    outcome = services.returns_bulk_approve(returns=returns, actor=request.user, ip_address=client_ip(request))
    if outcome.approved:
        messages.success(request, _("Approved: %(cities)s.") % {
            "cities": ", ".join(pick(item.city, "name") for item in outcome.approved)})
    for item, reason in outcome.skipped:
        messages.error(request, _("Not approved: %(city)s (%(reason)s).") % {"city": pick(item.city, "name"),
                                                                              "reason": reason})
    return redirect(reverse("reporting:review_queue") + ("?" + request.POST.get("query", "")
                                                         if request.POST.get("query") else ""))


@login_required
def review_detail(request, pk: int):
    indicator_return = _visible_return(request, pk)  # another city's return: 404 before anything else
    _require_reviewer(request)
    if request.method == "POST":
        return _review_action(request, indicator_return)
    spec = selectors.period_spec(period=indicator_return.period)
    variables = validation.variables(spec)
    previous = selectors.previous_approved_values(indicator_return=indicator_return)
    positions = selectors.peer_positions(selectors.peer_values(period=indicator_return.period,
                                                               exclude_city_id=indicator_return.city_id))
    comments = selectors.return_comments_by_code(indicator_return=indicator_return)
    evidence = selectors.return_evidence_by_code(indicator_return=indicator_return)
    values = {value.indicator.code: value for value in selectors.review_values(indicator_return=indicator_return)}
    basis, diff = selectors.return_diff(indicator_return=indicator_return, values=values.values())
    changed = {row.code for row in diff}
    rows = []
    for code, variable in variables.items():
        value = values.get(code)
        flags = list(value.flags.all()) if value else []
        position = positions.get(code)
        rows.append({
            "code": code, "slug": code.replace(".", "_"), "name": pick(variable, "name"),
            "unit": pick(variable, "unit"), "value_obj": value,
            "value": validation.number_text(value.value) if value else "",
            "status": value.get_observation_status_display() if value else "",
            "source": value.source_note if value else "", "explanation": value.explanation if value else "",
            "last_year": validation.number_text(previous.get(code)),
            "change": _change(value.value if value else None, previous.get(code)),
            "peers": position, "peer_min": validation.number_text(position.minimum) if position else "",
            "peer_median": validation.number_text(round(position.median, variable.decimals)) if position else "",
            "peer_max": validation.number_text(position.maximum) if position else "",
            "flags": [{"severity": f.severity, "text": f.render(), "decision": f.decision,
                       "decision_label": f.get_decision_display(),
                       "decided_by": f.decided_by} for f in flags],
            "explainable": any(f.severity in EXPLAINABLE for f in flags),
            "comments": comments.get(code, []), "evidence": evidence.get(code, []), "changed": code in changed,
        })
    is_submitted = indicator_return.state == ReturnState.SUBMITTED
    return render(request, "reporting/review_detail.html", {
        "indicator_return": indicator_return, "rows": rows, "diff": diff, "diff_basis": basis,
        "general_comments": comments.get("", []), "general_evidence": evidence.get("", []),
        "reason_choices": ReasonCode.choices, "is_submitted": is_submitted,
        "period_open": indicator_return.period.state == "open",
        "is_clean": selectors.return_is_clean(indicator_return, values=values.values()),
    })


def _review_action(request, indicator_return):
    action = request.POST.get("action")
    ip = client_ip(request)
    spec = selectors.period_spec(period=indicator_return.period)
    codes = list(validation.variables(spec))
    comments = []
    for code in ["", *codes]:
        text = request.POST.get(f"comment-{code}" if code else "comment", "").strip()
        if text:
            comments.append(services.CommentInput(
                text=text, reason_code=request.POST.get(f"reason-{code}" if code else "reason") or ReasonCode.OTHER,
                indicator_code=code or None))
    try:
        if action == "explanation":
            value = get_object_or_404(ReturnValue, indicator_return=indicator_return,
                                      indicator__code=request.POST.get("code"))
            services.value_explanation_review(value=value, actor=request.user, decision=request.POST.get("decision"),
                                              ip_address=ip)
            code = value.indicator.code
            messages.success(request, _("Decision on the explanation of %(code)s recorded.") % {"code": code})
            anchor = code.replace(".", "_")
            return redirect(reverse("reporting:review_detail", args=[indicator_return.pk]) + f"#row-{anchor}")
        if action == "comment":
            if not comments:
                messages.error(request, _("Write a comment first."))
            for comment in comments:
                services.review_comment_add(indicator_return=indicator_return, actor=request.user, comment=comment,
                                            ip_address=ip)
            if comments:
                messages.success(request, _("%(count)s comment(s) saved.") % {"count": len(comments)})
        elif action == "send_back":
            services.return_send_back(indicator_return=indicator_return, actor=request.user, comments=comments,
                                      ip_address=ip)
            messages.success(request, _("The return was sent back to the city."))
            return redirect("reporting:review_queue")
        elif action == "approve":
            services.return_approve(indicator_return=indicator_return, actor=request.user, ip_address=ip)
            messages.success(request, _("The return was approved."))
            return redirect("reporting:review_queue")
    except ValidationError as error:
        _workflow_error(request, error)
    return redirect("reporting:review_detail", indicator_return.pk)


@login_required
def completeness_board(request):
    _require_reviewer(request)
    periods = list(ReportingPeriod.objects.order_by("-data_year"))
    period = None
    if request.GET.get("period", "").isdigit():
        period = next((item for item in periods if item.pk == int(request.GET["period"])), None)
    period = period or next((item for item in periods if item.state == "open"), None) or (periods[0] if periods
                                                                                         else None)
    extension_form = ExtensionForm(request.POST or None)
    if request.method == "POST" and period is not None:
        if extension_form.is_valid():
            try:
                services.period_extension_grant(period=period, city=extension_form.cleaned_data["city"],
                                                until=extension_form.cleaned_data["until"],
                                                reason=extension_form.cleaned_data["reason"], actor=request.user,
                                                ip_address=client_ip(request))
            except ValidationError as error:
                _workflow_error(request, error)
            else:
                messages.success(request, _("Extension granted."))
                return redirect(reverse("reporting:board") + f"?period={period.pk}")
    cells = selectors.completeness_board(period=period) if period else []
    totals = {
        "submitted": sum(1 for cell in cells if cell.submitted_at),
        "approved": sum(1 for cell in cells if cell.approved),
        "on_time": sum(1 for cell in cells if cell.on_time),
        "late": sum(1 for cell in cells if cell.on_time is False),
        "cities": len(cells),
    }
    return render(request, "reporting/board.html", {"periods": periods, "period": period, "cells": cells,
                                                    "totals": totals, "extension_form": extension_form,
                                                    "today": timezone.localdate(),
                                                    "lock_passed": bool(period and period.locks_on and
                                                                        timezone.localdate() > period.locks_on)})
