"""A reader opens the reports page and downloads the published white paper."""
import hashlib

import pytest
from playwright.sync_api import expect

from accounts.models import User
from indices.demo import DEMO_YEARS, demo_load
from indices.models import ReportKind, ReportState
from indices.reports.services import report_build
from indices.selectors import run_published
from indices.services import index_run_compute, index_run_publish
from reporting.models import ReportingPeriod

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def white_paper(db):
    demo_load()
    admin = User.objects.get(username="admin")
    run = None
    for period in ReportingPeriod.objects.filter(data_year__in=DEMO_YEARS).order_by("data_year"):
        run = run_published(period=period) or index_run_publish(run=index_run_compute(period=period), actor=admin)
    report = report_build(run=run, kind=ReportKind.WHITE_PAPER, language="zh-hans")
    assert report.state == ReportState.SUCCEEDED, report.error
    return report


def test_a_reader_downloads_the_white_paper(live_server, page, white_paper, tmp_path):
    page.goto(f"{live_server.url}/")
    page.get_by_test_id("nav-reports").click()
    expect(page.locator("h1")).to_have_text("报告下载")
    table = page.get_by_test_id("white-papers")
    expect(table).to_contain_text(str(white_paper.run.period.data_year))
    expect(table).to_contain_text(f"{white_paper.pages}")

    year = white_paper.run.period.data_year
    with page.expect_download() as download_info:
        page.get_by_test_id(f"download-{year}-zh-hans").click()
    download = download_info.value

    assert download.suggested_filename == f"CCFI-{year}-中国消费金融指数白皮书.pdf"
    saved = tmp_path / "white-paper.pdf"
    download.save_as(saved)
    content = saved.read_bytes()
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == white_paper.sha256
