"""Each role's home page: the next step and the counts are true (indices.selectors.role_home and the reporting
selectors it composes)."""
import datetime
from http import HTTPStatus

import pytest

from indices.models import IndexRun, RunState
from indices.selectors import methodologist_home, role_home
from methodology.models import MethodologyState, MethodologyVersion
from reporting.models import IndicatorReturn, ReportingPeriod, ReturnState
from reporting.selectors import filer_home, reviewer_home
from reporting.services import CommentInput, return_approve, return_send_back

pytestmark = pytest.mark.django_db


def steps_by_year(user) -> dict:
    return {item.row.period.data_year: item for item in filer_home(user=user)}


def test_a_filer_sees_a_draft_due_in_n_days(draft, filer_chongqing):
    step = steps_by_year(filer_chongqing)[2024]
    assert (step.step, step.days_left, step.past_due, step.to_do) == ("draft", 30, False, True)
    assert step.row.current == draft


def test_a_closed_period_without_a_return_is_left_out_and_an_approved_one_shows_approved(last_year, filer_chongqing,
                                                                                         period):
    steps = steps_by_year(filer_chongqing)
    assert steps[2023].step == "approved" and steps[2023].days_left is None
    assert (steps[2024].step, steps[2024].days_left) == ("start", 30)


def test_a_sent_back_return_shows_its_comments(submitted, reviewer, filer_chongqing):
    return_send_back(indicator_return=submitted, actor=reviewer, comments=[
        CommentInput(text="单位有误", reason_code="wrong_unit", indicator_code="M2.1"),
        CommentInput(text="请补充来源", reason_code="source_missing", indicator_code=None)])
    step = steps_by_year(filer_chongqing)[2024]
    assert (step.step, step.comments, step.to_do) == ("returned", 2, True)


def test_a_submitted_return_awaits_review_and_an_approved_one_is_approved(submitted, reviewer, filer_chongqing):
    assert steps_by_year(filer_chongqing)[2024].step == "submitted"
    return_approve(indicator_return=submitted, actor=reviewer)
    step = steps_by_year(filer_chongqing)[2024]
    assert (step.step, step.days_left, step.to_do) == ("approved", None, False)


def test_a_first_return_not_submitted_by_the_due_date_is_past_due(draft, filer_chongqing, today):
    ReportingPeriod.objects.filter(pk=draft.period_id).update(due_on=today - datetime.timedelta(days=3))
    step = steps_by_year(filer_chongqing)[2024]
    assert (step.step, step.past_due, step.days_overdue) == ("draft", True, 3)


def test_another_citys_filer_sees_only_their_city(draft, filer_chengdu):
    assert steps_by_year(filer_chengdu)[2024].step == "start"


def test_the_reviewer_counts_the_queue_the_sent_back_and_the_board(submitted, reviewer, filer_chengdu, values,
                                                                   period):
    home = reviewer_home()
    assert (home.queue, home.sent_back) == (1, 0)
    (board,) = home.boards  # the open period only
    assert board.period == period and board.totals["submitted"] == 1 and board.totals["approved"] == 0
    return_send_back(indicator_return=submitted, actor=reviewer,
                     comments=[CommentInput(text="单位有误", reason_code="wrong_unit", indicator_code="M2.1")])
    home = reviewer_home()
    assert (home.queue, home.sent_back) == (0, 1)


def test_the_methodologist_sees_runs_awaiting_publication_and_drafts(period, ccfi, methodologist):
    def run(**fields) -> IndexRun:
        return IndexRun.objects.create(period=period, methodology=ccfi, input_hash=str(len(fields)) * 64,
                                       engine_version="test", **fields)

    assert methodologist_home().runs_to_publish == []
    waiting = run(state=RunState.SUCCEEDED)
    run()  # still running: nothing to publish yet
    draft = MethodologyVersion.objects.create(code="CCFI", version="2026.0", state=MethodologyState.DRAFT)
    home = methodologist_home()
    assert home.runs_to_publish == [waiting]
    assert [version.pk for version in home.drafts] == [draft.pk]


def test_each_role_gets_its_sections(filer_chongqing, reviewer, methodologist, security_admin, audit_admin, period):
    assert role_home(user=filer_chongqing).filer is not None and role_home(user=filer_chongqing).reviewer is None
    assert role_home(user=reviewer).reviewer is not None and role_home(user=reviewer).filer is None
    assert role_home(user=methodologist).methodologist is not None
    security, audit = role_home(user=security_admin), role_home(user=audit_admin)
    assert (security.accounts_admin, security.audit_admin, security.reviewer) == (True, False, None)
    assert (audit.accounts_admin, audit.audit_admin, audit.methodologist) == (False, True, None)


@pytest.mark.parametrize("who, testid", [("filer_chongqing", "home-filer"), ("reviewer", "home-reviewer"),
                                         ("methodologist", "home-methodologist"), ("security_admin", "home-accounts"),
                                         ("audit_admin", "home-audit")])
def test_the_home_page_of_each_role(request, client, period, who, testid):
    client.force_login(request.getfixturevalue(who))
    response = client.get("/")
    assert response.status_code == HTTPStatus.OK
    assert f'data-testid="{testid}"' in response.content.decode()


def test_the_filer_home_page_says_the_next_step(client, submitted, reviewer, filer_chongqing):
    return_send_back(indicator_return=submitted, actor=reviewer,
                     comments=[CommentInput(text="单位有误", reason_code="wrong_unit", indicator_code="M2.1")])
    client.force_login(filer_chongqing)
    content = client.get("/").content.decode()
    assert "已退回，附 1 条意见" in content
    assert f'href="/returns/{submitted.pk}/"' in content


def test_anonymous_readers_get_the_front_page(client, period):
    content = client.get("/").content.decode()
    assert "报送期" in content and 'data-testid="home-filer"' not in content
    assert IndicatorReturn.objects.filter(state=ReturnState.DRAFT).count() == 0


def test_a_draft_past_the_lock_date_is_locked(draft, filer_chongqing, today):
    ReportingPeriod.objects.filter(pk=draft.period_id).update(due_on=today - datetime.timedelta(days=20),
                                                             locks_on=today - datetime.timedelta(days=10))
    step = steps_by_year(filer_chongqing)[2024]
    assert (step.step, step.to_do, step.past_due) == ("locked", False, True)
