"""The filer's pages: the dashboard, starting a return, the return form, its history and amendments."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import user_is_filer, user_is_reviewer
from audit.services import client_ip
from ccfi_portal.i18n import pick
from methodology.models import Severity
from reporting import selectors, services, validation
from reporting.forms import AmendmentForm, EvidenceForm
from reporting.models import ExplanationDecision, ObservationStatus, ReportingPeriod
from reporting.selectors import returns_visible_to, user_may_edit_values
from reporting.uploads import limit
from reporting.views.shared import audit_values_refused, change_text, visible_return, workflow_error


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
        workflow_error(request, error, obj=period)
        return redirect("reporting:dashboard")
    return redirect("reporting:return_detail", indicator_return.pk)


# The return form.

STATUS_CHOICES = ObservationStatus.choices


def _posted(posted, name):
    return posted.get(name) if posted is not None else None


def _form_row(code, variable, *, row, last, posted=None, findings=(), flags=(), comments=(), evidence=(),
              conflict=False, is_context=False) -> dict:
    """What the form shows for one value. The change against last year is that of the value in the field
    (typed, else stored), the value the findings speak of; the explanation box opens as soon as a
    warning asks for one, stored or found in what was just typed."""
    value = row.value if row else None
    posted_value = _posted(posted, f"value-{code}")
    # A typed value the checks refuse has no change to show (the stored one is not what the field holds).
    shown_value = value if posted_value is None else validation.admit_value(variable, posted_value)[0]
    return {
        "code": code, "slug": code.replace(".", "_"),
        "name": pick(variable, "name"), "unit": pick(variable, "unit"),
        "definition": pick(variable, "definition"), "decimals": variable.decimals,
        "value": validation.number_text(value),
        "input": posted_value if posted_value is not None else validation.number_text(value),
        "last_year": validation.number_text(last),
        "change": change_text(shown_value, last),
        "status": _posted(posted, f"status-{code}") or (row.observation_status if row else "final"),
        "source": _posted(posted, f"source-{code}") or (row.source_note if row else ""),
        "explanation": _posted(posted, f"explanation-{code}") or (row.explanation if row else ""),
        "findings": [{"severity": f.severity, "text": f.render()} for f in findings],
        "flags": [{"severity": f.severity, "text": f.render(), "decision": f.decision,
                   "decision_label": f.get_decision_display()} for f in flags],
        "needs_explanation": any(f.severity == Severity.WARNING for f in (*flags, *findings)),
        "rejected": any(f.decision == ExplanationDecision.REJECTED for f in flags),
        "comments": comments,
        "evidence": evidence,
        "conflict": conflict,
        "is_context": is_context,
    }


def _form_rows(indicator_return, stored, *, posted=None, result=None, conflict_codes=()):
    """Everything the form shows per value, grouped by dimension and group; ``stored`` holds the
    return's ``review_values`` by code."""
    spec = selectors.period_spec(period=indicator_return.period)
    variables = validation.variables(spec)
    previous = selectors.previous_approved_values(indicator_return=indicator_return)
    comments = selectors.return_comments_by_code(indicator_return=indicator_return)
    evidence = selectors.return_evidence_by_code(indicator_return=indicator_return)
    context_codes = {item.code for item in spec.context_variables}
    rows = {
        code: _form_row(code, variable, row=stored.get(code), last=previous.get(code), posted=posted,
                        findings=result.for_code(code) if result is not None else [],
                        flags=list(stored[code].flags.all()) if code in stored else [],
                        comments=comments.get(code, []), evidence=evidence.get(code, []),
                        conflict=code in conflict_codes, is_context=code in context_codes)
        for code, variable in variables.items()
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
        workflow_error(request, error, obj=indicator_return)
        return redirect("reporting:return_detail", pk), None, None, None
    result = outcome.result
    refused = sorted(result.rejected)
    if refused:
        audit_values_refused(request, indicator_return, refused=refused, entries=entries)
        messages.error(request, _("%(saved)s change(s) saved. Not saved, because of errors: %(codes)s.")
                       % {"saved": outcome.changed, "codes": ", ".join(refused)})
        return None, request.POST, result, None
    if request.POST.get("action") == "submit":
        try:
            services.return_submit(indicator_return=indicator_return, actor=request.user,
                                   ip_address=client_ip(request))
        except ValidationError as error:
            workflow_error(request, error, obj=indicator_return)
            return redirect("reporting:return_detail", pk), None, None, None
        messages.success(request, _("The return was submitted to the secretariat."))
    else:
        messages.success(request, _("Draft saved: %(count)s change(s).") % {"count": outcome.changed}
                         if outcome.changed else _("Nothing changed; nothing was saved."))
    return redirect("reporting:return_detail", pk), None, None, None


@login_required
def return_detail(request, pk: int):
    indicator_return = visible_return(request, pk)
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
        "may_withdraw": selectors.return_withdraw_refusal(request.user, indicator_return, window=window) is None,
        "is_reviewer": user_is_reviewer(request.user),
        "evidence_max": limit("REPORTING_EVIDENCE_MAX_BYTES"),
        "all_evidence": selectors.return_evidence_list(indicator_return=indicator_return),
    }, status=409 if conflict else 200)


@login_required
@require_POST
def return_validate(request, pk: int, code: str):
    """Inline feedback for one field (htmx): what saving this value would say; nothing is stored. To htmx
    the row's parts that depend on the value come along (the change against last year, the explanation
    box), so that a warning and its explanation can be saved in one go."""
    indicator_return = visible_return(request, pk)
    if not user_may_edit_values(request.user, indicator_return):
        raise PermissionDenied
    findings = services.value_check(indicator_return=indicator_return, code=code,
                                    raw=request.POST.get(f"value-{code}", ""))
    if findings is None:
        raise Http404
    if not request.htmx:
        return render(request, "reporting/_partials/findings.html", {
            "findings": [{"severity": f.severity, "text": f.render()} for f in findings], "checked": True})
    variable = validation.variables(selectors.period_spec(period=indicator_return.period))[code]
    stored = selectors.review_values(indicator_return=indicator_return).filter(indicator__code=code).first()
    row = _form_row(code, variable, row=stored, posted=request.POST, findings=findings,
                    last=selectors.previous_approved_values(indicator_return=indicator_return).get(code),
                    flags=list(stored.flags.all()) if stored else [])
    # A box already on the page (its text came along) stays as it is: the filer may be typing in it.
    return render(request, "reporting/_partials/value_check.html", {
        "row": row, "may_edit": True, "checked": True,
        "swap_explanation": f"explanation-{code}" not in request.POST})


@login_required
def return_history(request, pk: int):
    indicator_return = visible_return(request, pk)
    return render(request, "reporting/return_history.html", {
        "indicator_return": indicator_return,
        "entries": selectors.return_history(indicator_return=indicator_return),
        "revisions": returns_visible_to(user=request.user).filter(
            city_id=indicator_return.city_id, period=indicator_return.period).order_by("revision"),
    })


@login_required
@require_POST
def return_amend(request, pk: int):
    indicator_return = visible_return(request, pk)
    form = AmendmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for the amendment."))
        return redirect("reporting:return_detail", pk)
    try:
        amendment = services.return_reopen_for_amendment(indicator_return=indicator_return, actor=request.user,
                                                         reason=form.cleaned_data["reason"],
                                                         ip_address=client_ip(request))
    except ValidationError as error:
        workflow_error(request, error, obj=indicator_return)
        return redirect("reporting:return_detail", pk)
    messages.success(request, _("Revision %(revision)s was opened for the amendment; the approved revision stays "
                                "in force until it is approved.") % {"revision": amendment.revision})
    return redirect("reporting:return_detail", amendment.pk)


@login_required
@require_POST
def return_withdraw(request, pk: int):
    """Withdraw a draft amendment; back to the approved revision, which stays in force."""
    indicator_return = visible_return(request, pk)
    try:
        withdrawn = services.return_withdraw_amendment(indicator_return=indicator_return, actor=request.user,
                                                       ip_address=client_ip(request))
    except ValidationError as error:
        workflow_error(request, error, obj=indicator_return)
        return redirect("reporting:return_detail", pk)
    messages.success(request, _("Revision %(revision)s was withdrawn; the approved revision stays in force.")
                     % {"revision": withdrawn.revision})
    return redirect("reporting:return_detail", withdrawn.amends_id or pk)
