"""Saving values: the one path the form, the import and the API share.

Each save validates what was entered, stores what is admitted, records every actual change
(ValueChange), refreshes the value's flags and writes the audit event, inside the caller's
transaction with the return locked.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from audit.services import audit_record
from ccfi_portal.queries import PreparedQuery
from indices.engine.spec import MethodologySpec
from reporting.entries import KEEP, ValueEntry
from reporting.models import Channel, IndicatorReturn, ReturnValue, ValueChange, ValueFlag
from reporting.selectors import (
    compared_values,
    period_spec,
    return_edit_refusal,
    return_values,
)
from reporting.services.guards import EditConflict, lock_return, raise_refusal
from reporting.services.writers import ValueBatch, changes_write, flags_write, values_write
from reporting.validation import (
    TEXT_LIMITS,
    Finding,
    ValidationResult,
    admit_status,
    admit_text,
    assess,
    normal_text,
    number_text,
    validate,
    variables,
)


@dataclass(frozen=True)
class Change:
    """One field of one value that a save changes (stored as a ValueChange)."""

    indicator: object  # methodology.models.Indicator
    field: str
    old: str
    new: str


@dataclass
class SaveOutcome:
    result: ValidationResult
    changes: list[Change] = field(default_factory=list)
    edit_version: int = 0

    @property
    def changed(self) -> int:
        return len(self.changes)


@dataclass
class ValueContext:
    """What the checks compare a return's values with."""

    spec: MethodologySpec
    previous: dict[str, Decimal]
    peers: dict[str, list[Decimal]]


def value_context(indicator_return: IndicatorReturn, *, codes: Iterable[str] | None = None) -> ValueContext:
    """What the checks compare a return with; ``codes`` limits the peers read to those values."""
    previous, peers = compared_values(indicator_return=indicator_return, codes=codes)
    return ValueContext(spec=period_spec(period=indicator_return.period), previous=previous, peers=peers)


def values_ensure(indicator_return: IndicatorReturn) -> None:
    """One row per indicator and context variable, empty until filled."""
    have = set(indicator_return.values.values_list("indicator_id", flat=True))
    ReturnValue.objects.bulk_create([
        ReturnValue(indicator_return=indicator_return, indicator=indicator)
        for indicator in indicator_return.period.methodology.indicators.all() if indicator.pk not in have
    ])


def _stored_text(field_name: str, value) -> str:
    return number_text(value) if field_name == "value" else str(value or "")


def _admit_fields(entries: Mapping[str, ValueEntry]) -> tuple[dict[str, dict[str, str]], list[Finding]]:
    """The observation status and texts each entry gives, as they would be stored, and the errors of
    those refused (a control character, a text over its limit, an unknown status)."""
    admitted: dict[str, dict[str, str]] = {}
    findings: list[Finding] = []
    for code, entry in entries.items():
        fields = admitted.setdefault(code, {})
        if entry.observation_status is not KEEP:
            status, errors = admit_status(code, entry.observation_status)
            findings.extend(errors)
            if status:
                fields["observation_status"] = status
        for name in TEXT_LIMITS:
            given = getattr(entry, name)
            if given is not KEEP:
                text, errors = admit_text(code, name, given)
                findings.extend(errors)
                if text is not None:
                    fields[name] = text
    return admitted, findings


def _entry_updates(row: ReturnValue, entry: ValueEntry, *, accepted: dict, fields: dict[str, str]) -> dict:
    """The fields of ``row`` that an admitted entry changes, with their new values. A stored text is
    compared as stored texts now are (a CR LF from an older form save is not a change)."""
    updates = {}
    code = row.indicator.code
    if entry.value is not KEEP and accepted.get(code) != row.value:
        updates["value"] = accepted.get(code)
    for name, new in fields.items():
        old = getattr(row, name)
        if new != (normal_text(old) if name in TEXT_LIMITS else old):
            updates[name] = new
    return updates


def values_apply(*, indicator_return: IndicatorReturn, actor, entries: Mapping[str, ValueEntry], channel: str,
                 context: ValueContext | None = None, ip_address: str | None = None,
                 rows: dict[str, ReturnValue] | None = None, flags: list[ValueFlag] | None = None,
                 write: bool = True, batch: ValueBatch | None = None) -> SaveOutcome:
    """Validate the entries, store what is admitted, record every actual change, refresh the flags.

    Runs inside the caller's transaction with the return locked. A value refused by admission
    (type, decimals, hard bounds, a refused status or text) keeps everything stored for it; saving an
    unchanged value writes nothing.
    ``rows`` and ``flags`` may be preloaded by a caller handling many returns; ``write=False``
    computes the outcome (findings and changes) without storing it, for a preview.
    """
    context = context or value_context(indicator_return)
    if rows is None:
        rows = return_values(indicator_return=indicator_return)
    admitted, field_errors = _admit_fields(entries)
    blocked = {finding.code for finding in field_errors}
    raw = {code: entry.value for code, entry in entries.items() if entry.value is not KEEP and code not in blocked}
    result = validate(context.spec, raw=raw, stored={code: row.value for code, row in rows.items()},
                      previous=context.previous, peers=context.peers)
    result.findings[:0] = field_errors
    refused = result.rejected  # nothing of a value with any field refused is stored
    changes: list[Change] = []
    touched: dict[int, ReturnValue] = {}
    explained: set[int] = set()
    for code, entry in entries.items():
        row = rows.get(code)
        if row is None or code in refused:
            continue
        for name, new in _entry_updates(row, entry, accepted=result.accepted, fields=admitted[code]).items():
            changes.append(Change(indicator=row.indicator, field=name, old=_stored_text(name, getattr(row, name)),
                                  new=_stored_text(name, new)))
            setattr(row, name, new)
            touched[row.pk] = row
            if name == "explanation":
                explained.add(row.pk)
    if changes and write:
        _changes_store(indicator_return=indicator_return, actor=actor, channel=channel, changes=changes,
                       touched=list(touched.values()), explained=explained, rows=rows, context=context,
                       flags=flags, batch=batch, ip_address=ip_address)
    return SaveOutcome(result=result, changes=changes, edit_version=indicator_return.edit_version)


def _changes_store(*, indicator_return: IndicatorReturn, actor, channel: str, changes: list[Change],
                   touched: list[ReturnValue], explained: set[int], rows: dict[str, ReturnValue],
                   context: ValueContext, flags: list[ValueFlag] | None, batch: ValueBatch | None,
                   ip_address: str | None) -> None:
    """Store the changed values and their change records (now, or in ``batch``), bump the return's edit
    version, refresh its flags and write the audit event."""
    new_version = indicator_return.edit_version + 1
    records = _change_rows(changes, indicator_return=indicator_return, actor=actor, channel=channel,
                           edit_version=new_version)
    if batch is not None:  # the caller writes many returns' values at once
        batch.values.extend(touched)
        batch.changes.extend(records)
        batch.bumped.append(indicator_return.pk)
    else:
        values_write(touched)
        changes_write(records)
        IndicatorReturn.objects.filter(pk=indicator_return.pk).update(edit_version=new_version,
                                                                      updated_at=timezone.now())
    indicator_return.edit_version = new_version
    flags_refresh(indicator_return=indicator_return, rows=rows, context=context, explained=explained,
                  existing=flags, batch=batch)
    # Old and new values in the event itself: the auditor reads them in the trail (ValueChange has them
    # too, in the secretariat's admin, closed to the audit administrator).
    audit_record(actor=actor, event_type="return.values_change", obj=indicator_return, ip_address=ip_address,
                 details={"channel": channel, "changes": len(changes), "edit_version": new_version,
                          "codes": sorted({change.indicator.code for change in changes}),
                          "values": [{"code": change.indicator.code, "field": change.field, "old": change.old,
                                      "new": change.new} for change in changes]})


def _change_rows(changes: list[Change], *, indicator_return: IndicatorReturn, actor, channel: str,
                 edit_version: int) -> list[tuple]:
    """The ValueChange rows of ``changes``, in the column order of writers.CHANGE_COLUMNS."""
    changed_at = ValueChange._meta.get_field("changed_at").get_db_prep_save(timezone.now(), connection)
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    return [(indicator_return.pk, change.indicator.pk, change.field, change.old, change.new, actor_id, changed_at,
             str(channel), edit_version) for change in changes]


# Built once per process (ccfi_portal.queries): every value save reads them.
_RETURN_FLAGS = PreparedQuery(lambda return_id: ValueFlag.objects.filter(value__indicator_return=return_id).order_by(),
                              return_id=int)


def flags_refresh(*, indicator_return: IndicatorReturn, rows: dict[str, ReturnValue], context: ValueContext,
                  explained: Iterable[int] = (), existing: list[ValueFlag] | None = None,
                  batch: ValueBatch | None = None) -> None:
    """Store the warnings and notes the stored values raise now; a flag that changed, or whose
    value's explanation changed, awaits the reviewer's decision again."""
    findings = assess(context.spec, {code: row.value for code, row in rows.items()},
                      previous=context.previous, peers=context.peers)
    wanted = {(rows[f.code].pk, f.check): f for f in findings if f.code in rows}
    explained = set(explained)
    if existing is None:
        existing = _RETURN_FLAGS.run(return_id=indicator_return.pk)
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
    flags_write(stale=stale, new=new, explained=explained)


def value_check(*, indicator_return: IndicatorReturn, code: str, raw: object) -> list | None:
    """What saving ``raw`` as the value of ``code`` would say (the form's inline check): the findings
    of a save with writing switched off, reading one indicator's peers. None if ``code`` is not a
    value of the return's methodology."""
    context = value_context(indicator_return, codes=[code])
    if code not in variables(context.spec):
        return None
    outcome = values_apply(indicator_return=indicator_return, actor=None, entries={code: ValueEntry(value=raw)},
                           channel=Channel.FORM, context=context, write=False)
    return outcome.result.for_code(code)


@transaction.atomic(durable=True)
def return_values_save(*, indicator_return: IndicatorReturn, actor, entries: Mapping[str, ValueEntry],
                       expected_version: int | None, channel: str = Channel.FORM,
                       ip_address: str | None = None) -> SaveOutcome:
    """Save a draft, partly filled or not. ``expected_version`` is the edit version the form was
    loaded at: if someone saved since, nothing is written and EditConflict lists their changes."""
    indicator_return = lock_return(indicator_return)
    raise_refusal(return_edit_refusal(actor, indicator_return))
    if expected_version is not None and expected_version != indicator_return.edit_version:
        changes = list(ValueChange.objects.filter(indicator_return=indicator_return,
                                                  edit_version__gt=expected_version)
                       .select_related("actor", "indicator").order_by("changed_at", "id"))
        raise EditConflict(current_version=indicator_return.edit_version, changes=changes)
    return values_apply(indicator_return=indicator_return, actor=actor, entries=entries, channel=channel,
                        ip_address=ip_address)
