"""The one permission module: every named predicate, for every role, as the README's table says."""
import inspect
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group

from accounts import permissions
from accounts.models import Role

pytestmark = pytest.mark.django_db

README = Path(__file__).parents[2] / "README.md"
COLUMNS = ("reader", "filer", "reviewer", "methodologist", "security admin", "audit admin", "system admin")


def _people(city) -> dict[str, object]:
    User = get_user_model()  # noqa: N806
    people = {"reader": AnonymousUser()}
    for column, role in zip(COLUMNS[1:6], (Role.FILER, Role.REVIEWER, Role.METHODOLOGIST, Role.SECURITY_ADMIN,
                                           Role.AUDIT_ADMIN), strict=True):
        user = User.objects.create_user(username=column.replace(" ", "-"), password="Ccfi-test-2025",
                                        city=city if role == Role.FILER else None, is_staff=role != Role.FILER)
        user.groups.add(Group.objects.get(name=role))
        people[column] = user
    people["system admin"] = User.objects.create_superuser(username="root", password="Ccfi-test-2025")
    return people


def _predicates() -> list[tuple[str, object]]:
    """Every public predicate of one user: ``may_*`` and ``user_is_*``."""
    return [(name, function) for name, function in inspect.getmembers(permissions, inspect.isfunction)
            if name.startswith(("may_", "user_is_")) and list(inspect.signature(function).parameters) == ["user"]]


def test_the_readme_role_table_is_the_permission_module(city_chongqing):
    people = _people(city_chongqing)
    lines = [f"| predicate | {' | '.join(COLUMNS)} |", f"|---|{'---|' * len(COLUMNS)}"]
    for name, predicate in _predicates():
        cells = ("✓" if predicate(people[column]) else "—" for column in COLUMNS)
        lines.append(f"| `{name}` | {' | '.join(cells)} |")
    table = "\n".join(lines)
    assert table in README.read_text("utf-8"), f"README.md must carry the role table as it is:\n{table}"


def test_staff_status_grants_nothing(city_chongqing):
    """is_staff opens the admin site's door only: a staff account with no role may do nothing."""
    staff = get_user_model().objects.create_user(username="staff-only", password="Ccfi-test-2025", is_staff=True)
    assert not any(predicate(staff) for _name, predicate in _predicates())


def test_the_audit_role_reads_the_trail_in_the_admin_as_the_predicate_says(city_chongqing):
    for user in _people(city_chongqing).values():
        assert user.has_perm("audit.view_auditevent") == permissions.may_read_audit_trail(user)
        assert user.has_perm("accounts.change_user") == permissions.may_manage_accounts(user)


def test_the_secretariat_that_reviews_runs_the_periods(city_chongqing):
    """Opening and closing reporting periods belongs to the reviewers (and the system administrator)."""
    people = _people(city_chongqing)
    assert {column for column, user in people.items() if permissions.may_manage_periods(user)} == {
        "reviewer", "system admin"}
