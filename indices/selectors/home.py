"""Each role's home page: what to do next, with counts. It lives in indices, the app above reporting and
methodology (pyproject.toml's layers), because a methodologist's next step is an index run to publish."""
from __future__ import annotations

from dataclasses import dataclass, field

from accounts.permissions import (
    may_manage_accounts,
    may_read_audit_trail,
    user_is_filer,
    user_is_methodologist,
    user_is_reviewer,
)
from indices.models import IndexRun, RunState
from methodology.models import MethodologyVersion
from methodology.selectors import methodology_drafts
from reporting.models import Notification
from reporting.selectors import FilerStep, ReviewerHome, filer_home, notifications_unread_latest, reviewer_home


@dataclass
class MethodologistHome:
    runs_to_publish: list[IndexRun]  # each period's newest succeeded run, when it is not published
    drafts: list[MethodologyVersion]


def methodologist_home() -> MethodologistHome:
    """Runs awaiting publication: per period the newest succeeded run when it is unpublished (as
    run_latest_provisional: an older unpublished run beside a newer one waits for nothing)."""
    newest: dict[int, IndexRun] = {}
    for run in (IndexRun.objects.filter(state=RunState.SUCCEEDED).select_related("period", "methodology")
                .defer("inputs", "diagnostics").order_by("-created_at", "-id")):
        newest.setdefault(run.period_id, run)
    runs = sorted((run for run in newest.values() if not run.is_published),
                  key=lambda run: run.period.data_year, reverse=True)
    return MethodologistHome(runs_to_publish=runs, drafts=list(methodology_drafts()))


@dataclass
class RoleHome:
    """The sections the user's roles give them (None or False: not theirs) and their latest unread notices."""
    filer: list[FilerStep] | None = None
    reviewer: ReviewerHome | None = None
    methodologist: MethodologistHome | None = None
    accounts_admin: bool = False
    audit_admin: bool = False
    unread: list[Notification] = field(default_factory=list)

    @property
    def has_role(self) -> bool:
        return any((self.filer is not None, self.reviewer, self.methodologist, self.accounts_admin,
                    self.audit_admin))


def role_home(*, user) -> RoleHome:
    if not user.is_authenticated:
        return RoleHome()
    return RoleHome(
        filer=filer_home(user=user) if user_is_filer(user) else None,
        reviewer=reviewer_home() if user_is_reviewer(user) else None,
        methodologist=methodologist_home() if user_is_methodologist(user) else None,
        accounts_admin=may_manage_accounts(user),
        audit_admin=may_read_audit_trail(user),
        unread=notifications_unread_latest(user=user),
    )
