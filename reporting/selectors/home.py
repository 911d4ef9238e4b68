"""What each role's home page says to do next (the page itself: indices.views.home, which adds the index runs)."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, F, Q

from reporting.models import IndicatorReturn, PeriodState, ReportingPeriod, ReturnState
from reporting.selectors.dashboard import DashboardRow, board_totals, completeness_board, filer_dashboard

# The filer's next step on a period's return.
START, DRAFT, RETURNED, SUBMITTED, APPROVED, LOCKED, CLOSED = (
    "start", "draft", "returned", "submitted", "approved", "locked", "closed")


@dataclass
class FilerStep:
    row: DashboardRow
    step: str
    comments: int = 0  # a sent-back return: the reviewer's comments of the round that sent it back

    @property
    def days_left(self) -> int | None:
        """Days to the due date while it still speaks to the filer (DashboardRow.deadline_applies), else None."""
        return self.row.window.days_left if self.row.deadline_applies else None

    @property
    def past_due(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return self.row.window.days_overdue

    @property
    def to_do(self) -> bool:
        """Whether the filer has something to do on it (start, finish or correct the return)."""
        return self.step in (START, DRAFT, RETURNED)


def filer_home(*, user) -> list[FilerStep]:
    """The city's returns by period, newest first, each with its next step; closed periods with no return of the
    city are left out (nothing to do, nothing to see)."""
    rows = filer_dashboard(user=user)
    current_ids = [row.current.pk for row in rows if row.current and row.current.state == ReturnState.RETURNED]
    comments = dict(IndicatorReturn.objects.filter(pk__in=current_ids).annotate(
        n=Count("comments", filter=Q(comments__submission_round=F("submission_count")))).values_list("pk", "n"))
    steps = []
    for row in rows:
        current = row.current
        if current is None:
            if row.period.state == PeriodState.CLOSED:
                continue
            step = START if row.window.open else (LOCKED if row.window.reason == "locked" else CLOSED)
        else:
            step = {ReturnState.DRAFT: DRAFT, ReturnState.RETURNED: RETURNED, ReturnState.SUBMITTED: SUBMITTED,
                    ReturnState.APPROVED: APPROVED}.get(current.state, CLOSED)
            if step in (DRAFT, RETURNED) and not row.window.open:  # past the lock date without an extension
                step = LOCKED if row.window.reason == "locked" else CLOSED
        steps.append(FilerStep(row=row, step=step, comments=comments.get(current.pk, 0) if current else 0))
    return steps


@dataclass
class BoardSummary:
    period: ReportingPeriod
    totals: dict[str, int]


@dataclass
class ReviewerHome:
    queue: int  # submitted returns waiting for a reviewer
    sent_back: int  # returns sent back, waiting for their filers
    boards: list[BoardSummary] = field(default_factory=list)  # each open period's completeness board counts


def reviewer_home() -> ReviewerHome:
    counts = IndicatorReturn.objects.aggregate(
        queue=Count("pk", filter=Q(state=ReturnState.SUBMITTED)),
        sent_back=Count("pk", filter=Q(state=ReturnState.RETURNED)))
    boards = [BoardSummary(period=period, totals=board_totals(completeness_board(period=period)))
              for period in ReportingPeriod.objects.filter(state=PeriodState.OPEN).order_by("-data_year")]
    return ReviewerHome(queue=counts["queue"], sent_back=counts["sent_back"], boards=boards)
