"""Importing values from an XLSX or CSV file: a preview first, then the confirmation, all or nothing.

The preview and the confirmation run the same code (values_apply through ``_import_run``); the
preview writes nothing and is rolled back all the same.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import City
from audit.services import audit_record
from indices.engine.spec import MethodologySpec
from methodology.models import Severity
from reporting.models import Channel, ImportReport, ImportState, IndicatorReturn, ReportingPeriod, ValueFlag
from reporting.resources import ImportPlan, cells_dataset, dataset_cells, import_plan_build, read_upload
from reporting.selectors import (
    extensions_until,
    filing_window,
    peer_values_by_city,
    period_spec,
    previous_approved_values_for,
    return_edit_refusal,
)
from reporting.services.guards import WorkflowError, raise_refusal
from reporting.services.values import SaveOutcome, ValueContext, values_apply
from reporting.services.writers import ValueBatch
from reporting.uploads import IMPORT_TYPES, check_upload, limit

STALE_PREVIEW = _("The return changed after this preview; upload the file again.")
IMPORT_HAS_ERRORS = _("The file has errors, so nothing was imported. Correct the rows listed and upload it again.")

# A row's outcome in the report (not a severity: a row with a warning is "warning", one without "changed").
ROW_OUTCOMES = ("changed", "unchanged", "warning", "error", "ignored")


@dataclass
class _PeriodReads:
    """What the checks of every return in the file compare with, read once for the whole period."""

    period: ReportingPeriod
    spec: MethodologySpec
    previous: dict[int, dict[str, Decimal]]  # by city
    peers_by_city: dict[int, dict[str, Decimal]]
    extensions: dict[int, object]  # the latest extension's end, by city
    flags: dict[int, list[ValueFlag]] = field(default_factory=dict)  # by return; empty for a preview
    all_peers: dict[str, list[Decimal]] = field(default_factory=dict)

    def peers_of_others(self, city_id: int) -> dict[str, list[Decimal]]:
        """Every city's values but ``city_id``'s own."""
        own = self.peers_by_city.get(city_id)
        if not own:
            return self.all_peers
        peers = {code: list(values) for code, values in self.all_peers.items()}
        for code, value in own.items():
            peers[code].remove(value)
        return peers


def _period_reads(returns: dict[int, IndicatorReturn], *, dry_run: bool) -> _PeriodReads:
    period = next(iter(returns.values())).period
    reads = _PeriodReads(period=period, spec=period_spec(period=period),
                         previous=previous_approved_values_for(city_ids=[item.city_id for item in returns.values()],
                                                               data_year=period.data_year),
                         peers_by_city=peer_values_by_city(period=period), extensions=extensions_until(period=period))
    if not dry_run:
        for flag in ValueFlag.objects.filter(value__indicator_return__in=list(returns)).select_related("value"):
            reads.flags.setdefault(flag.value.indicator_return_id, []).append(flag)
    for values in reads.peers_by_city.values():
        for code, value in values.items():
            reads.all_peers.setdefault(code, []).append(value)
    return reads


def _import_returns(plan: ImportPlan, *, dry_run: bool) -> dict[int, IndicatorReturn]:
    returns = IndicatorReturn.objects.select_related("period__methodology", "city").filter(
        pk__in=list(plan.returns)).order_by("pk")
    if not dry_run:
        # One lock for all the file's returns, in a fixed order (no deadlock with a form save); a preview
        # writes nothing, so it does not make form saves wait.
        returns = returns.select_for_update()
    return {item.pk: item for item in returns}


def _import_run(*, plan: ImportPlan, actor, dry_run: bool, ip_address=None) -> tuple[list[dict], dict]:
    """Apply the plan's entries return by return, filling each row's outcome. Must run inside an
    atomic block; the caller rolls it back for a preview or when any row has an error."""
    rows_by_key = {(row["city_id"], row["code"]): row for row in plan.rows if row.get("city_id") and row.get("code")}
    returns = _import_returns(plan, dry_run=dry_run)
    reads = _period_reads(returns, dry_run=dry_run) if returns else None
    batch = ValueBatch()
    for pk, indicator_return in returns.items():
        city_id = indicator_return.city_id
        raise_refusal(return_edit_refusal(actor, indicator_return, window=filing_window(
            period=reads.period, city_id=city_id, extended_until=reads.extensions.get(city_id))))
        context = ValueContext(spec=reads.spec, previous=reads.previous.get(city_id, {}),
                               peers=reads.peers_of_others(city_id))
        outcome = values_apply(indicator_return=indicator_return, actor=actor, entries=plan.entries.get(pk, {}),
                               channel=Channel.IMPORT, context=context, ip_address=ip_address,
                               rows=plan.values.get(pk), flags=reads.flags.get(pk, []), write=not dry_run,
                               batch=batch)
        _rows_annotate(rows_by_key, city_id=city_id, outcome=outcome)
    batch.flush()
    _rows_judge(plan.rows)
    summary = {key: sum(1 for row in plan.rows if row["outcome"] == key) for key in ROW_OUTCOMES}
    summary["rows"] = len(plan.rows)
    summary["changes"] = sum(len(row["changes"]) for row in plan.rows)
    return plan.rows, summary


def _rows_annotate(rows_by_key: dict[tuple, dict], *, city_id: int, outcome: SaveOutcome) -> None:
    """Add a return's findings and changes to the file's rows they came from."""
    for finding in outcome.result.findings:
        row = rows_by_key.get((city_id, finding.code))
        if row is not None:
            row["messages"].append({"severity": finding.severity, "message": finding.message,
                                    "params": finding.params})
    for change in outcome.changes:
        row = rows_by_key.get((city_id, change.indicator.code))
        if row is not None:
            row["changes"].append({"field": change.field, "old": change.old, "new": change.new})


def _rows_judge(rows: list[dict]) -> None:
    """Each row's outcome from its messages and changes."""
    for row in rows:
        severities = {message["severity"] for message in row["messages"]}
        if Severity.ERROR in severities:
            row["outcome"] = "error"
        elif row["outcome"] == "ignored":
            pass
        elif row["changes"]:
            row["outcome"] = "warning" if Severity.WARNING in severities else "changed"
        else:
            row["outcome"] = "warning" if Severity.WARNING in severities else "unchanged"


def values_import_preview(*, period: ReportingPeriod, actor, upload, city: City | None = None,
                          ip_address: str | None = None) -> ImportReport:
    """Check an uploaded XLSX or CSV and preview it: every row's errors, warnings and the values it
    would change, computed by the same code as the confirmation with writing switched off (and in
    a transaction that is rolled back all the same). Nothing is changed; the report (with the file
    and the cells as read) is kept."""
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
                              summary=summary, return_versions=versions)
        if state == ImportState.PREVIEWED:
            # Only a file that may be applied keeps its cells and the file itself; a refused one keeps
            # its rows' messages, which are what the report shows.
            report.cells = cells
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
