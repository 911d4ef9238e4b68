"""What every workflow step checks first: the row lock, who acts, the period and the return's state.

A refused step raises PermissionDenied (wrong person) or WorkflowError (wrong time or state), with a
message people see; tests assert on the messages.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.permissions import user_is_reviewer
from ccfi_portal.queries import PreparedQuery
from reporting.models import IndicatorReturn, PeriodState, ReportingPeriod, ValueChange
from reporting.selectors import PERIOD_CLOSED, Refusal
from reporting.validation import control_character, normal_text

REVIEWERS_ONLY = _("Only reviewers can do this.")


class WorkflowError(ValidationError):
    """A step the return's state, the period or the deadline does not allow; shown to the user."""


def checked_text(raw: object, *, field, limit: int) -> str:
    """A free text (a comment, a reason) as stored, or WorkflowError naming the field: control characters
    and texts over the limit are refused whole, never cleaned or cut (values' texts: validation.admit_text)."""
    text = normal_text(raw)
    char = control_character(text)
    if char:
        raise WorkflowError(_("The %(field)s contains a control character (%(char)s), which is not accepted."),
                            code="control_character", params={"field": field, "char": char})
    if len(text) > limit:
        raise WorkflowError(_("The %(field)s has %(length)s characters; at most %(max)s are accepted."),
                            code="too_long", params={"field": field, "length": len(text), "max": limit})
    return text


class EditConflict(Exception):
    """A save from a form that was loaded before someone else saved the return."""

    def __init__(self, *, current_version: int, changes: list[ValueChange]):
        self.current_version = current_version
        self.changes = changes
        super().__init__(f"the return is at version {current_version}")


# Built once per process (ccfi_portal.queries): every workflow step and value save runs it.
_LOCKED_RETURN = PreparedQuery(lambda pk: IndicatorReturn.objects.select_for_update(of=("self",)).select_related(
    "period__methodology", "city").filter(pk=pk), pk=int)


def lock_return(indicator_return: IndicatorReturn) -> IndicatorReturn:
    """The return re-read under a row lock.

    Two people acting on one return at once (two filers saving, a reviewer approving while the filer
    saves): the lock makes the second wait and then see the first one's result. Only the return's row is
    locked (``of``): with the joined rows locked too, every save of a period waited for the period's and the
    methodology's rows, so all cities' saves ran one at a time (docs/benchmarks.md).
    """
    locked = _LOCKED_RETURN.first(pk=indicator_return.pk)
    if locked is None:
        raise IndicatorReturn.DoesNotExist(f"no return {indicator_return.pk}")
    return locked


def require_reviewer(actor) -> None:
    if not user_is_reviewer(actor):
        raise PermissionDenied(REVIEWERS_ONLY)


def require_open_period(period: ReportingPeriod) -> None:
    if period.state == PeriodState.CLOSED:
        raise WorkflowError(PERIOD_CLOSED, code="closed")


def raise_refusal(refusal: Refusal | None) -> None:
    """Raise the refusal a selector found (pages hide their forms by the same one): someone who is not the
    city's filer is forbidden, the rest is a workflow error."""
    if refusal is None:
        return
    if refusal.forbidden:
        raise PermissionDenied(refusal.message)
    raise WorkflowError(refusal.message, code=refusal.code, params=refusal.params)


def require_state(indicator_return: IndicatorReturn, states, message, code: str) -> None:
    if indicator_return.state not in states:
        raise WorkflowError(message, code=code, params={"state": indicator_return.get_state_display()})
