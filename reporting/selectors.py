"""Selectors of the reporting app: functions that read."""
from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import BooleanField, Count, ExpressionWrapper, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import City, Role
from accounts.permissions import may_see_all_returns, user_is_reviewer
from audit.models import AuditEvent
from indices.engine.spec import MethodologySpec, NodeSpec
from methodology.models import Indicator
from methodology.selectors import methodology_spec
from reporting.models import (
    EDITABLE_STATES,
    OPEN_STATES,
    EvidenceFile,
    ImportReport,
    IndicatorReturn,
    PeriodExtension,
    PeriodState,
    ReportingPeriod,
    ReturnSnapshot,
    ReturnState,
    ReturnValue,
    ReviewComment,
    ValueChange,
    ValueFlag,
)


def period_overview_list() -> QuerySet[ReportingPeriod]:
    """Periods with their methodology and how many returns are approved and illustrative."""
    return ReportingPeriod.objects.select_related("methodology").annotate(
        approved_returns=Count("returns", filter=Q(returns__state=ReturnState.APPROVED)),
        illustrative_returns=Count("returns", filter=Q(returns__is_illustrative=True)),
    )


def city_list() -> QuerySet[City]:
    return City.objects.all()


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
    returns = IndicatorReturn.objects.select_related("city", "period")
    if not user.is_authenticated:
        return returns.none()
    if may_see_all_returns(user):
        return returns
    if user.city_id:
        return returns.filter(city_id=user.city_id)
    return returns.none()


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
    if period.locks_on and today > period.locks_on:
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
    window = window or filing_window(period=indicator_return.period, city_id=indicator_return.city_id)
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


# The methodology behind a period.

def period_spec(*, period: ReportingPeriod) -> MethodologySpec:
    """The period's methodology as plain data (cached while published: indices.selectors.methodology_spec)."""
    return methodology_spec(version=period.methodology)


@dataclass
class FormSection:
    code: str
    name_zh: str
    name_en: str
    groups: list[FormGroup] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [code for group in self.groups for code in group.codes]


@dataclass
class FormGroup:
    code: str
    name_zh: str
    name_en: str
    codes: list[str] = field(default_factory=list)


def form_sections(spec: MethodologySpec) -> list[FormSection]:
    """Dimensions and their groups with the indicator codes under each, then the context variables."""
    sections = []
    for dimension in spec.root.children:
        if not isinstance(dimension, NodeSpec):
            continue
        section = FormSection(dimension.code, dimension.name_zh, dimension.name_en)
        for group in dimension.children:
            if isinstance(group, NodeSpec):
                codes = [item.code for _, _, item in _walk(group) if not isinstance(item, NodeSpec)]
                section.groups.append(FormGroup(group.code, group.name_zh, group.name_en, codes))
            else:
                section.groups.append(FormGroup(group.code, group.name_zh, group.name_en, [group.code]))
        sections.append(section)
    if spec.context_variables:
        sections.append(FormSection("CONTEXT", "背景变量", "Context variables", [
            FormGroup("CONTEXT", "背景变量（不计分）", "Context variables (reported, not scored)",
                      [variable.code for variable in spec.context_variables])]))
    return sections


def _walk(node):
    yield None, None, node
    if isinstance(node, NodeSpec):
        for child in node.children:
            yield from _walk(child)


# Values around a return.

def return_values(*, indicator_return: IndicatorReturn) -> dict[str, ReturnValue]:
    return {value.indicator.code: value for value in ReturnValue.objects.filter(
        indicator_return=indicator_return).select_related("indicator")}


def previous_approved_values(*, indicator_return: IndicatorReturn) -> dict[str, Decimal]:
    """Last year's approved values of the same city, by code."""
    return previous_approved_values_for(city_ids=[indicator_return.city_id],
                                        data_year=indicator_return.period.data_year).get(indicator_return.city_id, {})


def previous_approved_values_for(*, city_ids, data_year: int) -> dict[int, dict[str, Decimal]]:
    rows = ReturnValue.objects.filter(
        indicator_return__city_id__in=city_ids, indicator_return__period__data_year=data_year - 1,
        indicator_return__state=ReturnState.APPROVED, value__isnull=False,
    ).values_list("indicator_return__city_id", "indicator__code", "value")
    result: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for city_id, code, value in rows:
        result[city_id][code] = value
    return result


def peer_values(*, period: ReportingPeriod, exclude_city_id: int | None = None,
                codes: Iterable[str] | None = None) -> dict[str, list[Decimal]]:
    """Other cities' values for the period: each city's latest submitted or approved revision; only the
    values of ``codes`` if given (a check of one field needs one indicator's peers)."""
    by_city = peer_values_by_city(period=period, codes=codes)
    result: dict[str, list[Decimal]] = defaultdict(list)
    for city_id, values in by_city.items():
        if city_id == exclude_city_id:
            continue
        for code, value in values.items():
            result[code].append(value)
    return result


def peer_values_by_city(*, period: ReportingPeriod,
                        codes: Iterable[str] | None = None) -> dict[int, dict[str, Decimal]]:
    rows = ReturnValue.objects.filter(
        indicator_return__period=period, value__isnull=False,
        indicator_return__state__in=(ReturnState.SUBMITTED, ReturnState.APPROVED),
    )
    if codes is not None:
        # The latest revision is chosen over all the city's values, as without the filter: one lacking
        # these codes still hides an older revision's.
        newest = rows.filter(indicator_return__city_id=OuterRef("indicator_return__city_id")).order_by(
            "-indicator_return__revision").values("indicator_return__revision")[:1]
        rows = rows.filter(indicator__code__in=list(codes), indicator_return__revision=Subquery(newest))
    rows = rows.values_list("indicator_return__city_id", "indicator_return__revision", "indicator__code", "value")
    latest: dict[int, int] = {}
    for city_id, revision, _code, _value in rows:
        latest[city_id] = max(latest.get(city_id, 0), revision)
    result: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for city_id, revision, code, value in rows:
        if revision == latest[city_id]:
            result[city_id][code] = value
    return result


@dataclass(frozen=True)
class PeerPosition:
    count: int
    minimum: Decimal | None
    median: Decimal | None
    maximum: Decimal | None


def peer_positions(peers: dict[str, list[Decimal]]) -> dict[str, PeerPosition]:
    return {code: PeerPosition(len(values), min(values), statistics.median(values), max(values))
            for code, values in peers.items() if values}


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


def filer_dashboard(*, user) -> list[DashboardRow]:
    """The city's returns by period: state, deadline, days left, completeness, last reviewer comment."""
    periods = list(ReportingPeriod.objects.select_related("methodology").order_by("-data_year"))
    returns = list(IndicatorReturn.objects.filter(city_id=user.city_id).select_related("period").annotate(
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
            row.last_comment = last_comments.get(period.pk)
        rows.append(row)
    return rows


def review_queue_list(*, period_id=None, state=None, city_id=None) -> QuerySet[IndicatorReturn]:
    """Returns for reviewers, newest submissions first, with completeness and open warnings counted, and
    ``clean`` as in ``return_is_clean`` (so the page need not ask per row which ones it may bulk-approve)."""
    returns = IndicatorReturn.objects.select_related("city", "period").exclude(state=ReturnState.SUPERSEDED)
    if period_id:
        returns = returns.filter(period_id=period_id)
    if state:
        returns = returns.filter(state=state)
    else:
        returns = returns.filter(state=ReturnState.SUBMITTED)
    if city_id:
        returns = returns.filter(city_id=city_id)
    return returns.annotate(
        filled=Count("values", filter=Q(values__value__isnull=False), distinct=True),
        warnings=Count("values__flags", filter=Q(values__flags__severity__in=("warning", "error")), distinct=True),
    ).annotate(
        clean=ExpressionWrapper(Q(state=ReturnState.SUBMITTED, warnings=0), output_field=BooleanField()),
    ).order_by("-submitted_at", "city__code")


def return_is_clean(indicator_return: IndicatorReturn, *, values: Iterable[ReturnValue] | None = None) -> bool:
    """Submitted with no warning or error flag: safe to approve in bulk. ``values`` may be the return's
    ``review_values`` already loaded (their flags prefetched), to spare the query."""
    if indicator_return.state != ReturnState.SUBMITTED:
        return False
    if values is not None:
        return not any(flag.severity in ("warning", "error") for value in values for flag in value.flags.all())
    return not ValueFlag.objects.filter(value__indicator_return=indicator_return,
                                        severity__in=("warning", "error")).exists()


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
    returns = IndicatorReturn.objects.filter(period=period).order_by("city_id", "-revision")
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


# History and diffs.

def return_history(*, indicator_return: IndicatorReturn) -> list[dict]:
    """Everything that happened to the city's returns for the period, newest first: transitions,
    value changes, comments and uploads, from the append-only records."""
    revisions = IndicatorReturn.objects.filter(city_id=indicator_return.city_id, period=indicator_return.period)
    ids = [str(pk) for pk in revisions.values_list("pk", flat=True)]
    events = AuditEvent.objects.filter(object_type=IndicatorReturn._meta.label, object_id__in=ids).select_related(
        "actor")
    entries = [{"at": event.occurred_at, "kind": "event", "event": event, "actor": event.actor} for event in events]
    changes = ValueChange.objects.filter(indicator_return__in=revisions).select_related(
        "actor", "indicator", "indicator_return")
    entries += [{"at": change.changed_at, "kind": "change", "change": change, "actor": change.actor}
                for change in changes]
    comments = ReviewComment.objects.filter(indicator_return__in=revisions).select_related("author", "indicator")
    entries += [{"at": comment.created_at, "kind": "comment", "comment": comment, "actor": comment.author}
                for comment in comments]
    entries.sort(key=lambda entry: entry["at"], reverse=True)
    return entries


def snapshot_values(indicator_return: IndicatorReturn, *,
                    values: Iterable[ReturnValue] | None = None) -> dict[str, list]:
    """The return's values as stored in a snapshot; ``values`` may be its values already loaded."""
    if values is None:
        values = ReturnValue.objects.filter(indicator_return=indicator_return).select_related("indicator")
    return {value.indicator.code: [_text(value.value), value.observation_status, value.source_note, value.explanation]
            for value in values}


def _text(value) -> str:
    from reporting.validation import number_text

    return number_text(value)


@dataclass(frozen=True)
class DiffRow:
    code: str
    field: str
    old: str
    new: str


def return_diff(*, indicator_return: IndicatorReturn,
                values: Iterable[ReturnValue] | None = None) -> tuple[str, list[DiffRow]]:
    """What changed since the previous submission, or since the approved revision an amendment replaces.

    Returns the basis ("submission", "approved" or "") and the changed fields. ``values`` may be the
    return's values already loaded.
    """
    current = snapshot_values(indicator_return, values=values)
    basis, before = "", None
    if indicator_return.submission_count > 1:
        snapshot = ReturnSnapshot.objects.filter(indicator_return=indicator_return,
                                                 number=indicator_return.submission_count - 1).first()
        if snapshot is not None:
            basis, before = "submission", snapshot.values
    if before is None and indicator_return.amends_id:
        basis, before = "approved", snapshot_values(indicator_return.amends)
    if before is None:
        return "", []
    fields = ("value", "observation_status", "source_note", "explanation")
    rows = []
    for code, now in current.items():
        then = before.get(code, ["", "", "", ""])
        for index, name in enumerate(fields):
            if (then[index] or "") != (now[index] or ""):
                rows.append(DiffRow(code, name, then[index] or "", now[index] or ""))
    return basis, rows


def return_comments_by_code(*, indicator_return: IndicatorReturn) -> dict[str, list[ReviewComment]]:
    """The return's review comments by indicator code ("" for comments on the whole return)."""
    comments: dict[str, list[ReviewComment]] = defaultdict(list)
    for comment in indicator_return.comments.select_related("indicator", "author"):
        comments[comment.indicator.code if comment.indicator else ""].append(comment)
    return comments


def return_evidence_by_code(*, indicator_return: IndicatorReturn) -> dict[str, list[EvidenceFile]]:
    """The return's evidence files by indicator code ("" for files of the whole return)."""
    evidence: dict[str, list[EvidenceFile]] = defaultdict(list)
    for item in indicator_return.evidence.select_related("indicator"):
        evidence[item.indicator.code if item.indicator else ""].append(item)
    return evidence


def review_values(*, indicator_return: IndicatorReturn) -> QuerySet[ReturnValue]:
    return ReturnValue.objects.filter(indicator_return=indicator_return).select_related("indicator").prefetch_related(
        Prefetch("flags", queryset=ValueFlag.objects.select_related("decided_by")))
