"""The in-app inbox: notices made with the e-mail after commit, for the same people; each user sees only their own."""
from http import HTTPStatus

import pytest
from django.core import mail
from django.utils import translation

from reporting.models import Notification
from reporting.services import CommentInput, return_approve, return_send_back, return_submit

pytestmark = pytest.mark.django_db


def test_submitting_notifies_reviewers_in_app_even_without_an_e_mail_address(
        draft, filer_chongqing, reviewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return_submit(indicator_return=draft, actor=filer_chongqing)
    (notice,) = Notification.objects.all()
    assert (notice.recipient, notice.event, notice.read_at) == (reviewer, "submitted", None)
    assert notice.link == f"/review/{draft.pk}/"
    assert notice.subject == "重庆已报送 2024 年度报表"
    with translation.override("en"):
        assert notice.subject == "Chongqing submitted its return for 2024"
    assert mail.outbox == []  # nobody has an address


def test_nothing_is_made_before_the_commit(draft, filer_chongqing, reviewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        return_submit(indicator_return=draft, actor=filer_chongqing)
    assert not Notification.objects.exists()
    for callback in callbacks:
        callback()
    assert Notification.objects.filter(recipient=reviewer).count() == 1


def test_sending_back_and_approving_notify_the_citys_filers_only(
        submitted, reviewer, filer_chongqing, filer_chengdu, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        returned = return_send_back(indicator_return=submitted, actor=reviewer, comments=[
            CommentInput(text="单位有误", reason_code="wrong_unit", indicator_code="M2.1")])
    (notice,) = Notification.objects.filter(event="returned")
    assert (notice.recipient, notice.link) == (filer_chongqing, f"/returns/{returned.pk}/")
    returned.state = "submitted"
    returned.save(update_fields=["state"])
    with django_capture_on_commit_callbacks(execute=True):
        return_approve(indicator_return=returned, actor=reviewer)
    assert list(Notification.objects.filter(event="approved").values_list("recipient", flat=True)) == [
        filer_chongqing.pk]
    assert not Notification.objects.filter(recipient=filer_chengdu).exists()


@pytest.fixture
def notices(reviewer, filer_chongqing):
    params = {"city_zh": "重庆", "city_en": "Chongqing", "year": 2024}
    mine = [Notification.objects.create(recipient=reviewer, event="submitted", params=params, link="/review/1/")
            for _ in range(3)]
    theirs = Notification.objects.create(recipient=filer_chongqing, event="approved", params=params,
                                         link="/returns/1/")
    return mine, theirs


def test_the_inbox_lists_ones_own_notices_newest_first_with_a_badge(client, reviewer, notices):
    mine, theirs = notices
    client.force_login(reviewer)
    response = client.get("/inbox/")
    assert response.status_code == HTTPStatus.OK
    assert [item.pk for item in response.context["page"].object_list] == [item.pk for item in reversed(mine)]
    content = response.content.decode()
    assert 'data-testid="inbox-badge"' in content and ">3</span>" in content
    assert f'data-testid="notice-{theirs.pk}"' not in content


def test_opening_a_notice_marks_it_read_and_leads_to_its_page(client, reviewer, notices):
    mine, _theirs = notices
    client.force_login(reviewer)
    response = client.get(f"/inbox/{mine[0].pk}/")
    assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, "/review/1/")
    mine[0].refresh_from_db()
    first_read = mine[0].read_at
    assert first_read is not None
    client.get(f"/inbox/{mine[0].pk}/")
    mine[0].refresh_from_db()
    assert mine[0].read_at == first_read  # read once
    assert Notification.objects.filter(recipient=reviewer, read_at__isnull=True).count() == 2


def test_another_users_notice_is_not_found(client, reviewer, notices):
    _mine, theirs = notices
    client.force_login(reviewer)
    assert client.get(f"/inbox/{theirs.pk}/").status_code == HTTPStatus.NOT_FOUND
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_marks_only_ones_own(client, reviewer, notices):
    _mine, theirs = notices
    client.force_login(reviewer)
    assert client.get("/inbox/read-all/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert client.post("/inbox/read-all/").status_code == HTTPStatus.FOUND
    assert not Notification.objects.filter(recipient=reviewer, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert 'data-testid="inbox-badge"' not in client.get("/inbox/").content.decode()


def test_the_inbox_is_paginated(client, reviewer):
    params = {"city_zh": "重庆", "city_en": "Chongqing", "year": 2024}
    Notification.objects.bulk_create([Notification(recipient=reviewer, event="submitted", params=params)
                                      for _ in range(25)])
    client.force_login(reviewer)
    assert len(client.get("/inbox/").context["page"].object_list) == 20
    assert len(client.get("/inbox/?page=2").context["page"].object_list) == 5


def test_anonymous_readers_log_in_first(client):
    assert client.get("/inbox/").status_code == HTTPStatus.FOUND


def test_an_extension_notifies_the_citys_filers_and_the_reviewers_each_with_their_page(
        period, today, reviewer, filer_chongqing, filer_chengdu, django_capture_on_commit_callbacks):
    import datetime

    from reporting.services import period_extension_grant

    with django_capture_on_commit_callbacks(execute=True):
        period_extension_grant(period=period, city=filer_chongqing.city, until=today + datetime.timedelta(days=70),
                               reason="统计局延迟发布", actor=reviewer)
    links = dict(Notification.objects.filter(event="extension").values_list("recipient", "link"))
    assert links == {reviewer.pk: "/review/board/", filer_chongqing.pk: "/returns/"}
    until = (today + datetime.timedelta(days=70)).isoformat()
    with translation.override("en"):
        assert Notification.objects.get(recipient=filer_chongqing).subject == (
            f"Chongqing may keep editing its return for 2024 until {until}")
