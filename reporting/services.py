"""Services of the reporting app: functions that change state.

Every workflow step is one service call in one durable transaction: it locks the return
(``select_for_update``), checks who may do it and whether the return's state allows it, makes
the change, writes the audit event in the same transaction, and queues notifications and the
index recompute to run only after the commit.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import City
from accounts.permissions import user_is_reviewer
from audit.services import audit_record
from indices.engine.spec import MethodologySpec
from reporting.models import (
    EDITABLE_STATES,
    OPEN_STATES,
    Channel,
    EvidenceFile,
    ExplanationDecision,
    ImportReport,
    ImportState,
    IndicatorReturn,
    PeriodExtension,
    PeriodState,
    ReasonCode,
    ReportingPeriod,
    ReturnSnapshot,
    ReturnState,
    ReturnValue,
    ReviewComment,
    ValueChange,
    ValueFlag,
)
from reporting.selectors import (  # who may change a return: one rule for services and pages
    PERIOD_CLOSED,
    Refusal,
    return_amend_refusal,
    return_edit_refusal,
    return_filing_refusal,
)
from reporting.signals import period_values_approved

# Messages people see when a step is refused; tests assert on them. Those of the filing window are in selectors.
REVIEWERS_ONLY = _("Only reviewers can do this.")
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
STALE_PREVIEW = _("The return changed after this preview; upload the file again.")
IMPORT_HAS_ERRORS = _("The file has errors, so nothing was imported. Correct the rows listed and upload it again.")


class WorkflowError(ValidationError):
    """A step the return's state, the period or the deadline does not allow; shown to the user."""


class EditConflict(Exception):
    """A save from a form that was loaded before someone else saved the return."""

    def __init__(self, *, current_version: int, changes: list[ValueChange]):
        self.current_version = current_version
        self.changes = changes
        super().__init__(f"the return is at version {current_version}")


# Checks shared by the steps.

def _lock(indicator_return: IndicatorReturn) -> IndicatorReturn:
    # Two people acting on one return at once (two filers saving, a reviewer approving while the
    # filer saves): the row lock makes the second wait and then see the first one's result.
    return IndicatorReturn.objects.select_for_update().select_related("period__methodology", "city").get(
        pk=indicator_return.pk)


def _require_reviewer(actor) -> None:
    if not user_is_reviewer(actor):
        raise PermissionDenied(REVIEWERS_ONLY)


def _require_open_period(period: ReportingPeriod) -> None:
    if period.state == PeriodState.CLOSED:
        raise WorkflowError(PERIOD_CLOSED, code="closed")


def _refuse(refusal: Refusal | None) -> None:
    """Raise the refusal a selector found (pages hide their forms by the same one): someone who is not the
    city's filer is forbidden, the rest is a workflow error."""
    if refusal is None:
        return
    if refusal.forbidden:
        raise PermissionDenied(refusal.message)
    raise WorkflowError(refusal.message, code=refusal.code, params=refusal.params)


def _require_state(indicator_return: IndicatorReturn, states, message, code: str) -> None:
    if indicator_return.state not in states:
        raise WorkflowError(message, code=code, params={"state": indicator_return.get_state_display()})


def _notify(**kwargs) -> None:
    from reporting.notifications import notify_on_commit

    notify_on_commit(**kwargs)


# Starting a return.

@transaction.atomic(durable=True)
def return_start(*, period: ReportingPeriod, city: City, actor, ip_address: str | None = None) -> IndicatorReturn:
    """The city's open revision for the period, created as an empty draft if there is none."""
    existing = IndicatorReturn.objects.filter(city=city, period=period, state__in=OPEN_STATES).first()
    if existing is not None:
        return existing
    draft = IndicatorReturn(city=city, period=period)
    _refuse(return_filing_refusal(actor, draft))
    if IndicatorReturn.objects.filter(city=city, period=period, state=ReturnState.APPROVED).exists():
        # An approved return changes only through an amendment with a reason.
        raise WorkflowError(_("The city's return for this period is approved; reopen it for an amendment."),
                            code="approved")
    draft.revision = (IndicatorReturn.objects.filter(city=city, period=period).aggregate(
        top=models.Max("revision"))["top"] or 0) + 1
    draft.save()
    _values_ensure(draft)
    audit_record(actor=actor, event_type="return.start", obj=draft, ip_address=ip_address)
    return draft


def _values_ensure(indicator_return: IndicatorReturn) -> None:
    """One row per indicator and context variable, empty until filled."""
    have = set(indicator_return.values.values_list("indicator_id", flat=True))
    ReturnValue.objects.bulk_create([
        ReturnValue(indicator_return=indicator_return, indicator=indicator)
        for indicator in indicator_return.period.methodology.indicators.all() if indicator.pk not in have
    ])


# Entering values (form, import, API share this path).

KEEP = object()  # a field the input does not touch


@dataclass
class ValueEntry:
    """What was entered for one value; fields left as KEEP are not changed."""

    value: object = KEEP
    observation_status: object = KEEP
    source_note: object = KEEP
    explanation: object = KEEP


@dataclass(frozen=True)
class Change:
    """One field of one value that a save changes (stored as a ValueChange)."""

    indicator: object  # indices.models.Indicator
    field: str
    old: str
    new: str


@dataclass
class SaveOutcome:
    result: object  # reporting.validation.ValidationResult
    changes: list[Change] = field(default_factory=list)
    edit_version: int = 0

    @property
    def changed(self) -> int:
        return len(self.changes)


@dataclass
class _Context:
    spec: MethodologySpec
    previous: dict[str, Decimal]
    peers: dict[str, list[Decimal]]


def _context(indicator_return: IndicatorReturn, *, codes: Iterable[str] | None = None) -> _Context:
    """What the checks compare a return with; ``codes`` limits the peers read to those values."""
    from reporting.selectors import peer_values, period_spec, previous_approved_values

    return _Context(spec=period_spec(period=indicator_return.period),
                    previous=previous_approved_values(indicator_return=indicator_return),
                    peers=peer_values(period=indicator_return.period, exclude_city_id=indicator_return.city_id,
                                      codes=codes))


def _stored_text(field_name: str, value) -> str:
    from reporting.validation import number_text

    return number_text(value) if field_name == "value" else str(value or "")


def _values_apply(*, indicator_return: IndicatorReturn, actor, entries: Mapping[str, ValueEntry], channel: str,
                  context: _Context | None = None, ip_address: str | None = None,
                  rows: dict[str, ReturnValue] | None = None, flags: list[ValueFlag] | None = None,
                  write: bool = True, batch: _Batch | None = None) -> SaveOutcome:
    """Validate the entries, store what is admitted, record every actual change, refresh the flags.

    Runs inside the caller's transaction with the return locked. A value refused by admission
    (type, decimals, hard bounds) keeps its stored value; saving an unchanged value writes nothing.
    ``rows`` and ``flags`` may be preloaded by a caller handling many returns; ``write=False``
    computes the outcome (findings and changes) without storing it, for a preview.
    """
    from reporting import validation
    from reporting.selectors import return_values

    context = context or _context(indicator_return)
    if rows is None:
        rows = return_values(indicator_return=indicator_return)
    raw = {code: entry.value for code, entry in entries.items() if entry.value is not KEEP}
    result = validation.validate(context.spec, raw=raw, stored={code: row.value for code, row in rows.items()},
                                 previous=context.previous, peers=context.peers)
    refused = result.rejected
    changes: list[Change] = []
    touched: dict[int, ReturnValue] = {}
    explained: set[int] = set()
    new_version = indicator_return.edit_version + 1
    for code, entry in entries.items():
        row = rows.get(code)
        if row is None:
            continue
        updates = {}
        if entry.value is not KEEP and code not in refused and result.accepted.get(code) != row.value:
            updates["value"] = result.accepted.get(code)
        if entry.observation_status is not KEEP:
            status, errors = validation.admit_status(code, entry.observation_status)
            result.findings.extend(errors)
            if status and status != row.observation_status:
                updates["observation_status"] = status
        for name, limit in (("source_note", 500), ("explanation", 4000)):
            given = getattr(entry, name)
            if given is not KEEP and str(given or "").strip()[:limit] != getattr(row, name):
                updates[name] = str(given or "").strip()[:limit]
        for name, new in updates.items():
            changes.append(Change(indicator=row.indicator, field=name, old=_stored_text(name, getattr(row, name)),
                                  new=_stored_text(name, new)))
            setattr(row, name, new)
            touched[row.pk] = row
            if name == "explanation":
                explained.add(row.pk)
    if changes and write:
        change_rows = _change_rows(changes, indicator_return=indicator_return, actor=actor, channel=channel,
                                   edit_version=new_version)
        if batch is not None:  # the caller writes many returns' values at once
            batch.values.extend(touched.values())
            batch.changes.extend(change_rows)
            batch.bumped.append(indicator_return.pk)
        else:
            _values_write(list(touched.values()))
            _changes_write(change_rows)
            IndicatorReturn.objects.filter(pk=indicator_return.pk).update(edit_version=new_version,
                                                                          updated_at=timezone.now())
        indicator_return.edit_version = new_version
        _flags_refresh(indicator_return=indicator_return, rows=rows, context=context, explained=explained,
                       existing=flags, batch=batch)
        audit_record(actor=actor, event_type="return.values_change", obj=indicator_return, ip_address=ip_address,
                     details={"channel": channel, "changes": len(changes), "edit_version": new_version,
                              "codes": sorted({change.indicator.code for change in changes})})
    return SaveOutcome(result=result, changes=changes, edit_version=indicator_return.edit_version)


def value_check(*, indicator_return: IndicatorReturn, code: str, raw: object) -> list | None:
    """What saving ``raw`` as the value of ``code`` would say (the form's inline check): the findings
    of a save with writing switched off, reading one indicator's peers. None if ``code`` is not a
    value of the return's methodology."""
    from reporting import validation

    context = _context(indicator_return, codes=[code])
    if code not in validation.variables(context.spec):
        return None
    outcome = _values_apply(indicator_return=indicator_return, actor=None, entries={code: ValueEntry(value=raw)},
                            channel=Channel.FORM, context=context, write=False)
    return outcome.result.for_code(code)


def _values_write(rows: list[ReturnValue]) -> None:
    """Store the four entered fields of many values in one statement.

    Django's bulk_update() builds a CASE expression per row and field, which costs about a second
    per thousand values in Python alone; an import of 300 cities writes ten thousand.
    """
    if not rows:
        return
    table = connection.ops.quote_name(ReturnValue._meta.db_table)
    value_field = ReturnValue._meta.get_field("value")
    params = [(row.pk, value_field.get_db_prep_save(row.value, connection), row.observation_status, row.source_note,
               row.explanation) for row in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY into a scratch table, then one UPDATE: executemany costs a round trip (and
            # client-side quoting) per row on PostgreSQL.
            cursor.execute("CREATE TEMPORARY TABLE reporting_value_write (id bigint, value numeric, "
                           "observation_status text, source_note text, explanation text) ON COMMIT DROP")
            with cursor.cursor.copy("COPY reporting_value_write FROM STDIN") as copy:
                for row in params:
                    copy.write_row(row)
            cursor.execute(f"UPDATE {table} AS t SET value = v.value, observation_status = v.observation_status, "  # noqa: S608
                           "source_note = v.source_note, explanation = v.explanation "
                           "FROM reporting_value_write AS v WHERE t.id = v.id")
            cursor.execute("DROP TABLE reporting_value_write")
        else:
            cursor.executemany(f"UPDATE {table} SET value = %s, observation_status = %s, "  # noqa: S608
                               "source_note = %s, explanation = %s WHERE id = %s",
                               [(*row[1:], row[0]) for row in params])


CHANGE_COLUMNS = ("indicator_return", "indicator", "field", "old", "new", "actor", "changed_at", "channel",
                  "edit_version")


@dataclass
class _Batch:
    """Writes collected over many returns and stored together (an import of hundreds of cities)."""

    values: list[ReturnValue] = field(default_factory=list)
    changes: list[tuple] = field(default_factory=list)
    bumped: list[int] = field(default_factory=list)  # returns whose edit version goes up by one
    stale_flags: list[int] = field(default_factory=list)
    new_flags: list[ValueFlag] = field(default_factory=list)
    explained: list[int] = field(default_factory=list)

    def flush(self) -> None:
        _values_write(self.values)
        _changes_write(self.changes)
        if self.bumped:
            IndicatorReturn.objects.filter(pk__in=self.bumped).update(edit_version=models.F("edit_version") + 1,
                                                                      updated_at=timezone.now())
        _flags_write(stale=self.stale_flags, new=self.new_flags, explained=self.explained)
        self.__init__()


def _change_rows(changes: list[Change], *, indicator_return: IndicatorReturn, actor, channel: str,
                 edit_version: int) -> list[tuple]:
    changed_at = ValueChange._meta.get_field("changed_at").get_db_prep_save(timezone.now(), connection)
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    return [(indicator_return.pk, change.indicator.pk, change.field, change.old, change.new, actor_id, changed_at,
             str(channel), edit_version) for change in changes]


def _changes_write(rows: list[tuple]) -> None:
    """Append ValueChange records in few statements (bulk_create prepares every field of every
    object in Python, which dominates an import of ten thousand values)."""
    if not rows:
        return
    names = CHANGE_COLUMNS
    columns = ", ".join(connection.ops.quote_name(ValueChange._meta.get_field(name).column) for name in names)
    table = connection.ops.quote_name(ValueChange._meta.db_table)
    placeholders = f"({', '.join(['%s'] * len(names))})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES {placeholders}", rows)  # noqa: S608


def _flags_refresh(*, indicator_return: IndicatorReturn, rows: dict[str, ReturnValue], context: _Context,
                   explained: Iterable[int] = (), existing: list[ValueFlag] | None = None,
                   batch: _Batch | None = None) -> None:
    """Store the warnings and notes the stored values raise now; a flag that changed, or whose
    value's explanation changed, awaits the reviewer's decision again."""
    from reporting import validation

    findings = validation.assess(context.spec, {code: row.value for code, row in rows.items()},
                                 previous=context.previous, peers=context.peers)
    wanted = {(rows[f.code].pk, f.check): f for f in findings if f.code in rows}
    explained = set(explained)
    if existing is None:
        existing = list(ValueFlag.objects.filter(value__indicator_return=indicator_return))
    existing = {(flag.value_id, flag.check_code): flag for flag in existing}
    stale = [flag.pk for key, flag in existing.items() if key not in wanted or (
        (flag.severity, flag.message, flag.params) != (wanted[key].severity, wanted[key].message, wanted[key].params))]
    kept = {key for key, flag in existing.items() if flag.pk not in stale}
    new = [ValueFlag(value_id=value_id, check_code=check, severity=f.severity, message=f.message, params=f.params)
           for (value_id, check), f in wanted.items() if (value_id, check) not in kept]
    if batch is not None:
        batch.stale_flags.extend(stale)
        batch.new_flags.extend(new)
        batch.explained.extend(explained)
        return
    _flags_write(stale=stale, new=new, explained=explained)


def _flags_write(*, stale: list[int], new: list[ValueFlag], explained: Iterable[int]) -> None:
    if stale:
        ValueFlag.objects.filter(pk__in=stale).delete()
    if new:
        ValueFlag.objects.bulk_create(new, batch_size=1000)
    if explained:
        # A new explanation goes back to the reviewer.
        ValueFlag.objects.filter(value_id__in=list(explained)).exclude(decision=ExplanationDecision.PENDING).update(
            decision=ExplanationDecision.PENDING, decided_by=None, decided_at=None)


@transaction.atomic(durable=True)
def return_values_save(*, indicator_return: IndicatorReturn, actor, entries: Mapping[str, ValueEntry],
                       expected_version: int | None, channel: str = Channel.FORM,
                       ip_address: str | None = None) -> SaveOutcome:
    """Save a draft, partly filled or not. ``expected_version`` is the edit version the form was
    loaded at: if someone saved since, nothing is written and EditConflict lists their changes."""
    indicator_return = _lock(indicator_return)
    _refuse(return_edit_refusal(actor, indicator_return))
    if expected_version is not None and expected_version != indicator_return.edit_version:
        changes = list(ValueChange.objects.filter(indicator_return=indicator_return,
                                                  edit_version__gt=expected_version)
                       .select_related("actor", "indicator").order_by("changed_at", "id"))
        raise EditConflict(current_version=indicator_return.edit_version, changes=changes)
    return _values_apply(indicator_return=indicator_return, actor=actor, entries=entries, channel=channel,
                         ip_address=ip_address)


# Submission.

def submission_problems(*, indicator_return: IndicatorReturn, context: _Context | None = None,
                        rows: dict[str, ReturnValue] | None = None) -> list[str]:
    """Why the return cannot be submitted yet: errors, missing values, unexplained warnings. ``rows``
    may be the return's values by code, already loaded by the caller."""
    from reporting import validation
    from reporting.selectors import return_values

    context = context or _context(indicator_return)
    if rows is None:
        rows = return_values(indicator_return=indicator_return)
    result = validation.validate(context.spec, raw={}, stored={code: row.value for code, row in rows.items()},
                                 previous=context.previous, peers=context.peers, for_submission=True)
    problems = [finding.render() for finding in result.errors]
    rejected = set(ValueFlag.objects.filter(value__indicator_return=indicator_return,
                                            decision=ExplanationDecision.REJECTED)
                   .values_list("value__indicator__code", flat=True))
    for code in validation.variables(context.spec):
        row = rows.get(code)
        if code in result.codes_needing_explanation() and row is not None and not row.explanation.strip():
            problems.append(str(EXPLAIN_FLAGGED) % {"code": code})
        elif code in rejected:
            problems.append(str(REVISE_REJECTED) % {"code": code})
    return problems


@transaction.atomic(durable=True)
def return_submit(*, indicator_return: IndicatorReturn, actor, ip_address: str | None = None) -> IndicatorReturn:
    """Submit (or resubmit after a send-back): complete, no errors, every warning explained."""
    indicator_return = _lock(indicator_return)
    _refuse(return_filing_refusal(actor, indicator_return))
    _require_state(indicator_return, EDITABLE_STATES, NOT_SUBMITTABLE, "not_submittable")
    problems = submission_problems(indicator_return=indicator_return)
    if problems:
        raise WorkflowError([SUBMIT_HAS_PROBLEMS, *problems], code="incomplete")
    resubmission = indicator_return.state == ReturnState.RETURNED
    now = timezone.now()
    indicator_return.state = ReturnState.SUBMITTED
    indicator_return.submitted_at = now
    indicator_return.first_submitted_at = indicator_return.first_submitted_at or now
    indicator_return.submission_count += 1
    indicator_return.save(update_fields=["state", "submitted_at", "first_submitted_at", "submission_count",
                                         "updated_at"])
    from reporting.selectors import snapshot_values

    ReturnSnapshot.objects.create(indicator_return=indicator_return, number=indicator_return.submission_count,
                                  taken_by=actor, values=snapshot_values(indicator_return))
    on_time = timezone.localtime(indicator_return.first_submitted_at).date() <= indicator_return.period.due_on
    audit_record(actor=actor, event_type="return.resubmit" if resubmission else "return.submit",
                 obj=indicator_return, ip_address=ip_address,
                 details={"submission": indicator_return.submission_count, "on_time": on_time})
    _notify(event="submitted", indicator_return=indicator_return, actor=actor)
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
    text = comment.text.strip()
    if not text:
        raise WorkflowError(_("A comment needs some text."), code="empty_comment")
    return ReviewComment.objects.create(indicator_return=indicator_return, indicator=indicator,
                                        reason_code=comment.reason_code, text=text[:4000], author=actor,
                                        submission_round=indicator_return.submission_count)


@transaction.atomic(durable=True)
def review_comment_add(*, indicator_return: IndicatorReturn, actor, comment: CommentInput,
                       ip_address: str | None = None) -> ReviewComment:
    """A reviewer's comment on one value (or the whole return) of a submitted return."""
    _require_reviewer(actor)
    indicator_return = _lock(indicator_return)
    _require_open_period(indicator_return.period)
    _require_state(indicator_return, (ReturnState.SUBMITTED,), NOT_SUBMITTED, "not_submitted")
    created = _comment_create(indicator_return=indicator_return, actor=actor, comment=comment)
    audit_record(actor=actor, event_type="return.comment", obj=indicator_return, ip_address=ip_address,
                 details={"indicator": comment.indicator_code or "", "reason": comment.reason_code})
    return created


@transaction.atomic(durable=True)
def value_explanation_review(*, value: ReturnValue, actor, decision: str,
                             ip_address: str | None = None) -> int:
    """Accept or reject the filer's explanation of a flagged value; returns the flags decided."""
    _require_reviewer(actor)
    indicator_return = _lock(value.indicator_return)
    _require_open_period(indicator_return.period)
    _require_state(indicator_return, (ReturnState.SUBMITTED,), NOT_SUBMITTED, "not_submitted")
    if decision not in (ExplanationDecision.ACCEPTED, ExplanationDecision.REJECTED):
        raise WorkflowError(_("Accept or reject the explanation."), code="decision")
    decided = ValueFlag.objects.filter(value=value, severity__in=("warning", "error")).update(
        decision=decision, decided_by=actor, decided_at=timezone.now())
    audit_record(actor=actor, event_type="return.explanation_review", obj=indicator_return, ip_address=ip_address,
                 details={"indicator": value.indicator.code, "decision": decision})
    return decided


@transaction.atomic(durable=True)
def return_send_back(*, indicator_return: IndicatorReturn, actor, comments: Iterable[CommentInput] = (),
                     ip_address: str | None = None) -> IndicatorReturn:
    """Send a submitted return back to the city with at least one comment on what must change."""
    _require_reviewer(actor)
    indicator_return = _lock(indicator_return)
    _require_open_period(indicator_return.period)
    _require_state(indicator_return, (ReturnState.SUBMITTED,), NOT_SUBMITTED, "not_submitted")
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
    _notify(event="returned", indicator_return=indicator_return, actor=actor)
    return indicator_return


def _approve_locked(indicator_return: IndicatorReturn, actor, ip_address, *, bulk: bool = False) -> IndicatorReturn:
    _require_open_period(indicator_return.period)
    _require_state(indicator_return, (ReturnState.SUBMITTED,), NOT_SUBMITTED, "not_submitted")
    flags = ValueFlag.objects.filter(value__indicator_return=indicator_return, severity__in=("warning", "error"))
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
    _notify(event="approved", indicator_return=indicator_return, actor=actor)
    return indicator_return


def _announce_approval(period_id: int) -> None:
    """Tell whoever depends on approved values (the index) inside this transaction; reporting does not
    know what reacts (reporting.signals)."""
    period_values_approved.send(sender=ReportingPeriod, period_id=period_id)


@transaction.atomic(durable=True)
def return_approve(*, indicator_return: IndicatorReturn, actor, ip_address: str | None = None) -> IndicatorReturn:
    """Approve a submitted return; the index of its period is recomputed after the commit."""
    _require_reviewer(actor)
    indicator_return = _approve_locked(_lock(indicator_return), actor, ip_address)
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
    from reporting.selectors import return_is_clean

    _require_reviewer(actor)
    outcome = BulkApproveOutcome()
    for item in sorted(returns, key=lambda each: each.pk):  # a fixed lock order: no deadlock between two bulks
        locked = _lock(item)
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
    approved = _lock(indicator_return)
    _refuse(return_amend_refusal(actor, approved))
    if not reason.strip():
        raise WorkflowError(AMENDMENT_NEEDS_REASON, code="needs_reason")
    top = IndicatorReturn.objects.filter(city=approved.city, period=approved.period).aggregate(
        top=models.Max("revision"))["top"]
    amendment = IndicatorReturn.objects.create(city=approved.city, period=approved.period, revision=top + 1,
                                               amends=approved, amendment_reason=reason.strip()[:4000],
                                               is_illustrative=approved.is_illustrative)
    ReturnValue.objects.bulk_create([
        ReturnValue(indicator_return=amendment, indicator_id=value.indicator_id, value=value.value,
                    observation_status=value.observation_status, source_note=value.source_note,
                    explanation=value.explanation)
        for value in approved.values.all()
    ])
    _values_ensure(amendment)
    from reporting.selectors import return_values

    _flags_refresh(indicator_return=amendment, rows=return_values(indicator_return=amendment),
                   context=_context(amendment))
    audit_record(actor=actor, event_type="return.amend", obj=amendment, ip_address=ip_address,
                 details={"amends_revision": approved.revision, "reason": reason.strip()[:500]})
    _notify(event="amendment", indicator_return=amendment, actor=actor)
    return amendment


@transaction.atomic(durable=True)
def period_extension_grant(*, period: ReportingPeriod, city: City, until: datetime.date, reason: str, actor,
                           ip_address: str | None = None) -> PeriodExtension:
    """Let one city's filers edit after the lock date, until ``until``."""
    from reporting.selectors import local_today

    _require_reviewer(actor)
    period = ReportingPeriod.objects.select_for_update().get(pk=period.pk)
    _require_open_period(period)
    if not reason.strip():
        raise WorkflowError(EXTENSION_NEEDS_REASON, code="needs_reason")
    if until < local_today():
        raise WorkflowError(EXTENSION_IN_PAST, code="past")
    if period.locks_on and until <= period.locks_on:
        raise WorkflowError(EXTENSION_NOT_NEEDED, code="not_after_lock",
                            params={"date": f"{period.locks_on:%Y-%m-%d}"})
    extension = PeriodExtension.objects.create(period=period, city=city, until=until, reason=reason.strip(),
                                               granted_by=actor)
    audit_record(actor=actor, event_type="period.extension_grant", obj=extension, ip_address=ip_address,
                 details={"city": city.code, "until": until.isoformat(), "reason": reason.strip()[:500]})
    _notify(event="extension", indicator_return=None, actor=actor, city=city, period=period,
            extra={"until": until.isoformat()})
    return extension


# Evidence.

@transaction.atomic(durable=True)
def evidence_upload(*, indicator_return: IndicatorReturn, actor, upload, indicator_code: str | None = None,
                    description: str = "", ip_address: str | None = None) -> EvidenceFile:
    """Attach a PDF, XLSX, PNG or JPEG to the return or to one of its values (type read from content)."""
    from reporting.uploads import EVIDENCE_TYPES, check_upload, limit

    indicator_return = _lock(indicator_return)
    _refuse(return_edit_refusal(actor, indicator_return))
    checked = check_upload(upload, allowed=EVIDENCE_TYPES, max_bytes=limit("REPORTING_EVIDENCE_MAX_BYTES"))
    indicator = None
    if indicator_code:
        indicator = indicator_return.period.methodology.indicators.get(code=indicator_code)
    evidence = EvidenceFile(indicator_return=indicator_return, indicator=indicator, original_name=checked.name,
                            content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
                            description=description.strip()[:300], uploaded_by=actor)
    evidence.file.save(checked.name, upload, save=False)
    evidence.save()
    audit_record(actor=actor, event_type="evidence.upload", obj=indicator_return, ip_address=ip_address,
                 details={"evidence": evidence.pk, "name": checked.name, "size": checked.size,
                          "sha256": checked.sha256, "indicator": indicator_code or ""})
    return evidence


# Import.

@dataclass
class ImportPlan:
    """What a parsed file asks for: entries per return, and every row's own problems."""

    returns: dict[int, IndicatorReturn]
    entries: dict[int, dict[str, ValueEntry]]
    values: dict[int, dict[str, ReturnValue]]  # the stored values of each return, by code
    rows: list[dict]  # {"row", "city", "code", "outcome", "messages": [...], "changes": [...]}


def _import_run(*, plan: ImportPlan, actor, dry_run: bool, ip_address=None) -> tuple[list[dict], dict]:
    """Apply the plan's entries return by return, filling each row's outcome. Must run inside an
    atomic block; the caller rolls it back for a preview or when any row has an error."""
    from reporting.selectors import (
        extensions_until,
        filing_window,
        peer_values_by_city,
        period_spec,
        previous_approved_values_for,
    )

    rows_by_key = {(row["city_id"], row["code"]): row for row in plan.rows if row.get("city_id") and row.get("code")}
    returns_qs = IndicatorReturn.objects.select_related("period__methodology", "city").filter(
        pk__in=list(plan.returns)).order_by("pk")
    if not dry_run:
        # One lock for all the file's returns, in a fixed order (no deadlock with a form save); a preview
        # writes nothing, so it does not make form saves wait.
        returns_qs = returns_qs.select_for_update()
    returns = {item.pk: item for item in returns_qs}
    if returns:
        period = next(iter(returns.values())).period
        spec = period_spec(period=period)
        previous = previous_approved_values_for(city_ids=[item.city_id for item in returns.values()],
                                                data_year=period.data_year)
        peers_by_city = peer_values_by_city(period=period)
        extensions = extensions_until(period=period)
        flags: dict[int, list[ValueFlag]] = {}
        if not dry_run:
            for flag in ValueFlag.objects.filter(value__indicator_return__in=list(returns)).select_related("value"):
                flags.setdefault(flag.value.indicator_return_id, []).append(flag)
        all_peers: dict[str, list[Decimal]] = {}
        for values in peers_by_city.values():
            for code, value in values.items():
                all_peers.setdefault(code, []).append(value)
    batch = _Batch()
    for pk, indicator_return in returns.items():
        _refuse(return_edit_refusal(actor, indicator_return, window=filing_window(
            period=period, city_id=indicator_return.city_id, extended_until=extensions.get(indicator_return.city_id))))
        own = peers_by_city.get(indicator_return.city_id)
        peers = all_peers
        if own:  # the other cities only
            peers = {code: list(values) for code, values in all_peers.items()}
            for code, value in own.items():
                peers[code].remove(value)
        context = _Context(spec=spec, previous=previous.get(indicator_return.city_id, {}), peers=peers)
        outcome = _values_apply(indicator_return=indicator_return, actor=actor, entries=plan.entries.get(pk, {}),
                                channel=Channel.IMPORT, context=context, ip_address=ip_address,
                                rows=plan.values.get(pk), flags=flags.get(pk, []), write=not dry_run, batch=batch)
        for finding in outcome.result.findings:
            row = rows_by_key.get((indicator_return.city_id, finding.code))
            if row is not None:
                row["messages"].append({"severity": finding.severity, "message": finding.message,
                                        "params": finding.params})
        for change in outcome.changes:
            row = rows_by_key.get((indicator_return.city_id, change.indicator.code))
            if row is not None:
                row["changes"].append({"field": change.field, "old": change.old, "new": change.new})
    batch.flush()
    for row in plan.rows:
        severities = {message["severity"] for message in row["messages"]}
        if "error" in severities:
            row["outcome"] = "error"
        elif row["outcome"] == "ignored":
            pass
        elif row["changes"]:
            row["outcome"] = "warning" if "warning" in severities else "changed"
        else:
            row["outcome"] = "warning" if "warning" in severities else "unchanged"
    summary = {key: sum(1 for row in plan.rows if row["outcome"] == key)
               for key in ("changed", "unchanged", "warning", "error", "ignored")}
    summary["rows"] = len(plan.rows)
    summary["changes"] = sum(len(row["changes"]) for row in plan.rows)
    return plan.rows, summary


def values_import_preview(*, period: ReportingPeriod, actor, upload, city: City | None = None,
                          ip_address: str | None = None) -> ImportReport:
    """Check an uploaded XLSX or CSV and preview it: every row's errors, warnings and the values it
    would change, computed by the same code as the confirmation with writing switched off (and in
    a transaction that is rolled back all the same). Nothing is changed; the report (with the file
    and the cells as read) is kept."""
    from reporting.resources import dataset_cells, import_plan_build, read_upload
    from reporting.uploads import IMPORT_TYPES, check_upload, limit

    checked = check_upload(upload, allowed=IMPORT_TYPES, max_bytes=limit("REPORTING_IMPORT_MAX_BYTES"))
    dataset = read_upload(upload, kind=checked.kind)
    cells = dataset_cells(dataset)
    plan = import_plan_build(dataset=dataset, period=period, actor=actor, city=city)
    with transaction.atomic(durable=True):
        rows, summary = _import_run(plan=plan, actor=actor, dry_run=True)
        transaction.set_rollback(True)
    upload.seek(0)
    state = ImportState.REFUSED if summary["error"] else ImportState.PREVIEWED
    versions = {str(pk): item.edit_version for pk, item in plan.returns.items()}
    with transaction.atomic(durable=True):
        report = ImportReport(period=period, city=city, actor=actor, original_name=checked.name,
                              file_format=checked.kind, sha256=checked.sha256, state=state, rows=rows,
                              summary=summary, return_versions=versions, cells=cells)
        report.file.save(checked.name, ContentFile(upload.read()), save=False)
        report.save()
        audit_record(actor=actor, event_type="import.preview", obj=report, ip_address=ip_address,
                     success=not summary["error"], details={"summary": summary, "sha256": checked.sha256})
    return report


@transaction.atomic(durable=True)
def values_import_apply(*, report: ImportReport, actor, ip_address: str | None = None) -> ImportReport:
    """Apply a previewed file, all or nothing: if any row has an error now, or a return changed
    since the preview, nothing is written and the report says why. The cells applied are those
    read at the preview, so what is confirmed is exactly what was shown."""
    from reporting.resources import cells_dataset, import_plan_build

    report = ImportReport.objects.select_for_update().get(pk=report.pk)
    if report.actor_id != actor.pk:
        raise PermissionDenied(_("Only the person who uploaded the file can apply it."))
    if report.state != ImportState.PREVIEWED:
        raise WorkflowError(_("This import is %(state)s and cannot be applied."), code="not_previewed",
                            params={"state": report.get_state_display()})
    dataset = cells_dataset(report.cells)
    plan = import_plan_build(dataset=dataset, period=report.period, actor=actor, city=report.city)
    current = {str(pk): version for pk, version in IndicatorReturn.objects.filter(
        pk__in=list(plan.returns)).values_list("pk", "edit_version")}
    if current != report.return_versions:
        report.state = ImportState.STALE
        report.save(update_fields=["state"])
        audit_record(actor=actor, event_type="import.apply", obj=report, success=False, ip_address=ip_address,
                     details={"reason": "stale"})
        return report
    sid = transaction.savepoint()
    rows, summary = _import_run(plan=plan, actor=actor, dry_run=False, ip_address=ip_address)
    if summary["error"]:
        # All or nothing: undo every value written by this file.
        transaction.savepoint_rollback(sid)
        report.state = ImportState.REFUSED
    else:
        transaction.savepoint_commit(sid)
        report.state = ImportState.APPLIED
        report.applied_at = timezone.now()
    report.rows, report.summary = rows, summary
    report.save(update_fields=["state", "rows", "summary", "applied_at"])
    audit_record(actor=actor, event_type="import.apply", obj=report, success=report.state == ImportState.APPLIED,
                 ip_address=ip_address, details={"summary": summary})
    return report
