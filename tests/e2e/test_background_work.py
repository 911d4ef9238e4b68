"""A methodologist asks for a recomputation, or publishes a run: the page answers at once and the background work
panel follows the real worker to the end by itself, without the page being reloaded."""
import re
import subprocess
import time

import pytest
from playwright.sync_api import expect

from indices.demo import DEMO_PASSWORD, demo_load
from indices.services import index_run_compute
from reporting.models import ReportingPeriod

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_recompute_answers_at_once_and_the_panel_reaches_done_by_itself(live_server, page, celery_worker_process):
    demo_load()
    page.goto(f"{live_server.url}/accounts/login/?next=/index/runs/")
    page.fill("#id_username", "methodologist")
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/index/runs/$"))

    # The worker is paused, as a busy one would be: the page must answer without waiting for it.
    subprocess.run(["pkill", "-STOP", "-f", celery_worker_process], check=True)
    try:
        started = time.monotonic()
        page.get_by_test_id("runs-2024").get_by_role("button", name="立即重新计算").click()
        expect(page.get_by_test_id("work-progress")).to_contain_text("已完成 0 / 1")
        answered = time.monotonic() - started
        expect(page.locator('[data-testid="work"] tr[data-state="queued"]')).to_have_count(1)
        page.evaluate("window.notReloaded = true")  # gone if anything reloads the page
    finally:
        subprocess.run(["pkill", "-CONT", "-f", celery_worker_process], check=True)

    expect(page.locator('[data-testid="work"] tr[data-state="done"]')).to_have_count(1, timeout=60_000)
    expect(page.get_by_test_id("work-progress")).to_contain_text("已完成 1 / 1")
    assert page.evaluate("window.notReloaded === true")
    assert answered < 5, answered  # a page load in a busy browser; the work itself ran on the worker


@pytest.mark.worker_pool("prefork")  # WeasyPrint is not thread-safe: two PDFs in two threads can corrupt the heap
def test_publishing_answers_at_once_and_the_panel_follows_both_white_papers_to_done(
        live_server, page, celery_worker_process, settings):
    settings.REPORTS_BUILD_ON_PUBLISH, settings.REPORTS_CITY_ON_PUBLISH = True, False
    demo_load()
    run = index_run_compute(period=ReportingPeriod.objects.get(data_year=2024))
    assert run.is_publishable and not run.is_published
    page.goto(f"{live_server.url}/accounts/login/?next=/index/runs/")
    page.fill("#id_username", "methodologist")
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/index/runs/$"))

    page.on("dialog", lambda dialog: dialog.accept())  # the confirmation of publishing
    started = time.monotonic()
    page.get_by_test_id(f"publish-{run.pk}").click()
    expect(page.get_by_test_id("work-progress")).to_contain_text("/ 2")
    answered = time.monotonic() - started
    page.evaluate("window.notReloaded = true")  # gone if anything reloads the page
    expect(page.locator('[data-testid="work"] tr[data-state="done"]')).to_have_count(2, timeout=150_000)
    expect(page.get_by_test_id("work-progress")).to_contain_text("已完成 2 / 2")
    assert page.evaluate("window.notReloaded === true")
    assert answered < 5, answered  # the white papers were built on the worker, not in the request
    run.refresh_from_db()
    assert run.is_published
    assert sorted(run.reports.values_list("language", "state")) == [("en", "succeeded"), ("zh-hans", "succeeded")]
