"""The secretariat's review: the queue, bulk approval, a return's review page and the completeness board."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.services import client_ip
from ccfi_portal.i18n import pick
from reporting import selectors, services, validation
from reporting.forms import ExtensionForm, QueueFilterForm
from reporting.models import EXPLAINABLE, PeriodState, ReasonCode, ReportingPeriod, ReturnState, ReturnValue
from reporting.selectors import returns_visible_to
from reporting.views.shared import change_text, require_reviewer, visible_return, workflow_error


@login_required
def review_queue(request):
    require_reviewer(request)
    form = QueueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    returns = selectors.review_queue_list(
        period_id=filters.get("period").pk if filters.get("period") else None,
        state=filters.get("state") or None, city_id=filters.get("city").pk if filters.get("city") else None)
    return render(request, "reporting/review_queue.html", {"form": form, "returns": list(returns[:500])})


@login_required
@require_POST
def review_bulk_approve(request):
    require_reviewer(request)
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
    indicator_return = visible_return(request, pk)  # another city's return: 404 before anything else
    require_reviewer(request)
    if request.method == "POST":
        return _review_action(request, indicator_return)
    data = selectors.review_data(indicator_return=indicator_return)  # the same as the API's review data
    variables, previous, positions = data.variables, data.previous, data.positions
    comments, evidence, values, diff = data.comments, data.evidence, data.values, data.diff
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
            "change": change_text(value.value if value else None, previous.get(code)),
            "peers": position, "peer_min": validation.number_text(position.minimum) if position else "",
            "peer_median": validation.number_text(round(position.median, variable.decimals)) if position else "",
            "peer_max": validation.number_text(position.maximum) if position else "",
            "peer_strip": position.strip(value.value) if position and value and value.value is not None else None,
            "peer_unusual": bool(position and value and value.value is not None and position.is_unusual(value.value)),
            "flags": [{"severity": f.severity, "text": f.render(), "decision": f.decision,
                       "decision_label": f.get_decision_display(),
                       "decided_by": f.decided_by} for f in flags],
            "explainable": any(f.severity in EXPLAINABLE for f in flags),
            "comments": comments.get(code, []), "evidence": evidence.get(code, []), "changed": code in changed,
        })
    is_submitted = indicator_return.state == ReturnState.SUBMITTED
    return render(request, "reporting/review_detail.html", {
        "indicator_return": indicator_return, "rows": rows, "diff": diff, "diff_basis": data.diff_basis,
        "general_comments": comments.get("", []), "general_evidence": evidence.get("", []),
        "all_evidence": sorted((item for items in evidence.values() for item in items),
                               key=lambda item: (item.uploaded_at, item.pk)),
        "reason_choices": ReasonCode.choices, "is_submitted": is_submitted,
        "period_open": indicator_return.period.state == PeriodState.OPEN,
        "is_clean": data.clean,
    })


def _review_action(request, indicator_return):
    """One form carries the comments and every button (the explanation decisions too), so whatever the reviewer
    typed is saved with any of them and never lost to a reload."""
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
        if explain := request.POST.get("explain"):  # "<indicator code>:<accepted|rejected>"
            code, _separator, decision = explain.rpartition(":")
            value = get_object_or_404(ReturnValue, indicator_return=indicator_return, indicator__code=code)
            services.value_explanation_review(value=value, actor=request.user, decision=decision, comments=comments,
                                              ip_address=ip)
            messages.success(request, _("Decision on the explanation of %(code)s recorded.") % {"code": code})
            if comments:
                messages.success(request, _("%(count)s comment(s) saved.") % {"count": len(comments)})
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
            messages.success(request, _("The return was approved. The index is recomputed in the background."))
            return redirect("reporting:review_queue")
    except ValidationError as error:
        workflow_error(request, error, obj=indicator_return)
    return redirect("reporting:review_detail", indicator_return.pk)


@login_required
def completeness_board(request):
    require_reviewer(request)
    periods = list(ReportingPeriod.objects.order_by("-data_year"))
    period = None
    if request.GET.get("period", "").isdigit():
        period = next((item for item in periods if item.pk == int(request.GET["period"])), None)
    open_period = next((item for item in periods if item.state == PeriodState.OPEN), None)
    period = period or open_period or (periods[0] if periods else None)
    extension_form = ExtensionForm(request.POST or None)
    if request.method == "POST" and period is not None:
        if extension_form.is_valid():
            try:
                services.period_extension_grant(period=period, city=extension_form.cleaned_data["city"],
                                                until=extension_form.cleaned_data["until"],
                                                reason=extension_form.cleaned_data["reason"], actor=request.user,
                                                ip_address=client_ip(request))
            except ValidationError as error:
                workflow_error(request, error, obj=period)
            else:
                messages.success(request, _("Extension granted."))
                return redirect(reverse("reporting:board") + f"?period={period.pk}")
    cells = selectors.completeness_board(period=period) if period else []
    totals = selectors.board_totals(cells)
    return render(request, "reporting/board.html", {"periods": periods, "period": period, "cells": cells,
                                                    "totals": totals, "extension_form": extension_form})
