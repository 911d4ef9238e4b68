"""A reporting period's life, run by the secretariat from the portal: opening it, with every city's
return created as an empty draft at once, and closing it, after which its returns are read-only (the
guards refuse every change to a closed period's returns).

Between the two the period's phase follows its dates (``ReportingPeriod.phase``): open for filing,
past due, locked, then closed. Each step is one durable transaction with its audit event.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import City
from accounts.permissions import may_manage_periods
from audit.services import audit_record
from methodology.models import Indicator, MethodologyVersion
from reporting.models import IndicatorReturn, PeriodState, ReportingPeriod, ReturnValue
from reporting.selectors import period_unapproved_cities
from reporting.services.guards import WorkflowError, require_open_period

# Messages people see when a step is refused; tests assert on them.
PERIOD_MANAGERS_ONLY = _("Only the secretariat can open or close reporting periods.")
PERIOD_YEAR_TAKEN = _("A reporting period for data year %(year)s already exists.")
PERIOD_NOT_ALL_APPROVED = _("%(count)s cities have no approved return yet, or an open revision. Confirm to close "
                            "the period all the same: their returns stay as they are, read-only.")


@dataclass(frozen=True)
class PeriodOpening:
    data_year: int
    opens_on: datetime.date
    due_on: datetime.date
    locks_on: datetime.date | None
    methodology: MethodologyVersion


def _require_manager(actor) -> None:
    """``actor`` None is the system itself (load_demo): no person to check."""
    if actor is not None and not may_manage_periods(actor):
        raise PermissionDenied(PERIOD_MANAGERS_ONLY)


@transaction.atomic(durable=True)
def period_open(*, opening: PeriodOpening, actor, ip_address: str | None = None) -> ReportingPeriod:
    """A new period, with an empty draft return for every city, so each city finds its return waiting
    and the completeness board counts every city from the first day."""
    return period_open_within(opening=opening, actor=actor, ip_address=ip_address)


def period_open_within(*, opening: PeriodOpening, actor, ip_address: str | None = None) -> ReportingPeriod:
    """period_open inside the caller's transaction: load_demo loads the whole demo all or nothing."""
    _require_manager(actor)
    if ReportingPeriod.objects.filter(data_year=opening.data_year).exists():
        raise WorkflowError({"data_year": WorkflowError(PERIOD_YEAR_TAKEN, code="year_taken",
                                                        params={"year": opening.data_year})})
    period = ReportingPeriod(data_year=opening.data_year, opens_on=opening.opens_on, due_on=opening.due_on,
                             locks_on=opening.locks_on, methodology=opening.methodology, state=PeriodState.OPEN)
    period.full_clean()  # dates in order, a published methodology
    period.save()
    cities = list(City.objects.order_by("code"))
    IndicatorReturn.objects.bulk_create([IndicatorReturn(city=city, period=period) for city in cities])
    indicators = list(Indicator.objects.filter(version=period.methodology))
    ReturnValue.objects.bulk_create([
        ReturnValue(indicator_return=indicator_return, indicator=indicator)
        for indicator_return in IndicatorReturn.objects.filter(period=period) for indicator in indicators
    ])
    audit_record(actor=actor, event_type="period.open", obj=period, ip_address=ip_address, details={
        "data_year": period.data_year, "opens_on": period.opens_on.isoformat(), "due_on": period.due_on.isoformat(),
        "locks_on": period.locks_on.isoformat() if period.locks_on else None,
        "methodology": f"{period.methodology.code} {period.methodology.version}", "returns": len(cities)})
    return period


@transaction.atomic(durable=True)
def period_close(*, period: ReportingPeriod, actor, confirmed: bool = False,
                 ip_address: str | None = None) -> ReportingPeriod:
    """Close (archive) the period: at once when every city's return is approved with no revision still
    open, otherwise only when the secretariat confirms. Closed, its returns are read-only."""
    _require_manager(actor)
    period = ReportingPeriod.objects.select_for_update().select_related("methodology").get(pk=period.pk)
    require_open_period(period)
    pending = period_unapproved_cities(period=period)
    if pending and not confirmed:
        raise WorkflowError(PERIOD_NOT_ALL_APPROVED, code="not_all_approved", params={"count": len(pending)})
    period.state = PeriodState.CLOSED
    period.save(update_fields=["state"])
    audit_record(actor=actor, event_type="period.close", obj=period, ip_address=ip_address, details={
        "data_year": period.data_year, "confirmed": bool(pending),
        "unapproved_cities": [city.code for city in pending]})
    return period
