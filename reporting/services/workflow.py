"""The workflow of a return: start, submit, review (comments, explanations, send back, approve,
bulk approve), amendment and extension.

Every step is one service call in one durable transaction: it locks the return (``select_for_update``),
checks who may do it and whether the return's state allows it, makes the change, writes the audit
event in the same transaction, and queues notifications and the index recompute to run only after
the commit.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import City
from audit.services import audit_record
from reporting.models import (
    EDITABLE_STATES,
    EXPLAINABLE,
    OPEN_STATES,
    ExplanationDecision,
    IndicatorReturn,
    PeriodExtension,
    ReasonCode,
    ReportingPeriod,
    ReturnSnapshot,
    ReturnState,
    ReturnValue,
    ReviewComment,
    ValueFlag,
)
from reporting.notifications import notify_on_commit
from reporting.selectors import (
    local_today,
    return_amend_refusal,
    return_filing_refusal,
    return_is_clean,
    return_values,
    return_withdraw_refusal,
    snapshot_values,
)
from reporting.services.guards import (
    WorkflowError,
    checked_text,
    lock_return,
    raise_refusal,
    require_open_period,
    require_reviewer,
    require_state,
)
from reporting.services.values import ValueContext, flags_refresh, value_context, values_ensure
from reporting.signals import period_values_approved
from reporting.validation import validate, variables

# Messages people see when a step is refused; tests assert on them. Those of the filing window are in
# reporting.selectors.access, REVIEWERS_ONLY in reporting.services.guards.
NOT_SUBMITTABLE = _("A return that is %(state)s cannot be submitted.")
NOT_RESUBMITTABLE = _("Only a return sent back for revision can be resubmitted.")
NOT_SUBMITTED = _("Only a submitted return can be reviewed.")
SEND_BACK_NEEDS_COMMENT = _("Write at least one comment saying what must change before sending the return back.")
EXPLANATION_REJECTED = _("Some explanations were rejected; send the return back instead of approving it.")
AMENDMENT_NEEDS_REASON = _("Give the reason for the amendment.")
EXTENSION_NEEDS_REASON = _("Give the reason for the extension.")
EXTENSION_IN_PAST = _("An extension must run until today or later.")
EXTENSION_NOT_NEEDED = _("The extension must end after the period's lock date (%(date)s).")
SUBMIT_HAS_PROBLEMS = _("The return cannot be submitted yet:")
EXPLAIN_FLAGGED = _("%(code)s: explain the flagged value before submitting.")
REVISE_REJECTED = _("%(code)s: the reviewer rejected the explanation; correct the value or revise the explanation.")


# Starting a return.

@transaction.atomic(durable=True)
def return_start(*, period: ReportingPeriod, city: City, actor, ip_address: str | None = None) -> IndicatorReturn:
    """The city's open revision for the period, created as an empty draft if there is none."""
    existing = IndicatorReturn.objects.filter(city=city, period=period, state__in=OPEN_STATES).first()
    if existing is not None:
        return existing
    draft = IndicatorReturn(city=city, period=period)
    raise_refusal(return_filing_refusal(actor, draft))
    if IndicatorReturn.objects.filter(city=city, period=period, state=ReturnState.APPROVED).exists():
        # An approved return changes only through an amendment with a reason.
        raise WorkflowError(_("The city's return for this period is approved; reopen it for an amendment."),
                            code="approved")
    draft.revision = (IndicatorReturn.objects.filter(city=city, period=period).aggregate(
        top=models.Max("revision"))["top"] or 0) + 1
    draft.save()
    values_ensure(draft)
    audit_record(actor=actor, event_type="return.start", obj=draft, ip_address=ip_address)
    return draft


# Submission.

class SubmissionProblem(str):
    """One reason a return cannot be submitted: the text people read, with the indicator and a machine code
    the API reports beside it (ccfi_portal.api_errors)."""

    def __new__(cls, text, *, indicator: str | None, code: str):
        problem = super().__new__(cls, text)
        problem.indicator, problem.code = indicator, code
        return problem


def submission_problems(*, indicator_return: IndicatorReturn, context: ValueContext | None = None,
                        rows: dict[str, ReturnValue] | None = None) -> list[str]:
    """Why the return cannot be submitted yet: errors, missing values, unexplained warnings. ``rows``
    may be the return's values by code, already loaded by the caller."""
    context = context or value_context(indicator_return)
    if rows is None:
        rows = return_values(indicator_return=indicator_return)
    result = validate(context.spec, raw={}, stored={code: row.value for code, row in rows.items()},
                                 previous=context.previous, peers=context.peers, for_submission=True)
    problems = [SubmissionProblem(finding.render(), indicator=finding.code or None, code=finding.check)
                for finding in result.errors]
    rejected = set(ValueFlag.objects.filter(value__indicator_return=indicator_return,
                                            decision=ExplanationDecision.REJECTED)
                   .values_list("value__indicator__code", flat=True))
    for code in variables(context.spec):
        row = rows.get(code)
        if code in result.codes_needing_explanation() and row is not None and not row.explanation.strip():
            problems.append(SubmissionProblem(str(EXPLAIN_FLAGGED) % {"code": code}, indicator=code,
                                              code="explanation_missing"))
        elif code in rejected:
            problems.append(SubmissionProblem(str(REVISE_REJECTED) % {"code": code}, indicator=code,
                                              code="explanation_rejected"))
    return problems


@transaction.atomic(durable=True)
def return_submit(*, indicator_return: IndicatorReturn, actor, ip_address: str | None = None) -> IndicatorReturn:
    """Submit (or resubmit after a send-back): complete, no errors, every warning explained."""
    indicator_return = lock_return(indicator_return)
    raise_refusal(return_filing_refusal(actor, indicator_return))
    require_state(indicator_return, EDITABLE_STATES, NOT_SUBMITTABLE, "not_submittable")
    problems = submission_problems(indicator_return=indicator_return)
    if problems:
        raise WorkflowError([WorkflowError(SUBMIT_HAS_PROBLEMS, code="incomplete"),
                             *(WorkflowError(problem, code=problem.code) for problem in problems)])
    resubmission = indicator_return.state == ReturnState.RETURNED
    now = timezone.now()
    indicator_return.state = ReturnState.SUBMITTED
    indicator_return.submitted_at = now
    indicator_return.first_submitted_at = indicator_return.first_submitted_at or now
    indicator_return.submission_count += 1
    indicator_return.save(update_fields=["state", "submitted_at", "first_submitted_at", "submission_count",
                                         "updated_at"])
    ReturnSnapshot.objects.create(indicator_return=indicator_return, number=indicator_return.submission_count,
                                  taken_by=actor, values=snapshot_values(indicator_return))
    # The due date is for the first revision (as on the completeness board): an amendment is never late.
    on_time = (timezone.localtime(indicator_return.first_submitted_at).date() <= indicator_return.period.due_on
               if indicator_return.revision == 1 else None)
    audit_record(actor=actor, event_type="return.resubmit" if resubmission else "return.submit",
                 obj=indicator_return, ip_address=ip_address,
                 details={"submission": indicator_return.submission_count, "on_time": on_time})
    notify_on_commit(event="submitted", indicator_return=indicator_return, actor=actor)
    return indicator_return


def return_resubmit(*, indicator_return: IndicatorReturn, actor, ip_address: str | None = None) -> IndicatorReturn:
    """Submit again after a send-back."""
    if indicator_return.state != ReturnState.RETURNED:
        raise WorkflowError(NOT_RESUBMITTABLE, code="not_returned")
    return return_submit(indicator_return=indicator_return, actor=actor, ip_address=ip_address)


# Review.

@dataclass(frozen=True)
class CommentInput:
    text: str
    reason_code: str = ReasonCode.OTHER
    indicator_code: str | None = None


def _comment_create(*, indicator_return: IndicatorReturn, actor, comment: CommentInput) -> ReviewComment:
    indicator = None
    if comment.indicator_code:
        indicator = indicator_return.period.methodology.indicators.get(code=comment.indicator_code)
    if comment.reason_code not in ReasonCode.values:
        raise WorkflowError(_("Choose a reason for the comment."), code="reason")
    text = checked_text(comment.text, field=_("comment"), limit=4000)
    if not text:
        raise WorkflowError(_("A comment needs some text."), code="empty_comment")
    return ReviewComment.objects.create(indicator_return=indicator_return, indicator=indicator,
                                        reason_code=comment.reason_code, text=text, author=actor,
                                        submission_round=indicator_return.submission_count)


@transaction.atomic(durable=True)
def review_comment_add(*, indicator_return: IndicatorReturn, actor, comment: CommentInput,
                       ip_address: str | None = None) -> ReviewComment:
    """A reviewer's comment on one value (or the whole return) of a submitted return."""
    require_reviewer(actor)
    indicator_return = lock_return(indicator_return)
    require_open_period(indicator_return.period)
    require_state(indicator_return, (ReturnState.SUBMITTED,), NOT_SUBMITTED, "not_submitted")
    created = _comment_create(indicator_return=indicator_return, actor=actor, comment=comment)
    audit_record(actor=actor, event_type="return.comment", obj=indicator_return, ip_address=ip_address,
                 details={"indicator": comment.indicator_code or "", "reason": comment.reason_code})
    return created


@transaction.atomic(durable=True)
def value_explanation_review(*, value: ReturnValue, actor, decision: str, comments: Iterable[CommentInput] = (),
                             ip_address: str | None = None) -> int:
    """Accept or reject the filer's explanation of a flagged value, with the comments the reviewer has written so
    far (saved in the same transaction, so that deciding never loses them); returns the flags decided."""
    require_reviewer(actor)
    indicator_return = lock_return(value.indicator_return)
    require_open_period(indicator_return.period)
    require_state(indicator_return, (ReturnState.SUBMITTED,), NOT_SUBMITTED, "not_submitted")
    if decision not in (ExplanationDecision.ACCEPTED, ExplanationDecision.REJECTED):
        raise WorkflowError(_("Accept or reject the explanation."), code="decision")
    decided = ValueFlag.objects.filter(value=value, severity__in=EXPLAINABLE).update(
        decision=decision, decided_by=actor, decided_at=timezone.now())
    written = [_comment_create(indicator_return=indicator_return, actor=actor, comment=comment) for comment in comments]
    audit_record(actor=actor, event_type="return.explanation_review", obj=indicator_return, ip_address=ip_address,
                 details={"indicator": value.indicator.code, "decision": decision, "comments": len(written)})
    return decided


@transaction.atomic(durable=True)
def return_send_back(*, indicator_return: IndicatorReturn, actor, comments: Iterable[CommentInput] = (),
                     ip_address: str | None = None) -> IndicatorReturn:
    """Send a submitted return back to the city with at least one comment on what must change."""
    require_reviewer(actor)
    indicator_return = lock_return(indicator_return)
    require_open_period(indicator_return.period)
    require_state(indicator_return, (ReturnState.SUBMITTED,), NOT_SUBMITTED, "not_submitted")
    for comment in comments:
        _comment_create(indicator_return=indicator_return, actor=actor, comment=comment)
    round_comments = indicator_return.comments.filter(submission_round=indicator_return.submission_count).count()
    if not round_comments:
        raise WorkflowError(SEND_BACK_NEEDS_COMMENT, code="needs_comment")
    indicator_return.state = ReturnState.RETURNED
    indicator_return.returned_at = timezone.now()
    indicator_return.save(update_fields=["state", "returned_at", "updated_at"])
    audit_record(actor=actor, event_type="return.send_back", obj=indicator_return, ip_address=ip_address,
                 details={"comments": round_comments, "submission": indicator_return.submission_count})
    notify_on_commit(event="returned", indicator_return=indicator_return, actor=actor)
    return indicator_return


def _approve_locked(indicator_return: IndicatorReturn, actor, ip_address, *, bulk: bool = False) -> IndicatorReturn:
    require_open_period(indicator_return.period)
    require_state(indicator_return, (ReturnState.SUBMITTED,), NOT_SUBMITTED, "not_submitted")
    flags = ValueFlag.objects.filter(value__indicator_return=indicator_return, severity__in=EXPLAINABLE)
    if flags.filter(decision=ExplanationDecision.REJECTED).exists():
        raise WorkflowError(EXPLANATION_REJECTED, code="rejected_explanation")
    now = timezone.now()
    # Approving accepts the explanations the reviewer has not ruled on one by one.
    accepted = flags.filter(decision=ExplanationDecision.PENDING).update(
        decision=ExplanationDecision.ACCEPTED, decided_by=actor, decided_at=now)
    replaced = None
    if indicator_return.amends_id:
        replaced = IndicatorReturn.objects.select_for_update().get(pk=indicator_return.amends_id)
        if replaced.state == ReturnState.APPROVED:
            replaced.state = ReturnState.SUPERSEDED
            replaced.superseded_at = now
            replaced.save(update_fields=["state", "superseded_at", "updated_at"])
            audit_record(actor=actor, event_type="return.supersede", obj=replaced, ip_address=ip_address,
                         details={"by_revision": indicator_return.revision})
    indicator_return.state = ReturnState.APPROVED
    indicator_return.approved_at = now
    indicator_return.save(update_fields=["state", "approved_at", "updated_at"])
    audit_record(actor=actor, event_type="return.approve", obj=indicator_return, ip_address=ip_address,
                 details={"explanations_accepted": accepted, "bulk": bulk,
                          "replaces_revision": replaced.revision if replaced else None})
    notify_on_commit(event="approved", indicator_return=indicator_return, actor=actor)
    return indicator_return


def _announce_approval(period_id: int) -> None:
    """Tell whoever depends on approved values (the index) inside this transaction; reporting does not
    know what reacts (reporting.signals)."""
    period_values_approved.send(sender=ReportingPeriod, period_id=period_id)


@transaction.atomic(durable=True)
def return_approve(*, indicator_return: IndicatorReturn, actor, ip_address: str | None = None) -> IndicatorReturn:
    """Approve a submitted return; the index of its period is recomputed after the commit."""
    require_reviewer(actor)
    indicator_return = _approve_locked(lock_return(indicator_return), actor, ip_address)
    _announce_approval(indicator_return.period_id)
    return indicator_return


@dataclass
class BulkApproveOutcome:
    approved: list[IndicatorReturn] = field(default_factory=list)
    skipped: list[tuple[IndicatorReturn, str]] = field(default_factory=list)


@transaction.atomic(durable=True)
def returns_bulk_approve(*, returns: Iterable[IndicatorReturn], actor,
                         ip_address: str | None = None) -> BulkApproveOutcome:
    """Approve several clean returns (submitted, no warning or error flag) at once; the others are
    skipped with the reason. One recompute per period follows the commit."""
    require_reviewer(actor)
    outcome = BulkApproveOutcome()
    for item in sorted(returns, key=lambda each: each.pk):  # a fixed lock order: no deadlock between two bulks
        locked = lock_return(item)
        if not return_is_clean(locked):
            outcome.skipped.append((locked, str(_("not a clean submitted return"))))
            continue
        try:
            outcome.approved.append(_approve_locked(locked, actor, ip_address, bulk=True))
        except WorkflowError as error:
            outcome.skipped.append((locked, " ".join(error.messages)))
    for period_id in sorted({item.period_id for item in outcome.approved}):
        _announce_approval(period_id)
    return outcome


# Amendments and extensions.

@transaction.atomic(durable=True)
def return_reopen_for_amendment(*, indicator_return: IndicatorReturn, actor, reason: str,
                                ip_address: str | None = None) -> IndicatorReturn:
    """Open a new draft revision of an approved return, with its values; the approved revision
    stays in force until the amendment is approved."""
    approved = lock_return(indicator_return)
    raise_refusal(return_amend_refusal(actor, approved))
    reason = checked_text(reason, field=_("reason for the amendment"), limit=4000)
    if not reason:
        raise WorkflowError(AMENDMENT_NEEDS_REASON, code="needs_reason")
    top = IndicatorReturn.objects.filter(city=approved.city, period=approved.period).aggregate(
        top=models.Max("revision"))["top"]
    amendment = IndicatorReturn.objects.create(city=approved.city, period=approved.period, revision=top + 1,
                                               amends=approved, amendment_reason=reason,
                                               is_illustrative=approved.is_illustrative)
    ReturnValue.objects.bulk_create([
        ReturnValue(indicator_return=amendment, indicator_id=value.indicator_id, value=value.value,
                    observation_status=value.observation_status, source_note=value.source_note,
                    explanation=value.explanation)
        for value in approved.values.all()
    ])
    values_ensure(amendment)
    flags_refresh(indicator_return=amendment, rows=return_values(indicator_return=amendment),
                   context=value_context(amendment))
    audit_record(actor=actor, event_type="return.amend", obj=amendment, ip_address=ip_address,
                 details={"amends_revision": approved.revision, "reason": reason.strip()[:500]})
    notify_on_commit(event="amendment", indicator_return=amendment, actor=actor)
    return amendment


@transaction.atomic(durable=True)
def return_withdraw_amendment(*, indicator_return: IndicatorReturn, actor,
                              ip_address: str | None = None) -> IndicatorReturn:
    """Withdraw a draft amendment: it is kept, marked withdrawn (its change records cannot be deleted), and the
    approved revision it amends stays in force; a new amendment may be opened afterwards."""
    indicator_return = lock_return(indicator_return)
    raise_refusal(return_withdraw_refusal(actor, indicator_return))
    indicator_return.state = ReturnState.WITHDRAWN
    indicator_return.save(update_fields=["state", "updated_at"])
    audit_record(actor=actor, event_type="return.withdraw", obj=indicator_return, ip_address=ip_address,
                 details={"revision": indicator_return.revision,
                          "amends_revision": indicator_return.amends.revision if indicator_return.amends else None})
    return indicator_return


@transaction.atomic(durable=True)
def period_extension_grant(*, period: ReportingPeriod, city: City, until: datetime.date, reason: str, actor,
                           ip_address: str | None = None) -> PeriodExtension:
    """Let one city's filers edit after the lock date, until ``until``."""
    require_reviewer(actor)
    period = ReportingPeriod.objects.select_for_update().get(pk=period.pk)
    require_open_period(period)
    reason = checked_text(reason, field=_("reason"), limit=1000)
    if not reason:
        raise WorkflowError(EXTENSION_NEEDS_REASON, code="needs_reason")
    if until < local_today():
        raise WorkflowError(EXTENSION_IN_PAST, code="past")
    if period.locks_on and until <= period.locks_on:
        raise WorkflowError(EXTENSION_NOT_NEEDED, code="not_after_lock",
                            params={"date": f"{period.locks_on:%Y-%m-%d}"})
    extension = PeriodExtension.objects.create(period=period, city=city, until=until, reason=reason,
                                               granted_by=actor)
    audit_record(actor=actor, event_type="period.extension_grant", obj=extension, ip_address=ip_address,
                 details={"city": city.code, "until": until.isoformat(), "reason": reason.strip()[:500]})
    notify_on_commit(event="extension", indicator_return=None, actor=actor, city=city, period=period,
            extra={"until": until.isoformat()})
    return extension
