"""The filing and review pages: what each role sees and may do, and 404 for another city's return."""
import datetime
import re
from decimal import Decimal
from http import HTTPStatus
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from reporting.models import EXPLAINABLE, IndicatorReturn, ReturnState, ReviewComment, ValueChange, ValueFlag
from reporting.selectors.values import PEER_STRIP_WIDTH, PeerPosition, peer_positions
from reporting.services import (
    CommentInput,
    ValueEntry,
    return_approve,
    return_reopen_for_amendment,
    return_send_back,
    return_submit,
    return_values_save,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def url(name, *args):
    return reverse(f"reporting:{name}", args=args)


def form_data(indicator_return, **values):
    data = {"edit_version": indicator_return.edit_version, "action": "save"}
    for code, value in values.items():
        data[f"value-{code}"] = value
        data[f"status-{code}"] = "final"
        data[f"source-{code}"] = "年鉴"
    return data


def test_the_menu_shows_only_what_a_role_may_do(client, filer_chongqing, reviewer):
    client.force_login(filer_chongqing)
    content = client.get("/").content.decode()
    assert url("dashboard") in content and url("review_queue") not in content
    client.force_login(reviewer)
    content = client.get("/").content.decode()
    assert url("review_queue") in content and url("board") in content and url("dashboard") not in content


def test_the_dashboard_shows_state_deadline_and_completeness(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    response = client.get(url("dashboard"))
    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "36/36" in content and "Draft" in content and draft.period.due_on.strftime("%Y-%m-%d") in content


def test_the_dashboard_tells_the_truth_through_the_life_of_a_late_return(client, draft, filer_chongqing, reviewer):
    """Overdue only while the first return waits for the filer; the reviewer's comment only while it is to be
    addressed; an amendment is never late, in the dashboard and in the history alike."""
    period = draft.period
    period.due_on = timezone.localdate() - datetime.timedelta(days=10)
    period.save(update_fields=["due_on"])
    client.force_login(filer_chongqing)

    def cells() -> tuple[str, str]:
        page = client.get(url("dashboard")).content.decode()
        days = re.search(r'data-testid="days-left-2024">(.*?)</td>', page, re.S).group(1)
        comment = re.search(r'data-testid="last-comment-2024">(.*?)</td>', page, re.S).group(1)
        return days, comment

    assert "10" in cells()[0]  # a draft, ten days past the due date
    return_submit(indicator_return=draft, actor=filer_chongqing)
    return_send_back(indicator_return=draft, actor=reviewer, comments=[
        CommentInput(text="单位疑误", reason_code="wrong_unit", indicator_code="M2.1")])
    days, comment = cells()
    assert "10" in days and "单位疑误" in comment
    return_submit(indicator_return=draft, actor=filer_chongqing)
    return_approve(indicator_return=draft, actor=reviewer)
    days, comment = cells()
    assert days.strip() == "—" and comment.strip() == ""

    amendment = return_reopen_for_amendment(indicator_return=draft, actor=filer_chongqing, reason="更正口径")
    assert cells()[0].strip() == "—"
    return_submit(indicator_return=amendment, actor=filer_chongqing)
    submit = AuditEvent.objects.filter(event_type="return.submit", object_id=str(amendment.pk)).get()
    assert submit.details["on_time"] is None  # the history marks it neither on time nor late
    history = client.get(url("return_history", amendment.pk)).content.decode()
    assert history.count('class="late"') == 1  # the first revision's submission, ten days late; not the amendment


def test_a_filer_starts_a_return_from_the_dashboard(client, period, filer_chongqing):
    client.force_login(filer_chongqing)
    response = client.post(url("return_start", period.pk))
    indicator_return = IndicatorReturn.objects.get()
    assert response.url == url("return_detail", indicator_return.pk)
    content = client.get(response.url).content.decode()
    assert 'name="value-M2.1"' in content and "0/36" in content


def test_the_form_saves_and_shows_a_hard_bound_error(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    response = client.post(url("return_detail", draft.pk), form_data(draft, **{"M4.1": "35", "M1.1": "84"}))
    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "M4.1: 35 is above the highest possible value 30 %; the value was not accepted." in content
    assert 'value="35"' in content  # the typed value stays in the field
    assert ValueChange.objects.filter(indicator__code="M1.1", new="84").exists()


def test_the_form_submits(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    data = form_data(draft, **{"M1.1": "83"}) | {"action": "submit"}
    response = client.post(url("return_detail", draft.pk), data)
    assert response.status_code == HTTPStatus.FOUND
    draft.refresh_from_db()
    assert draft.state == ReturnState.SUBMITTED
    content = client.get(url("return_detail", draft.pk)).content.decode()
    assert 'name="value-M1.1"' not in content  # read-only once submitted


def test_a_stale_form_shows_the_conflict(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    stale = form_data(draft, **{"M1.1": "85"})
    client.post(url("return_detail", draft.pk), form_data(draft, **{"M1.1": "90"}))
    response = client.post(url("return_detail", draft.pk), stale)
    assert response.status_code == HTTPStatus.CONFLICT
    content = response.content.decode()
    assert "Someone else saved this return while you were editing it" in content
    assert 'value="85"' in content and "<td>83</td><td>90</td>" in content


def test_inline_validation_of_one_field(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    response = client.post(url("return_validate", draft.pk, "M4.1"), {"value-M4.1": "35"})
    assert "above the highest possible value 30" in response.content.decode()
    assert not ValueChange.objects.filter(new="35").exists()


def test_a_reviewer_cannot_post_values(client, draft, reviewer):
    client.force_login(reviewer)
    assert client.post(url("return_detail", draft.pk), form_data(draft, **{"M1.1": "1"})).status_code == 403
    assert client.get(url("return_detail", draft.pk)).status_code == HTTPStatus.OK
    assert 'name="value-M1.1"' not in client.get(url("return_detail", draft.pk)).content.decode()


@pytest.mark.parametrize("name", ["return_detail", "return_history", "import_template", "import_upload",
                                  "review_detail"])
def test_another_citys_return_is_not_found(client, draft, filer_chengdu, name):
    client.force_login(filer_chengdu)
    assert client.get(url(name, draft.pk)).status_code == HTTPStatus.NOT_FOUND


def test_another_citys_return_cannot_be_posted_to(client, draft, filer_chengdu):
    client.force_login(filer_chengdu)
    for name in ("return_detail", "return_amend", "evidence_upload"):
        assert client.post(url(name, draft.pk), form_data(draft, **{"M1.1": "1"})).status_code == 404
    assert client.post(url("return_validate", draft.pk, "M1.1"), {}).status_code == 404


def test_reviewer_pages_are_forbidden_to_filers(client, filer_chongqing, submitted):
    client.force_login(filer_chongqing)
    for name in ("review_queue", "board"):
        assert client.get(url(name)).status_code == HTTPStatus.FORBIDDEN
    assert client.get(url("review_detail", submitted.pk)).status_code == HTTPStatus.FORBIDDEN
    assert client.post(url("review_bulk_approve"), {"returns": [submitted.pk]}).status_code == 403


def test_the_review_page_shows_peers_flags_and_diff(client, submitted, reviewer, last_year, period, values,
                                                    filer_chengdu):
    from tests.reporting.conftest import filled_return

    chengdu = filled_return(period=period, filer=filer_chengdu, year_values=values["510100"][2024])
    return_submit(indicator_return=chengdu, actor=filer_chengdu)
    client.force_login(reviewer)
    response = client.get(url("review_detail", submitted.pk))
    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    chengdu_balance = str(values["510100"][2024]["M2.1"])
    assert chengdu_balance in content and "n = 1" in content
    assert "8118.77" in content  # last year's approved value


def test_review_send_back_needs_a_comment_then_works(client, submitted, reviewer):
    client.force_login(reviewer)
    client.post(url("review_detail", submitted.pk), {"action": "send_back"})
    submitted.refresh_from_db()
    assert submitted.state == ReturnState.SUBMITTED
    client.post(url("review_detail", submitted.pk), {"action": "send_back", "comment-M2.1": "单位疑误",
                                                     "reason-M2.1": "wrong_unit"})
    submitted.refresh_from_db()
    assert submitted.state == ReturnState.RETURNED
    assert ReviewComment.objects.get().indicator.code == "M2.1"


def test_deciding_on_an_explanation_keeps_the_comments_being_written(client, draft, filer_chongqing, reviewer):
    """The decision buttons belong to the review form: the comments typed so far are saved with the decision."""
    return_values_save(indicator_return=draft, actor=filer_chongqing, expected_version=None,
                       entries={"M4.1": ValueEntry(value="5", explanation="口径调整")})
    return_submit(indicator_return=draft, actor=filer_chongqing)
    client.force_login(reviewer)
    page = client.get(url("review_detail", draft.pk)).content.decode()
    form = page[page.index('<form method="post" id="review-form">'):]
    form = form[:form.index("</form>")]
    assert 'name="explain" value="M4.1:rejected"' in form and 'name="comment-M2.1"' in form

    response = client.post(url("review_detail", draft.pk), {
        "explain": "M4.1:rejected", "comment-M2.1": "单位疑误", "reason-M2.1": "wrong_unit",
        "comment": "请一并核对附件", "reason": ""}, follow=True)
    assert response.status_code == HTTPStatus.OK
    assert set(ValueFlag.objects.filter(value__indicator_return=draft, value__indicator__code="M4.1",
                                        severity__in=EXPLAINABLE).values_list("decision", flat=True)) == {"rejected"}
    assert sorted((comment.indicator.code if comment.indicator else "", comment.text)
                  for comment in ReviewComment.objects.filter(indicator_return=draft)) == [
        ("", "请一并核对附件"), ("M2.1", "单位疑误")]
    content = response.content.decode()
    assert "单位疑误" in content and "请一并核对附件" in content


def test_review_approve_and_bulk_approve(client, submitted, reviewer, django_capture_on_commit_callbacks):
    client.force_login(reviewer)
    queue = client.get(url("review_queue")).content.decode()
    assert f'value="{submitted.pk}"' in queue  # clean: offered for bulk approval
    # The task itself is mocked: running it here would leave Celery's thread-local result backend
    # configured before tests/test_celery_worker.py sets the real one.
    with mock.patch("indices.tasks.recompute_index_task.apply_async") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url("review_bulk_approve"), {"returns": [submitted.pk]})
    assert [call.kwargs["args"] for call in delay.call_args_list] == [[submitted.period_id]]
    submitted.refresh_from_db()
    assert submitted.state == ReturnState.APPROVED


def test_the_board_counts_on_time_and_late(client, submitted, reviewer, period):
    client.force_login(reviewer)
    content = client.get(url("board") + f"?period={period.pk}").content.decode()
    assert "1 of 2 cities submitted (1 on time, 0 late); 0 approved." in content


def test_the_board_grants_an_extension(client, period, reviewer, city_chongqing):
    client.force_login(reviewer)
    until = period.locks_on + datetime.timedelta(days=5)
    client.post(url("board") + f"?period={period.pk}", {"city": city_chongqing.pk, "until": until.isoformat(),
                                                        "reason": "统计公报推迟"})
    assert AuditEvent.objects.filter(event_type="period.extension_grant").count() == 1


def test_history_shows_changes_and_transitions(client, submitted, filer_chongqing):
    client.force_login(filer_chongqing)
    content = client.get(url("return_history", submitted.pk)).content.decode()
    assert "Submitted" in content and "Return started" in content and "M2.1" in content


def test_an_amendment_is_opened_from_the_approved_return(client, submitted, reviewer, filer_chongqing):
    from reporting.services import return_approve

    return_approve(indicator_return=submitted, actor=reviewer)
    client.force_login(filer_chongqing)
    assert "Open an amendment" in client.get(url("return_detail", submitted.pk)).content.decode()
    response = client.post(url("return_amend", submitted.pk), {"reason": "人口数据修订"})
    amendment = IndicatorReturn.objects.get(revision=2)
    assert response.url == url("return_detail", amendment.pk)


def test_a_value_far_outside_the_other_cities_is_marked_on_the_strip_and_flagged():
    position = peer_positions({"M3.1": [Decimal(value) for value in ("300", "420", "380", "567", "350")]})["M3.1"]
    assert isinstance(position, PeerPosition) and position.values[0] == Decimal("300")
    assert position.is_unusual(Decimal("1102.7")) and position.is_outside(Decimal("1102.7"))
    assert not position.is_unusual(Decimal("400"))
    strip = position.strip(Decimal("1102.7"))
    assert strip.mine == PEER_STRIP_WIDTH - 4 and min(strip.peers) == 4 and max(strip.peers) < strip.mine
    few = peer_positions({"M3.1": [Decimal("1"), Decimal("2")]})["M3.1"]
    assert not few.is_unusual(Decimal("100"))  # two other cities say too little


def test_the_review_page_draws_each_values_place_among_the_peers(client, submitted, reviewer, period, values,
                                                                  filer_chengdu):
    from tests.reporting.conftest import filled_return

    chengdu = filled_return(period=period, filer=filer_chengdu, year_values=values["510100"][2024])
    return_submit(indicator_return=chengdu, actor=filer_chengdu)
    client.force_login(reviewer)
    page = client.get(url("review_detail", submitted.pk)).content.decode()
    assert 'data-testid="peer-strip-M2_1"' in page and "<svg" in page and "style=" not in page.split("<main")[1]
