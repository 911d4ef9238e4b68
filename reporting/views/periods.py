"""The secretariat's reporting periods: open one (every city's return created with it), close one."""
from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import may_manage_periods
from audit.services import client_ip
from reporting import selectors, services
from reporting.forms import PeriodOpenForm
from reporting.models import PeriodState, ReportingPeriod
from reporting.views.shared import workflow_error


def _require_period_manager(request) -> None:
    if not may_manage_periods(request.user):
        raise PermissionDenied


@login_required
def period_list(request):
    """Every period with its phase and approvals; the form that opens the next one."""
    _require_period_manager(request)
    periods = list(selectors.period_management_list())
    form = PeriodOpenForm(request.POST or None, initial=_opening_defaults(periods))
    if request.method == "POST" and form.is_valid():
        try:
            period = services.period_open(opening=services.PeriodOpening(**form.cleaned_data), actor=request.user,
                                          ip_address=client_ip(request))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The reporting period %(year)s is open; every city's return is waiting "
                                        "as a draft.") % {"year": period.data_year})
            return redirect("reporting:periods")
    pending = {period.pk: selectors.period_unapproved_cities(period=period)
               for period in periods if period.state == PeriodState.OPEN}
    return render(request, "reporting/periods.html", {
        "rows": [{"period": period, "pending": pending.get(period.pk, [])} for period in periods],
        "city_count": selectors.city_list().count(), "form": form}, status=400 if form.errors else 200)


def _opening_defaults(periods: list[ReportingPeriod]) -> dict:
    """The year after the latest period, opening today, due three months on, locking a month after."""
    today = selectors.local_today()
    year = max((period.data_year for period in periods), default=today.year - 1) + 1
    return {"data_year": year, "opens_on": today, "due_on": today + datetime.timedelta(days=90),
            "locks_on": today + datetime.timedelta(days=120)}


@login_required
@require_POST
def period_close(request, pk: int):
    _require_period_manager(request)
    period = get_object_or_404(ReportingPeriod, pk=pk)
    try:
        services.period_close(period=period, actor=request.user, confirmed=request.POST.get("confirm") == "1",
                              ip_address=client_ip(request))
    except ValidationError as error:
        workflow_error(request, error, obj=period)
    else:
        messages.success(request, _("The reporting period %(year)s is closed; its returns are read-only.")
                         % {"year": period.data_year})
    return redirect("reporting:periods")
