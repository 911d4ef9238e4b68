"""Overviews of many returns: the periods, the filer's dashboard, the reviewers' completeness board."""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import City
from methodology.models import Indicator
from reporting.models import (
    EDITABLE_STATES,
    OPEN_STATES,
    IndicatorReturn,
    PeriodExtension,
    PeriodState,
    ReportingPeriod,
    ReturnState,
    ReviewComment,
)
from reporting.selectors.access import FilingWindow, extensions_until, filing_window


def period_overview_list() -> QuerySet[ReportingPeriod]:
    """Periods with their methodology and how many returns are approved and illustrative."""
    return ReportingPeriod.objects.select_related("methodology").annotate(
        approved_returns=Count("returns", filter=Q(returns__state=ReturnState.APPROVED)),
        illustrative_returns=Count("returns", filter=Q(returns__is_illustrative=True)),
    )


def period_management_list() -> QuerySet[ReportingPeriod]:
    """Periods for the secretariat's period page: how many returns are approved, and how many revisions open."""
    return ReportingPeriod.objects.select_related("methodology").annotate(
        approved_returns=Count("returns", filter=Q(returns__state=ReturnState.APPROVED)),
        open_returns=Count("returns", filter=Q(returns__state__in=OPEN_STATES)),
    ).order_by("-data_year")


def period_unapproved_cities(*, period: ReportingPeriod) -> list[City]:
    """Cities that hold the period back from closing: no approved return, or a revision still open
    (a draft, a submission awaiting review, an amendment)."""
    approved = IndicatorReturn.objects.filter(period=period, state=ReturnState.APPROVED).values("city_id")
    still_open = IndicatorReturn.objects.filter(period=period, state__in=OPEN_STATES).values("city_id")
    return list(City.objects.filter(~Q(pk__in=approved) | Q(pk__in=still_open)).order_by("code"))


def city_list() -> QuerySet[City]:
    return City.objects.all()


# Lists.

@dataclass
class DashboardRow:
    period: ReportingPeriod
    window: FilingWindow
    current: IndicatorReturn | None  # the revision the filer works on or the one in force
    approved: IndicatorReturn | None
    filled: int = 0
    total: int = 0
    last_comment: ReviewComment | None = None

    @property
    def deadline_applies(self) -> bool:
        """Whether the due date still speaks to the filer: the period is open and its first return is yet to be
        submitted (not started, a draft, or sent back). An approved return or an amendment is never overdue."""
        if self.period.state != PeriodState.OPEN:
            return False
        return self.current is None or (self.current.revision == 1 and self.current.state in EDITABLE_STATES)


def filer_dashboard(*, user) -> list[DashboardRow]:
    """The city's returns by period: state, deadline, days left, completeness, last reviewer comment."""
    periods = list(ReportingPeriod.objects.select_related("methodology").order_by("-data_year"))
    returns = list(IndicatorReturn.objects.filter(city_id=user.city_id).exclude(
        state=ReturnState.WITHDRAWN).select_related("period").annotate(
        filled=Count("values", filter=Q(values__value__isnull=False))).order_by("period_id", "-revision"))
    totals = dict(Indicator.objects.filter(version__in={period.methodology_id for period in periods})
                  .values("version").annotate(n=Count("id")).values_list("version", "n"))
    extensions = dict(PeriodExtension.objects.filter(city_id=user.city_id).values("period").annotate(
        until=Max("until")).values_list("period", "until"))
    # The latest comment on any of the city's revisions, per period, in one query.
    latest_in_period = ReviewComment.objects.filter(
        indicator_return__city_id=user.city_id, indicator_return__period_id=OuterRef("indicator_return__period_id"),
    ).order_by("-created_at", "-id").values("pk")[:1]
    last_comments = {comment.indicator_return.period_id: comment for comment in ReviewComment.objects.filter(
        indicator_return__city_id=user.city_id, pk=Subquery(latest_in_period)).select_related(
        "indicator", "indicator_return")}
    rows = []
    for period in periods:
        mine = [item for item in returns if item.period_id == period.pk]
        current = next((item for item in mine if item.state in OPEN_STATES), None)
        approved = next((item for item in mine if item.state == ReturnState.APPROVED), None)
        shown = current or approved
        row = DashboardRow(period=period, current=shown, approved=approved, total=totals.get(period.methodology_id, 0),
                           window=filing_window(period=period, city_id=user.city_id,
                                                extended_until=extensions.get(period.pk)))
        if shown is not None:
            row.filled = shown.filled
            if shown.state == ReturnState.RETURNED:  # what to fix; once resubmitted or approved, it is history
                row.last_comment = last_comments.get(period.pk)
        rows.append(row)
    return rows


@dataclass
class BoardCell:
    city: City
    state: str | None
    approved: bool
    submitted_at: datetime.datetime | None
    on_time: bool | None
    extended_until: datetime.date | None
    revision: int | None

    @property
    def state_label(self) -> str:
        return ReturnState(self.state).label if self.state else ""


def completeness_board(*, period: ReportingPeriod) -> list[BoardCell]:
    """Per city: the latest revision's state, whether a revision is approved, on time or late."""
    returns = IndicatorReturn.objects.filter(period=period).exclude(state=ReturnState.WITHDRAWN).order_by(
        "city_id", "-revision")
    latest: dict[int, IndicatorReturn] = {}
    approved: set[int] = set()
    for item in returns:
        latest.setdefault(item.city_id, item)
        if item.state == ReturnState.APPROVED:
            approved.add(item.city_id)
    # The first submission of the first revision decides timeliness; amendments do not make it late.
    firsts = {item.city_id: item.first_submitted_at or item.submitted_at
              for item in returns.filter(revision=1)}
    extensions = extensions_until(period=period)
    cells = []
    for city in City.objects.all():
        item = latest.get(city.pk)
        submitted_at = firsts.get(city.pk)
        on_time = None
        if submitted_at is not None:
            on_time = timezone.localtime(submitted_at).date() <= period.due_on
        cells.append(BoardCell(city=city, state=item.state if item else None, approved=city.pk in approved,
                               submitted_at=submitted_at, on_time=on_time, extended_until=extensions.get(city.pk),
                               revision=item.revision if item else None))
    return cells


def board_totals(cells: list[BoardCell]) -> dict[str, int]:
    """The board's counts: cities that submitted (on time, late), that have an approved revision, and all."""
    return {
        "submitted": sum(1 for cell in cells if cell.submitted_at),
        "approved": sum(1 for cell in cells if cell.approved),
        "on_time": sum(1 for cell in cells if cell.on_time),
        "late": sum(1 for cell in cells if cell.on_time is False),
        "cities": len(cells),
    }
