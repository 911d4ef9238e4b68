"""The secretariat's run list (recompute, publish) and the methodologist's what-if page."""
import pytest
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from indices.demo import demo_load
from indices.models import IndexRun, WorkRequest, WorkState
from indices.services import index_run_compute
from methodology.models import MethodologyNode
from methodology.services import methodology_clone
from reporting.models import ReportingPeriod, ReturnValue

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(db) -> ReportingPeriod:
    demo_load()
    return ReportingPeriod.objects.select_related("methodology").get(data_year=2024)


def login(client, username: str) -> User:
    user = User.objects.get(username=username)
    client.force_login(user)
    return user


def test_the_run_list_is_for_the_secretariat_only(period, client):
    index_run_compute(period=period)
    url = reverse("indices:runs")

    assert client.get(url).status_code == 302  # to the login page
    login(client, "filer-chongqing")
    assert client.get(url).status_code == 403
    login(client, "reviewer")
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="runs-2024"' in page.content.decode()
    assert "publish-" not in page.content.decode()  # reviewers do not publish


def test_a_methodologist_publishes_from_the_run_list(period, client):
    run = index_run_compute(period=period)
    login(client, "methodologist")
    assert f'data-testid="publish-{run.pk}"' in client.get(reverse("indices:runs")).content.decode()

    response = client.post(reverse("indices:run_publish", args=[run.pk]), follow=True)

    run.refresh_from_db()
    assert run.is_published and AuditEvent.objects.filter(event_type="index_run.publish").exists()
    assert "2024" in response.content.decode()
    login(client, "reviewer")
    assert client.post(reverse("indices:run_publish", args=[run.pk])).status_code == 403


def test_recompute_asks_in_the_outbox_and_runs_after_the_commit(period, client, django_capture_on_commit_callbacks):
    login(client, "reviewer")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("indices:run_recompute", args=[2024]))

    assert IndexRun.objects.filter(period=period, state="succeeded").count() == 1  # eager in the tests
    work = WorkRequest.objects.get(period=period)
    assert work.state == WorkState.DONE and work.requested_by.username == "reviewer" and work.attempts == 1


def test_a_year_with_nothing_approved_is_not_recomputed_and_says_why(period, client):
    """The demo's 2025 period is open with empty drafts only: no failed run, no work, a message instead."""
    login(client, "reviewer")
    response = client.post(reverse("indices:run_recompute", args=[2025]), follow=True)
    assert "2025 年指数尚无法计算：该年度还没有审核通过的报表。" in response.content.decode()
    assert not IndexRun.objects.filter(period__data_year=2025).exists()
    assert not WorkRequest.objects.filter(period__data_year=2025).exists()


def test_publishing_a_provisional_run_says_why_not(period, client):
    ReturnValue.objects.filter(indicator_return__period=period, indicator_return__city__code="500000").delete()
    period.returns.filter(city__code="500000").update(state="submitted")
    run = index_run_compute(period=period)
    login(client, "methodologist")

    response = client.post(reverse("indices:run_publish", args=[run.pk]), follow=True)

    run.refresh_from_db()
    assert not run.is_published
    assert "29" in response.content.decode() and "30" in response.content.decode()


def test_the_whatif_page_compares_a_draft_with_the_published_run(period, client):
    run = index_run_compute(period=period)
    draft = methodology_clone(version=period.methodology, actor=None, new_version="2025.2")
    MethodologyNode.objects.filter(version=draft, code="V").update(weight=3)
    assert client.get(reverse("indices:whatif")).status_code == 302
    login(client, "reviewer")
    assert client.get(reverse("indices:whatif")).status_code == 403
    login(client, "methodologist")

    page = client.get(reverse("indices:whatif"), {"run": run.pk, "methodology": draft.pk}).content.decode()

    assert 'data-testid="whatif-table"' in page and "2025.2" in page
    assert "▲" in page and "▼" in page
    assert "33.33%" in page and "60.00%" in page and "0.3333" not in page  # weights as the public page writes them
    assert IndexRun.objects.count() == 1


def test_a_published_runs_explanation_is_public_and_a_provisional_one_is_not(period, client):
    run = index_run_compute(period=period)
    url = reverse("indices:run_detail", args=[run.pk])
    assert client.get(url).status_code == 404  # not published yet

    login(client, "reviewer")
    page = client.get(url).content.decode()
    assert run.input_hash in page and 'data-testid="run-audit"' in page and 'data-testid="run-sensitivity"' in page
    assert "克朗巴赫" in page  # Cronbach's alpha, in Chinese
    client.logout()
    run.published_at = run.finished_at
    run.save(update_fields=["published_at"])
    assert client.get(url).status_code == 200


def test_a_failed_runs_error_is_shown_in_the_readers_language(period, client):
    draft = methodology_clone(version=period.methodology, actor=None, new_version="geo")
    MethodologyNode.objects.filter(version=draft, parent__isnull=False, parent__parent__isnull=False).update(
        aggregation="geometric")
    from methodology.services import methodology_publish

    failed = index_run_compute(period=period, methodology=methodology_publish(version=draft, actor=None))
    login(client, "reviewer")

    chinese = client.get(reverse("indices:runs")).content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(reverse("indices:runs")).content.decode()

    assert "geometric" in failed.error and "需要正值" in chinese and "needs positive values" in english
