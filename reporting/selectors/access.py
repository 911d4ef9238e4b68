"""Who may see and change what: visibility of returns, the filing window, and the refusals that
services raise and pages show (one rule for both)."""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.permissions import may_see_all_returns, user_is_reviewer
from ccfi_portal.queries import PreparedQuery
from reporting.models import (
    EDITABLE_STATES,
    OPEN_STATES,
    EvidenceFile,
    ImportReport,
    IndicatorReturn,
    PeriodExtension,
    PeriodState,
    ReportingPeriod,
    ReturnState,
)


def user_may_edit_values(user, indicator_return: IndicatorReturn) -> bool:
    """Only the city's own filers enter values; reviewers never do. A superuser (the system
    administrator) may load values for any city, e.g. a migration of historical returns by import."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.city_id == indicator_return.city_id and user.has_role(Role.FILER)


def returns_visible_to(*, user) -> QuerySet[IndicatorReturn]:
    """The returns a user may see: a filer those of its city, secretariat staff all, others none."""
    return _returns_in(_visible_scope(user))


def return_visible_to(*, user, pk: int) -> IndicatorReturn | None:
    """The return ``pk`` if ``user`` may see it (``returns_visible_to``), else None. Its query is built once per
    process: every page and API request about one return reads it first (ccfi_portal.queries)."""
    scope = _visible_scope(user)
    if scope is None:
        return None
    if scope is _ALL_CITIES:
        return _VISIBLE_RETURN.first(pk=pk)
    return _VISIBLE_CITY_RETURN.first(pk=pk, city_id=scope)


_ALL_CITIES = object()


def _visible_scope(user):
    """Whose returns ``user`` sees: _ALL_CITIES, one city's id, or None."""
    if not user.is_authenticated:
        return None
    if may_see_all_returns(user):
        return _ALL_CITIES
    return user.city_id or None


def _returns_in(scope) -> QuerySet[IndicatorReturn]:
    returns = IndicatorReturn.objects.select_related("city", "period")
    if scope is None:
        return returns.none()
    return returns if scope is _ALL_CITIES else returns.filter(city_id=scope)


def _one_return(scope, pk: int) -> QuerySet[IndicatorReturn]:
    """One return and what its pages and endpoints show with it: the methodology, the revision it amends."""
    return _returns_in(scope).select_related("period__methodology", "amends").filter(pk=pk)


_VISIBLE_RETURN = PreparedQuery(lambda pk: _one_return(_ALL_CITIES, pk), pk=int)
_VISIBLE_CITY_RETURN = PreparedQuery(lambda pk, city_id: _one_return(city_id, pk), pk=int, city_id=int)


def imports_visible_to(*, user) -> QuerySet[ImportReport]:
    reports = ImportReport.objects.select_related("period", "city", "actor")
    if not user.is_authenticated:
        return reports.none()
    if may_see_all_returns(user):
        return reports
    if user.city_id:
        return reports.filter(city_id=user.city_id)
    return reports.none()


def evidence_visible_to(*, user) -> QuerySet[EvidenceFile]:
    return EvidenceFile.objects.select_related("indicator_return").filter(
        indicator_return__in=returns_visible_to(user=user))


# Deadlines.

def local_today() -> datetime.date:
    return timezone.localdate()


def extension_until(*, period: ReportingPeriod, city_id: int) -> datetime.date | None:
    return PeriodExtension.objects.filter(period=period, city_id=city_id).aggregate(until=Max("until"))["until"]


def extensions_until(*, period: ReportingPeriod) -> dict[int, datetime.date]:
    """The latest extension of each city in the period, in one query for pages and imports covering many cities."""
    return dict(PeriodExtension.objects.filter(period=period).values("city").annotate(
        until=Max("until")).values_list("city", "until"))


@dataclass(frozen=True)
class FilingWindow:
    open: bool
    reason: str  # "open", "closed", "locked", "extended"
    due_on: datetime.date
    locks_on: datetime.date | None
    extended_until: datetime.date | None
    today: datetime.date

    @property
    def days_left(self) -> int:
        return (self.due_on - self.today).days

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)


def past_lock_date(period: ReportingPeriod, today: datetime.date | None = None) -> bool:
    """After the period's lock date only an extension lets a city's filers edit."""
    return bool(period.locks_on and (today or local_today()) > period.locks_on)


def filing_window(*, period: ReportingPeriod, city_id: int, today: datetime.date | None = None,
                  extended_until: datetime.date | None | bool = False) -> FilingWindow:
    """Whether the city's filers may still edit: a closed period never; after the lock date only
    with an extension that has not run out."""
    today = today or local_today()
    if extended_until is False:
        extended_until = extension_until(period=period, city_id=city_id)
    common = dict(due_on=period.due_on, locks_on=period.locks_on, extended_until=extended_until, today=today)
    if period.state == PeriodState.CLOSED:
        return FilingWindow(open=False, reason="closed", **common)
    if past_lock_date(period, today):
        if extended_until and today <= extended_until:
            return FilingWindow(open=True, reason="extended", **common)
        return FilingWindow(open=False, reason="locked", **common)
    return FilingWindow(open=True, reason="open", **common)


# Who may change a return now. Services raise these refusals and pages hide their forms with them, so
# the two cannot drift apart. The messages are what people see when a step is refused; tests assert on them.

NOT_YOUR_RETURN = _("Only the city's own filers can change this return.")
PERIOD_CLOSED = _("The reporting period is closed; its returns can no longer be changed.")
PERIOD_LOCKED = _("The period was locked on %(date)s; ask the secretariat for an extension to keep editing.")
NOT_EDITABLE = _("A return that is %(state)s cannot be edited.")
NOT_APPROVED = _("Only an approved return can be reopened for an amendment.")
AMENDMENT_EXISTS = _("An amendment of this return is already open.")
NOT_WITHDRAWABLE = _("Only a draft amendment (a revision after the first, not yet submitted) can be withdrawn.")


@dataclass(frozen=True)
class Refusal:
    """Why a step on a return is refused now: ``code`` is the WorkflowError code, ``message`` with ``params``
    the text people see."""

    code: str
    message: str
    params: dict = field(default_factory=dict)

    @property
    def forbidden(self) -> bool:
        """Not the city's filer: no state or deadline would allow it (PermissionDenied, not a workflow error)."""
        return self.code == "not_yours"


def return_filing_refusal(user, indicator_return: IndicatorReturn, *,
                          window: FilingWindow | None = None) -> Refusal | None:
    """The city's filer, in an open period, before the lock date or within an extension; None if so.
    ``window`` may be the return's filing window already read by the caller."""
    if not user_may_edit_values(user, indicator_return):
        return Refusal("not_yours", NOT_YOUR_RETURN)
    if window is None:  # an extension matters only after the lock date: not read before it (every save asks)
        period = indicator_return.period
        window = filing_window(period=period, city_id=indicator_return.city_id,
                               extended_until=False if past_lock_date(period) else None)
    if window.reason == "closed":
        return Refusal("closed", PERIOD_CLOSED)
    if not window.open:
        return Refusal("locked", PERIOD_LOCKED, {"date": f"{window.locks_on:%Y-%m-%d}"})
    return None


def return_edit_refusal(user, indicator_return: IndicatorReturn, *,
                        window: FilingWindow | None = None) -> Refusal | None:
    """Why ``user`` may not change the return's values or evidence now (None: they may): the filing
    window, and a draft or a return sent back."""
    refusal = return_filing_refusal(user, indicator_return, window=window)
    if refusal is None and indicator_return.state not in EDITABLE_STATES:
        refusal = Refusal("not_editable", NOT_EDITABLE, {"state": indicator_return.get_state_display()})
    return refusal


def return_withdraw_refusal(user, indicator_return: IndicatorReturn, *,
                            window: FilingWindow | None = None) -> Refusal | None:
    """Why ``user`` may not withdraw this amendment now (None: they may): the city's filer within the filing
    window, and a draft of a revision after the first (the first revision is the city's return itself)."""
    refusal = return_filing_refusal(user, indicator_return, window=window)
    if refusal is None and (indicator_return.revision < 2 or indicator_return.state != ReturnState.DRAFT):
        refusal = Refusal("not_withdrawable", NOT_WITHDRAWABLE)
    return refusal


def return_amend_refusal(user, indicator_return: IndicatorReturn, *,
                         window: FilingWindow | None = None) -> Refusal | None:
    """Why ``user`` may not reopen the return for an amendment now (None: they may). The city's filers
    within the filing window, reviewers while the period is open; an approved return with no open revision."""
    if not user_is_reviewer(user):
        refusal = return_filing_refusal(user, indicator_return, window=window)
        if refusal is not None:
            return refusal
    if indicator_return.period.state == PeriodState.CLOSED:
        return Refusal("closed", PERIOD_CLOSED)
    if indicator_return.state != ReturnState.APPROVED:
        return Refusal("not_approved", NOT_APPROVED)
    if IndicatorReturn.objects.filter(city_id=indicator_return.city_id, period_id=indicator_return.period_id,
                                      state__in=OPEN_STATES).exists():
        return Refusal("amendment_exists", AMENDMENT_EXISTS)
    return None
