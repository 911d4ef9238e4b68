"""Services of the reporting app: functions that change state.

Split by concern: guards (the checks every step makes), values (saving values) with writers (its
raw-SQL writes), workflow (submit, review, approve, amend, extend), evidence and imports. Every
public name is re-exported here so that ``from reporting.services import X`` and ``services.X``
keep working.
"""
from reporting.entries import KEEP, ValueEntry
from reporting.services.evidence import evidence_upload
from reporting.services.guards import REVIEWERS_ONLY, EditConflict, WorkflowError
from reporting.services.imports import (
    IMPORT_HAS_ERRORS,
    STALE_PREVIEW,
    values_import_apply,
    values_import_preview,
)
from reporting.services.inbox import notification_mark_read, notifications_mark_all_read
from reporting.services.periods import (
    PERIOD_MANAGERS_ONLY,
    PERIOD_NOT_ALL_APPROVED,
    PERIOD_YEAR_TAKEN,
    PeriodOpening,
    period_close,
    period_open,
)
from reporting.services.values import (
    Change,
    SaveOutcome,
    return_values_save,
    value_check,
)
from reporting.services.workflow import (
    AMENDMENT_NEEDS_REASON,
    EXPLAIN_FLAGGED,
    EXPLANATION_REJECTED,
    EXTENSION_IN_PAST,
    EXTENSION_NEEDS_REASON,
    EXTENSION_NOT_NEEDED,
    NOT_RESUBMITTABLE,
    NOT_SUBMITTABLE,
    NOT_SUBMITTED,
    REVISE_REJECTED,
    SEND_BACK_NEEDS_COMMENT,
    SUBMIT_HAS_PROBLEMS,
    BulkApproveOutcome,
    CommentInput,
    period_extension_grant,
    return_approve,
    return_reopen_for_amendment,
    return_resubmit,
    return_send_back,
    return_start,
    return_submit,
    return_withdraw_amendment,
    returns_bulk_approve,
    review_comment_add,
    submission_problems,
    value_explanation_review,
)

__all__ = [
    "notification_mark_read",
    "notifications_mark_all_read",
    "AMENDMENT_NEEDS_REASON",
    "EXPLAIN_FLAGGED",
    "EXPLANATION_REJECTED",
    "EXTENSION_IN_PAST",
    "EXTENSION_NEEDS_REASON",
    "EXTENSION_NOT_NEEDED",
    "IMPORT_HAS_ERRORS",
    "KEEP",
    "NOT_RESUBMITTABLE",
    "NOT_SUBMITTABLE",
    "NOT_SUBMITTED",
    "PERIOD_MANAGERS_ONLY",
    "PERIOD_NOT_ALL_APPROVED",
    "PERIOD_YEAR_TAKEN",
    "REVIEWERS_ONLY",
    "REVISE_REJECTED",
    "SEND_BACK_NEEDS_COMMENT",
    "STALE_PREVIEW",
    "SUBMIT_HAS_PROBLEMS",
    "BulkApproveOutcome",
    "Change",
    "CommentInput",
    "EditConflict",
    "PeriodOpening",
    "SaveOutcome",
    "ValueEntry",
    "WorkflowError",
    "evidence_upload",
    "period_close",
    "period_extension_grant",
    "period_open",
    "return_approve",
    "return_reopen_for_amendment",
    "return_withdraw_amendment",
    "return_resubmit",
    "return_send_back",
    "return_start",
    "return_submit",
    "return_values_save",
    "returns_bulk_approve",
    "review_comment_add",
    "submission_problems",
    "value_check",
    "value_explanation_review",
    "values_import_apply",
    "values_import_preview",
]
