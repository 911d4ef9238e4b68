"""The workflow services: every transition, who may do it, deadlines, conflicts and the audit trail."""
import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from reporting.models import (
    ExplanationDecision,
    IndicatorReturn,
    PeriodState,
    ReturnState,
    ReturnValue,
    ValueChange,
    ValueFlag,
)
from reporting.selectors import return_diff
from reporting.services import (
    CommentInput,
    EditConflict,
    ValueEntry,
    WorkflowError,
    period_extension_grant,
    return_approve,
    return_reopen_for_amendment,
    return_resubmit,
    return_send_back,
    return_start,
    return_submit,
    return_values_save,
    returns_bulk_approve,
    review_comment_add,
    value_explanation_review,
    writers,
)
from tests.reporting.conftest import entries, filled_return

pytestmark = pytest.mark.django_db


def events(indicator_return=None) -> list[str]:
    rows = AuditEvent.objects.order_by("id")
    if indicator_return is not None:
        rows = rows.filter(object_id=str(indicator_return.pk), object_type="reporting.IndicatorReturn")
    return list(rows.values_list("event_type", flat=True))


def save(indicator_return, actor, **values):
    return return_values_save(indicator_return=indicator_return, actor=actor, expected_version=None,
                              entries={code: ValueEntry(value=value) for code, value in values.items()})


def comment(text="单位有误", code="M2.1", reason="wrong_unit"):
    return CommentInput(text=text, reason_code=reason, indicator_code=code)


# Starting and saving drafts.

def test_a_filer_starts_a_draft_with_a_row_per_value(period, filer_chongqing):
    indicator_return = return_start(period=period, city=filer_chongqing.city, actor=filer_chongqing)
    assert indicator_return.state == ReturnState.DRAFT and indicator_return.revision == 1
    assert indicator_return.values.count() == 36 and not indicator_return.values.exclude(value=None).exists()
    assert return_start(period=period, city=filer_chongqing.city, actor=filer_chongqing) == indicator_return
    assert events(indicator_return) == ["return.start"]


@pytest.mark.parametrize("who", ["reviewer", "filer_chengdu"])
def test_only_the_citys_filer_starts_its_return(request, period, city_chongqing, who):
    with pytest.raises(PermissionDenied):
        return_start(period=period, city=city_chongqing, actor=request.getfixturevalue(who))
    assert not IndicatorReturn.objects.exists()


def test_a_partial_draft_saves_and_every_change_is_recorded(period, last_year, filer_chongqing):
    indicator_return = return_start(period=period, city=filer_chongqing.city, actor=filer_chongqing)
    outcome = return_values_save(indicator_return=indicator_return, actor=filer_chongqing, expected_version=1,
                                 entries={"M1.1": ValueEntry(value="83", source_note="年鉴 表 2"),
                                          "M1.2": ValueEntry(value="3", observation_status="provisional")})
    assert outcome.changed == 4 and outcome.edit_version == 2
    changes = set(ValueChange.objects.values_list("indicator__code", "field", "old", "new", "channel",
                                                  "actor__username", "edit_version"))
    assert changes == {
        ("M1.1", "value", "", "83", "form", "filer-chongqing", 2),
        ("M1.1", "source_note", "", "年鉴 表 2", "form", "filer-chongqing", 2),
        ("M1.2", "value", "", "3", "form", "filer-chongqing", 2),
        ("M1.2", "observation_status", "final", "provisional", "form", "filer-chongqing", 2),
    }
    event = AuditEvent.objects.get(event_type="return.values_change")
    values = event.details.pop("values")
    assert event.details == {"channel": "form", "changes": 4, "edit_version": 2, "codes": ["M1.1", "M1.2"]}
    # Old and new values in the event too, for the audit administrator (who does not see ValueChange).
    assert {(value["code"], value["field"], value["old"], value["new"]) for value in values} == {
        change[:4] for change in changes}


def test_saving_unchanged_values_writes_nothing(draft, filer_chongqing):
    before = (ValueChange.objects.count(), AuditEvent.objects.count(), draft.edit_version)
    outcome = save(draft, filer_chongqing, **{"M1.1": "83", "M2.1": "8922.530"})
    assert outcome.changed == 0
    draft.refresh_from_db()
    assert (ValueChange.objects.count(), AuditEvent.objects.count(), draft.edit_version) == before


def test_a_refused_value_keeps_the_stored_one_and_the_others_are_saved(draft, filer_chongqing):
    outcome = save(draft, filer_chongqing, **{"M4.1": "35", "M1.1": "84"})
    assert [finding.check for finding in outcome.result.errors] == ["hard_bounds"]
    stored = dict(draft.values.values_list("indicator__code", "value"))
    assert stored["M4.1"] != Decimal(35) and stored["M1.1"] == Decimal(84)


def test_a_stale_form_gets_a_conflict_listing_what_changed(draft, filer_chongqing):
    second_filer = type(filer_chongqing).objects.create_user(username="filer-chongqing-2", city=draft.city)
    second_filer.groups.set(filer_chongqing.groups.all())
    loaded_at = draft.edit_version
    return_values_save(indicator_return=draft, actor=second_filer, expected_version=loaded_at,
                       entries={"M1.1": ValueEntry(value="90")})

    with pytest.raises(EditConflict) as conflict:
        return_values_save(indicator_return=draft, actor=filer_chongqing, expected_version=loaded_at,
                           entries={"M1.1": ValueEntry(value="85"), "M1.3": ValueEntry(value="38")})

    (change,) = conflict.value.changes
    assert (change.indicator.code, change.old, change.new, change.actor.username) == ("M1.1", "83", "90",
                                                                                      "filer-chongqing-2")
    assert conflict.value.current_version == loaded_at + 1
    assert dict(draft.values.values_list("indicator__code", "value"))["M1.1"] == Decimal(90)


def test_a_flag_waits_for_an_explanation(draft, filer_chongqing, values):
    original = str(values["500000"][2024]["M4.1"])
    save(draft, filer_chongqing, **{"M4.1": "5"})
    flag = ValueFlag.objects.get(value__indicator__code="M4.1", check_code="soft_bounds")
    assert (flag.check_code, flag.severity, flag.decision) == ("soft_bounds", "warning", "pending")
    save(draft, filer_chongqing, **{"M4.1": original})
    assert not ValueFlag.objects.filter(value__indicator__code="M4.1").exists()


# Submission.

def test_submit_needs_every_value(period, last_year, filer_chongqing, values):
    partial = {code: value for code, value in values["500000"][2024].items() if code != "GDP"}
    indicator_return = filled_return(period=period, filer=filer_chongqing, year_values=partial)
    with pytest.raises(WorkflowError) as error:
        return_submit(indicator_return=indicator_return, actor=filer_chongqing)
    assert any("GDP" in message for message in error.value.messages)
    indicator_return.refresh_from_db()
    assert indicator_return.state == ReturnState.DRAFT


def test_submit_needs_an_explanation_for_each_warning(draft, filer_chongqing):
    save(draft, filer_chongqing, **{"M4.1": "5"})
    with pytest.raises(WorkflowError) as error:
        return_submit(indicator_return=draft, actor=filer_chongqing)
    assert "M4.1：报送前请对提示的数值作出说明。" in error.value.messages
    return_values_save(indicator_return=draft, actor=filer_chongqing, expected_version=None,
                       entries={"M4.1": ValueEntry(explanation="2024 年集中核销前口径")})
    assert return_submit(indicator_return=draft, actor=filer_chongqing).state == ReturnState.SUBMITTED


def test_submit_records_snapshot_audit_and_notifies_reviewers(draft, filer_chongqing, reviewer,
                                                              django_capture_on_commit_callbacks):
    reviewer.email = "reviewer@ccfi.example"
    reviewer.save()
    with django_capture_on_commit_callbacks(execute=True):
        submitted = return_submit(indicator_return=draft, actor=filer_chongqing, ip_address="10.0.0.9")
    assert (submitted.state, submitted.submission_count) == (ReturnState.SUBMITTED, 1)
    assert submitted.snapshots.get().values["M2.1"][0] == "8922.53"
    event = AuditEvent.objects.get(event_type="return.submit")
    assert (event.actor, event.ip_address, event.details) == (filer_chongqing, "10.0.0.9",
                                                              {"submission": 1, "on_time": True})
    (message,) = mail.outbox
    assert message.to == ["reviewer@ccfi.example"] and "重庆" in message.subject and "Chongqing" in message.body


@pytest.mark.parametrize("who", ["reviewer", "filer_chengdu"])
def test_others_cannot_save_or_submit(request, draft, who):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        save(draft, actor, **{"M1.1": "1"})
    with pytest.raises(PermissionDenied):
        return_submit(indicator_return=draft, actor=actor)


def test_a_submitted_return_cannot_be_edited_or_submitted_again(submitted, filer_chongqing):
    with pytest.raises(WorkflowError):
        save(submitted, filer_chongqing, **{"M1.1": "1"})
    with pytest.raises(WorkflowError):
        return_submit(indicator_return=submitted, actor=filer_chongqing)
    with pytest.raises(WorkflowError):
        return_resubmit(indicator_return=submitted, actor=filer_chongqing)


# Review.

def test_send_back_needs_a_comment(submitted, reviewer):
    with pytest.raises(WorkflowError) as error:
        return_send_back(indicator_return=submitted, actor=reviewer)
    assert error.value.code == "needs_comment"
    submitted.refresh_from_db()
    assert submitted.state == ReturnState.SUBMITTED


def test_send_back_resubmit_and_diff(submitted, reviewer, filer_chongqing, django_capture_on_commit_callbacks):
    filer_chongqing.email = "cq@ccfi.example"
    filer_chongqing.save()
    review_comment_add(indicator_return=submitted, actor=reviewer, comment=comment())
    with django_capture_on_commit_callbacks(execute=True):
        returned = return_send_back(indicator_return=submitted, actor=reviewer,
                                    comments=[comment("请补充来源", None, "source_missing")])
    assert returned.state == ReturnState.RETURNED
    assert mail.outbox[-1].to == ["cq@ccfi.example"]
    assert returned.comments.count() == 2

    save(returned, filer_chongqing, **{"M1.1": "84"})
    resubmitted = return_resubmit(indicator_return=returned, actor=filer_chongqing)
    assert (resubmitted.state, resubmitted.submission_count) == (ReturnState.SUBMITTED, 2)
    basis, rows = return_diff(indicator_return=resubmitted)
    assert basis == "submission"
    assert [(row.code, row.field, row.old, row.new) for row in rows] == [("M1.1", "value", "83", "84")]
    assert events(submitted) == ["return.start", "return.values_change", "return.submit", "return.comment",
                                 "return.send_back", "return.values_change", "return.resubmit"]


def test_approve_enqueues_the_recompute_after_commit(submitted, reviewer, django_capture_on_commit_callbacks):
    with mock.patch("indices.tasks.recompute_index_task.apply_async") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            approved = return_approve(indicator_return=submitted, actor=reviewer)
        delay.assert_not_called()  # nothing leaves before the commit
        for callback in callbacks:
            callback()
    assert [call.kwargs["args"] for call in delay.call_args_list] == [[submitted.period_id]]
    assert approved.state == ReturnState.APPROVED and approved.approved_at
    assert events(submitted)[-1] == "return.approve"


def test_a_rejected_explanation_blocks_approval(draft, filer_chongqing, reviewer):
    return_values_save(indicator_return=draft, actor=filer_chongqing, expected_version=None,
                       entries={"M4.1": ValueEntry(value="5", explanation="口径调整")})
    return_submit(indicator_return=draft, actor=filer_chongqing)
    value = ReturnValue.objects.get(indicator_return=draft, indicator__code="M4.1")
    assert value_explanation_review(value=value, actor=reviewer, decision="rejected") >= 1
    with pytest.raises(WorkflowError) as error:
        return_approve(indicator_return=draft, actor=reviewer)
    assert error.value.code == "rejected_explanation"

    return_send_back(indicator_return=draft, actor=reviewer, comments=[comment("说明不充分", "M4.1",
                                                                            "explanation_insufficient")])
    with pytest.raises(WorkflowError) as error:
        return_submit(indicator_return=draft, actor=filer_chongqing)
    assert "M4.1：审核员未认可情况说明，请修正数值或修改说明。" in error.value.messages
    # A new explanation goes back to the reviewer.
    return_values_save(indicator_return=draft, actor=filer_chongqing, expected_version=None,
                       entries={"M4.1": ValueEntry(explanation="口径调整：含信用卡分期，见附件")})
    return_submit(indicator_return=draft, actor=filer_chongqing)
    value_explanation_review(value=value, actor=reviewer, decision="accepted")
    assert return_approve(indicator_return=draft, actor=reviewer).state == ReturnState.APPROVED
    assert set(ValueFlag.objects.filter(value=value).values_list("decision", flat=True)) == {
        ExplanationDecision.ACCEPTED}


@pytest.mark.parametrize("who", ["filer_chongqing", "filer_chengdu"])
def test_filers_cannot_review(request, submitted, who):
    actor = request.getfixturevalue(who)
    value = submitted.values.first()
    for step in (lambda: return_approve(indicator_return=submitted, actor=actor),
                 lambda: return_send_back(indicator_return=submitted, actor=actor, comments=[comment()]),
                 lambda: review_comment_add(indicator_return=submitted, actor=actor, comment=comment()),
                 lambda: value_explanation_review(value=value, actor=actor, decision="accepted"),
                 lambda: returns_bulk_approve(returns=[submitted], actor=actor)):
        with pytest.raises(PermissionDenied):
            step()
    submitted.refresh_from_db()
    assert submitted.state == ReturnState.SUBMITTED


@pytest.mark.parametrize("state", [ReturnState.DRAFT, ReturnState.RETURNED, ReturnState.APPROVED])
def test_only_a_submitted_return_is_reviewed(draft, reviewer, state):
    IndicatorReturn.objects.filter(pk=draft.pk).update(state=state)
    for step in (lambda: return_approve(indicator_return=draft, actor=reviewer),
                 lambda: return_send_back(indicator_return=draft, actor=reviewer, comments=[comment()])):
        with pytest.raises(WorkflowError):
            step()


def test_bulk_approve_takes_clean_returns_and_skips_flagged_ones(period, last_year, draft, filer_chongqing,
                                                                filer_chengdu, reviewer, values,
                                                                django_capture_on_commit_callbacks):
    return_submit(indicator_return=draft, actor=filer_chongqing)
    flagged = filled_return(period=period, filer=filer_chengdu, year_values=values["510100"][2024], **{"M4.1": "5"})
    return_values_save(indicator_return=flagged, actor=filer_chengdu, expected_version=None,
                       entries={"M4.1": ValueEntry(explanation="核销前")})
    return_submit(indicator_return=flagged, actor=filer_chengdu)
    with mock.patch("indices.tasks.recompute_index_task.apply_async") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            outcome = returns_bulk_approve(returns=[draft, flagged], actor=reviewer)
    assert [item.pk for item in outcome.approved] == [draft.pk]
    assert [item.pk for item, _ in outcome.skipped] == [flagged.pk]
    assert [call.kwargs["args"] for call in delay.call_args_list] == [[period.pk]]
    assert AuditEvent.objects.get(event_type="return.approve").details["bulk"] is True


# Amendments.

def test_an_amendment_keeps_the_approved_revision_in_force_until_approved(submitted, reviewer, filer_chongqing):
    approved = return_approve(indicator_return=submitted, actor=reviewer)
    with pytest.raises(WorkflowError):
        return_reopen_for_amendment(indicator_return=approved, actor=filer_chongqing, reason=" ")
    amendment = return_reopen_for_amendment(indicator_return=approved, actor=filer_chongqing,
                                            reason="统计局修订年末人口")
    assert (amendment.revision, amendment.state, amendment.amends) == (2, ReturnState.DRAFT, approved)
    assert amendment.values.exclude(value=None).count() == 36
    with pytest.raises(WorkflowError):
        return_reopen_for_amendment(indicator_return=approved, actor=filer_chongqing, reason="again")

    save(amendment, filer_chongqing, **{"POP": "3195.00"})
    return_submit(indicator_return=amendment, actor=filer_chongqing)
    approved.refresh_from_db()
    assert approved.state == ReturnState.APPROVED  # still in force
    basis, rows = return_diff(indicator_return=amendment)
    assert basis == "approved" and [(row.code, row.new) for row in rows] == [("POP", "3195")]

    return_approve(indicator_return=amendment, actor=reviewer)
    approved.refresh_from_db()
    assert approved.state == ReturnState.SUPERSEDED
    assert list(IndicatorReturn.objects.filter(state=ReturnState.APPROVED, period=amendment.period,
                                               city=amendment.city)) == [amendment]
    assert "return.amend" in events(amendment) and "return.supersede" in events(approved)


def test_only_an_approved_return_is_reopened(draft, filer_chongqing):
    with pytest.raises(WorkflowError):
        return_reopen_for_amendment(indicator_return=draft, actor=filer_chongqing, reason="x")


# Periods, deadlines and extensions.

def test_a_closed_period_is_read_only_for_everyone(submitted, draft, reviewer, filer_chongqing):
    submitted.period.state = PeriodState.CLOSED
    submitted.period.save()
    with pytest.raises(WorkflowError):
        return_approve(indicator_return=submitted, actor=reviewer)
    with pytest.raises(WorkflowError):
        return_send_back(indicator_return=submitted, actor=reviewer, comments=[comment()])
    IndicatorReturn.objects.filter(pk=draft.pk).update(state=ReturnState.DRAFT)
    with pytest.raises(WorkflowError) as error:
        save(draft, filer_chongqing, **{"M1.1": "1"})
    assert error.value.code == "closed"


def test_after_the_lock_date_only_an_extension_lets_a_filer_edit(draft, period, reviewer, filer_chongqing, today):
    period.due_on = today - datetime.timedelta(days=10)
    period.locks_on = today - datetime.timedelta(days=1)
    period.save()
    with pytest.raises(WorkflowError) as error:
        save(draft, filer_chongqing, **{"M1.1": "84"})
    assert error.value.code == "locked"

    with pytest.raises(WorkflowError):
        period_extension_grant(period=period, city=draft.city, until=today - datetime.timedelta(days=1),
                               reason="系统故障", actor=reviewer)
    with pytest.raises(PermissionDenied):
        period_extension_grant(period=period, city=draft.city, until=today, reason="x", actor=filer_chongqing)
    period_extension_grant(period=period, city=draft.city, until=today + datetime.timedelta(days=7),
                           reason="统计局数据延迟发布", actor=reviewer)
    assert save(draft, filer_chongqing, **{"M1.1": "84"}).changed == 1
    submitted = return_submit(indicator_return=draft, actor=filer_chongqing)
    assert AuditEvent.objects.get(event_type="return.submit").details["on_time"] is False
    assert submitted.state == ReturnState.SUBMITTED
    assert AuditEvent.objects.filter(event_type="period.extension_grant").count() == 1


def test_a_save_before_the_lock_date_does_not_read_the_extensions(draft, period, reviewer, filer_chongqing, today):
    """Only after the lock date can an extension change whether a filer may save (every save asks)."""
    period.locks_on = today + datetime.timedelta(days=1)
    period.save()
    period_extension_grant(period=period, city=draft.city, until=today + datetime.timedelta(days=7),
                           reason="统计局数据延迟发布", actor=reviewer)
    with CaptureQueriesContext(connection) as queries:
        assert save(draft, filer_chongqing, **{"M1.1": "84"}).changed == 1
    assert not any("periodextension" in query["sql"] for query in queries)


def test_an_extension_for_one_city_does_not_open_another(period, last_year, reviewer, filer_chongqing,
                                                         filer_chengdu, city_chengdu, today):
    chongqing = return_start(period=period, city=filer_chongqing.city, actor=filer_chongqing)
    return_start(period=period, city=city_chengdu, actor=filer_chengdu)
    period.locks_on, period.due_on = today - datetime.timedelta(days=1), today - datetime.timedelta(days=2)
    period.save()
    period_extension_grant(period=period, city=city_chengdu, until=today, reason="延期", actor=reviewer)
    with pytest.raises(WorkflowError):
        save(chongqing, filer_chongqing, **{"M1.1": "84"})


def test_entries_helper_fills_a_complete_return(draft):
    assert draft.values.filter(value=None).count() == 0
    assert entries({"A": 1})["A"].value == "1"


def test_value_changes_are_append_only(draft):
    from django.core.exceptions import ValidationError

    change = ValueChange.objects.first()
    change.new = "forged"
    with pytest.raises(ValidationError):
        change.save()
    with pytest.raises(ValidationError):
        change.delete()
    assert ValueChange.objects.get(pk=change.pk).new != "forged"


def test_every_step_is_audited_with_actor_and_address(submitted, reviewer, filer_chongqing):
    return_send_back(indicator_return=submitted, actor=reviewer, comments=[comment()], ip_address="10.1.1.1")
    event = AuditEvent.objects.get(event_type="return.send_back")
    assert (event.actor, event.ip_address, event.success, event.object_id) == (reviewer, "10.1.1.1", True,
                                                                               str(submitted.pk))


@pytest.mark.parametrize("one_statement_up_to", [200, 2])  # a save's few values; an import's many (COPY on PostgreSQL)
def test_the_values_writer_stores_every_field_of_every_row(draft, monkeypatch, one_statement_up_to):
    from reporting.services import writers

    monkeypatch.setattr(writers, "VALUES_IN_ONE_STATEMENT", one_statement_up_to)
    rows = list(draft.values.order_by("indicator__code")[:5])
    for number, row in enumerate(rows):
        row.value = None if number == 0 else Decimal(f"{number}.25")
        row.observation_status = "provisional"
        row.source_note = f"来源 {number}; 'quoted' \\ text"
        row.explanation = "" if number % 2 else f"说明 {number}"
    writers.values_write(rows)

    stored = {value.pk: value for value in draft.values.all()}
    for row in rows:
        saved = stored[row.pk]
        assert (saved.value, saved.observation_status, saved.source_note, saved.explanation) == (
            row.value, row.observation_status, row.source_note, row.explanation)
    untouched = [value for pk, value in stored.items() if pk not in {row.pk for row in rows}]
    assert untouched and all(value.observation_status != "provisional" for value in untouched)


@pytest.mark.parametrize("one_statement_up_to", [200, 2])  # a save's few changes; an import's many (COPY)
def test_the_changes_writer_stores_every_column_of_every_row(draft, filer_chongqing, monkeypatch,
                                                            one_statement_up_to):
    monkeypatch.setattr(writers, "VALUES_IN_ONE_STATEMENT", one_statement_up_to)
    indicators = [value.indicator for value in draft.values.select_related("indicator").order_by("indicator__code")[:3]]
    changed_at = timezone.now()
    rows = [(draft.pk, indicator.pk, "source_note", f"旧 {n}", f"新 {n}; 'quoted' \\ text", filer_chongqing.pk,
             changed_at, "api", 99) for n, indicator in enumerate(indicators)]
    writers.changes_write(rows)

    stored = ValueChange.objects.filter(indicator_return=draft, edit_version=99).order_by("indicator__code")
    assert [(change.indicator_id, change.field, change.old, change.new, change.actor_id, change.changed_at,
             change.channel) for change in stored] == [row[1:8] for row in rows]
