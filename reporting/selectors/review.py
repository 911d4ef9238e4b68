"""What reviewers read: the queue, whether a return is clean, its history, snapshots and diffs, and
its comments, evidence and flags."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import BooleanField, Count, ExpressionWrapper, Prefetch, Q, QuerySet

from audit.models import AuditEvent
from reporting.models import (
    EXPLAINABLE,
    EvidenceFile,
    IndicatorReturn,
    ReturnSnapshot,
    ReturnState,
    ReturnValue,
    ReviewComment,
    ValueChange,
    ValueFlag,
)
from reporting.selectors.values import PeerPosition, peer_positions, peer_values, period_spec, previous_approved_values
from reporting.validation import number_text, variables


def review_queue_list(*, period_id=None, state=None, city_id=None) -> QuerySet[IndicatorReturn]:
    """Returns for reviewers, newest submissions first, with completeness and open warnings counted, and
    ``clean`` as in ``return_is_clean`` (so the page need not ask per row which ones it may bulk-approve)."""
    returns = IndicatorReturn.objects.select_related("city", "period").exclude(
        state__in=(ReturnState.SUPERSEDED, ReturnState.WITHDRAWN))
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
        warnings=Count("values__flags", filter=Q(values__flags__severity__in=EXPLAINABLE), distinct=True),
    ).annotate(
        clean=ExpressionWrapper(Q(state=ReturnState.SUBMITTED, warnings=0), output_field=BooleanField()),
    ).order_by("-submitted_at", "city__code")


def return_is_clean(indicator_return: IndicatorReturn, *, values: Iterable[ReturnValue] | None = None) -> bool:
    """Submitted with no warning or error flag: safe to approve in bulk. ``values`` may be the return's
    ``review_values`` already loaded (their flags prefetched), to spare the query."""
    if indicator_return.state != ReturnState.SUBMITTED:
        return False
    if values is not None:
        return not any(flag.severity in EXPLAINABLE for value in values for flag in value.flags.all())
    return not ValueFlag.objects.filter(value__indicator_return=indicator_return,
                                        severity__in=EXPLAINABLE).exists()


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
    return {value.indicator.code: [number_text(value.value), value.observation_status, value.source_note,
                                   value.explanation]
            for value in values}


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


def return_evidence_list(*, indicator_return: IndicatorReturn) -> list[EvidenceFile]:
    """Every evidence file of the return, of the whole return or of one value, in upload order."""
    return list(indicator_return.evidence.select_related("indicator").order_by("uploaded_at", "id"))


def review_values(*, indicator_return: IndicatorReturn) -> QuerySet[ReturnValue]:
    return ReturnValue.objects.filter(indicator_return=indicator_return).select_related("indicator").prefetch_related(
        Prefetch("flags", queryset=ValueFlag.objects.select_related("decided_by")))


@dataclass(frozen=True)
class ReviewData:
    """What a reviewer reads of one return, the same for the review page and the API: the methodology's
    variables, the values (flags prefetched) by code, last year's approved values, the other cities'
    min/median/max, comments and evidence by code ("" for the whole return), the diff against the
    previous submission and whether the return is clean."""

    variables: dict
    values: dict[str, ReturnValue]
    previous: dict
    positions: dict[str, PeerPosition]
    comments: dict[str, list[ReviewComment]]
    evidence: dict[str, list[EvidenceFile]]
    diff_basis: str
    diff: list[DiffRow]
    clean: bool


def review_data(*, indicator_return: IndicatorReturn) -> ReviewData:
    values = {value.indicator.code: value for value in review_values(indicator_return=indicator_return)}
    basis, diff = return_diff(indicator_return=indicator_return, values=values.values())
    return ReviewData(
        variables=variables(period_spec(period=indicator_return.period)), values=values,
        previous=previous_approved_values(indicator_return=indicator_return),
        positions=peer_positions(peer_values(period=indicator_return.period,
                                             exclude_city_id=indicator_return.city_id)),
        comments=return_comments_by_code(indicator_return=indicator_return),
        evidence=return_evidence_by_code(indicator_return=indicator_return),
        diff_basis=basis, diff=diff, clean=return_is_clean(indicator_return, values=values.values()))
