"""Roles are separated duties; the audit trail is append-only."""
import datetime
import re
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from audit.services import audit_record
from reporting.models import IndicatorReturn, ReportingPeriod
from reporting.selectors import returns_visible_to

pytestmark = pytest.mark.django_db


def test_every_role_exists_as_a_group():
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


def test_security_and_audit_administration_are_separate(security_admin, audit_admin):
    assert security_admin.has_perm("accounts.change_user")
    assert not security_admin.has_perm("audit.view_auditevent")
    assert audit_admin.has_perm("audit.view_auditevent")
    assert not audit_admin.has_perm("accounts.change_user")
    assert not audit_admin.has_perm("audit.change_auditevent")


def test_audit_events_cannot_be_changed_or_deleted(methodologist):
    event = audit_record(actor=methodologist, event_type="methodology.publish", details={"why": "test"})
    event.event_type = "something.else"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).event_type == "methodology.publish"


def test_a_filer_sees_only_its_own_citys_returns(filer_chongqing, filer_chengdu, reviewer, draft_methodology):
    period = ReportingPeriod.objects.create(data_year=2024, opens_on=datetime.date(2025, 1, 15),
                                            due_on=datetime.date(2025, 3, 31), methodology=draft_methodology)
    chongqing = IndicatorReturn.objects.create(city=filer_chongqing.city, period=period)
    chengdu = IndicatorReturn.objects.create(city=filer_chengdu.city, period=period)

    assert list(returns_visible_to(user=filer_chongqing)) == [chongqing]
    assert set(returns_visible_to(user=reviewer)) == {chongqing, chengdu}


def test_logins_and_failures_are_audited(client, filer_chongqing):
    failed = client.post("/accounts/login/", {"username": "filer-chongqing", "password": "wrong"})
    assert failed.status_code == HTTPStatus.OK and "_auth_user_id" not in client.session
    client.post("/accounts/login/", {"username": "filer-chongqing", "password": "Ccfi-test-2025"},
                REMOTE_ADDR="10.1.2.3")
    client.post("/accounts/logout/")

    events = list(AuditEvent.objects.order_by("id").values_list("event_type", "success", "actor__username"))
    assert events == [
        ("auth.login_failed", False, None),
        ("auth.login", True, "filer-chongqing"),
        ("auth.logout", True, "filer-chongqing"),
    ]
    assert AuditEvent.objects.get(event_type="auth.login").ip_address == "10.1.2.3"
    assert AuditEvent.objects.get(event_type="auth.login_failed").details == {"username": "filer-chongqing"}


def test_a_period_cannot_use_a_draft_methodology(draft_methodology):
    period = ReportingPeriod(data_year=2025, opens_on=datetime.date(2026, 1, 15), due_on=datetime.date(2026, 3, 31),
                             methodology=draft_methodology)
    with pytest.raises(ValidationError) as error:
        period.full_clean()
    assert error.value.message_dict["methodology"] == ["报送期须采用已发布的方法版本，不能采用草稿。"]


def test_a_user_changes_their_own_password_and_it_is_audited(client, filer_chongqing):
    client.force_login(filer_chongqing)
    page = client.get(reverse("password_change"))
    assert page.status_code == HTTPStatus.OK and "修改密码" in page.content.decode()

    wrong = client.post(reverse("password_change"), {"old_password": "not-it", "new_password1": "Ccfi-new-2026-pw",
                                                     "new_password2": "Ccfi-new-2026-pw"})
    assert wrong.status_code == HTTPStatus.OK and "旧密码" in wrong.content.decode()
    assert not AuditEvent.objects.filter(event_type="auth.password_change").exists()

    response = client.post(reverse("password_change"), {"old_password": "Ccfi-test-2025",
                                                        "new_password1": "Ccfi-new-2026-pw",
                                                        "new_password2": "Ccfi-new-2026-pw"}, REMOTE_ADDR="10.4.4.4")

    assert response.status_code == HTTPStatus.FOUND and response["Location"] == reverse("password_change_done")
    filer_chongqing.refresh_from_db()
    assert filer_chongqing.check_password("Ccfi-new-2026-pw")
    event = AuditEvent.objects.get(event_type="auth.password_change")
    assert event.actor == filer_chongqing and event.ip_address == "10.4.4.4"
    assert client.get(reverse("password_change_done")).status_code == HTTPStatus.OK  # still logged in


def test_the_password_page_needs_a_login(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == HTTPStatus.FOUND and reverse("login") in response["Location"]


def test_five_failures_lock_the_user_name_whether_or_not_it_exists(client, filer_chongqing, security_admin):
    """After AXES_FAILURE_LIMIT failures even the right password is refused, with the same page as for a
    name that does not exist; the security administrator unlocks the name in the admin."""
    from axes.models import AccessAttempt

    def attempt(username, password="wrong"):
        return client.post("/accounts/login/", {"username": username, "password": password})

    for _ in range(4):
        assert attempt("filer-chongqing").status_code == HTTPStatus.OK
        assert attempt("nobody-here").status_code == HTTPStatus.OK
    fifth = attempt("filer-chongqing")
    assert attempt("nobody-here").status_code == fifth.status_code == HTTPStatus.TOO_MANY_REQUESTS
    locked = attempt("filer-chongqing", "Ccfi-test-2025")
    unknown = attempt("nobody-here")

    assert locked.status_code == unknown.status_code == HTTPStatus.TOO_MANY_REQUESTS
    message = re.search(r'data-testid="locked-out">([^<]+)<', locked.content.decode()).group(1)
    assert "5 次" in message and "30 分钟" in message
    assert message in unknown.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(event_type="auth.locked_out", details__username="filer-chongqing").exists()
    assert client.post("/accounts/login/", {"username": "reviewer-elsewhere", "password": "x"}).status_code == \
        HTTPStatus.OK  # other names are not locked

    client.force_login(security_admin)
    attempt_row = AccessAttempt.objects.get(username="filer-chongqing")
    deleted = client.post(reverse("admin:axes_accessattempt_delete", args=[attempt_row.pk]), {"post": "yes"})
    assert deleted.status_code == HTTPStatus.FOUND
    client.logout()
    assert attempt("filer-chongqing", "Ccfi-test-2025").status_code == HTTPStatus.FOUND
    assert client.session["_auth_user_id"] == str(filer_chongqing.pk)


@pytest.mark.parametrize("password,valid", [
    ("alllowercase-letters", False),  # two kinds
    ("ALLUPPER2026", False),
    ("lower-and-2026", True),  # lower, digits, other
    ("Mixed-Case-words", True),
    ("密码Password", True),  # Chinese characters count as other characters
])
def test_passwords_mix_three_kinds_of_character(client, filer_chongqing, password, valid):
    client.force_login(filer_chongqing)
    response = client.post(reverse("password_change"), {"old_password": "Ccfi-test-2025", "new_password1": password,
                                                        "new_password2": password})

    filer_chongqing.refresh_from_db()
    assert filer_chongqing.check_password(password) is valid
    if not valid:
        assert "密码须至少包含以下 3 类字符" in response.content.decode()


def test_a_session_ends_its_absolute_lifetime_after_the_login_however_busy(client, filer_chongqing, settings):
    from accounts.middleware import SESSION_STARTED_KEY

    settings.SESSION_ABSOLUTE_AGE = 60
    client.post("/accounts/login/", {"username": "filer-chongqing", "password": "Ccfi-test-2025"})
    assert client.get(reverse("password_change")).status_code == HTTPStatus.OK
    session = client.session
    session[SESSION_STARTED_KEY] -= 61  # the login was a minute and a second ago
    session.save()

    response = client.get(reverse("password_change"))

    assert response.status_code == HTTPStatus.FOUND and reverse("login") in response["Location"]
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(event_type="auth.logout", actor=filer_chongqing).exists()


def _change_password(client, old: str, new: str):
    return client.post(reverse("password_change"), {"old_password": old, "new_password1": new, "new_password2": new})


def test_the_last_five_passwords_cannot_come_back(client, filer_chongqing):
    client.force_login(filer_chongqing)
    passwords = ["Ccfi-test-2025", *(f"Ccfi-round-{n}-pw" for n in range(1, 7))]
    for old, new in zip(passwords, passwords[1:], strict=False):
        assert _change_password(client, old, new).status_code == HTTPStatus.FOUND

    current = passwords[-1]
    for reused in passwords[-5:]:  # the current one and the four before it
        response = _change_password(client, current, reused)
        assert response.status_code == HTTPStatus.OK and "不得与最近 5 次" in response.content.decode()
    assert _change_password(client, current, passwords[1]).status_code == HTTPStatus.FOUND  # five changes ago
    assert filer_chongqing.password_records.count() == 5


def test_an_expired_password_leads_every_page_to_the_password_page(client, filer_chongqing, settings):
    from accounts.models import User

    settings.PASSWORD_MAX_AGE_DAYS = 90
    # An account never given a new password counts its password's age from its creation.
    User.objects.filter(pk=filer_chongqing.pk).update(date_joined=timezone.now() - datetime.timedelta(days=91))
    filer_chongqing.refresh_from_db()
    client.force_login(filer_chongqing)

    response = client.get(reverse("reporting:dashboard"))
    assert response.status_code == HTTPStatus.FOUND and response["Location"].startswith(reverse("password_change"))
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="password-expired"' in page and "90 天" in page

    changed = _change_password(client, "Ccfi-test-2025", "Ccfi-fresh-2026-pw")
    assert changed.status_code == HTTPStatus.FOUND, changed.context["form"].errors
    assert client.get(reverse("reporting:dashboard")).status_code == HTTPStatus.OK


def test_a_password_changed_recently_is_not_expired_however_old_the_account(filer_chongqing, settings):
    from accounts.models import PasswordRecord, User
    from accounts.selectors import user_password_expired

    settings.PASSWORD_MAX_AGE_DAYS = 90
    User.objects.filter(pk=filer_chongqing.pk).update(date_joined=timezone.now() - datetime.timedelta(days=400))
    filer_chongqing.refresh_from_db()
    assert user_password_expired(filer_chongqing)
    filer_chongqing.set_password("Ccfi-new-2026-pw")
    filer_chongqing.save()

    assert PasswordRecord.objects.filter(user=filer_chongqing).count() == 1
    assert not user_password_expired(filer_chongqing)
    PasswordRecord.objects.filter(user=filer_chongqing).update(created_at=timezone.now() - datetime.timedelta(days=91))
    assert user_password_expired(filer_chongqing)
    settings.PASSWORD_MAX_AGE_DAYS = 0
    assert not user_password_expired(filer_chongqing)
