"""The PDF white paper and city reports: content read back from the PDFs, storage, builds, downloads."""
import hashlib
import io
import re
import time
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from accounts.models import City, Role, User
from indices.demo import DEMO_CITIES, DEMO_YEARS, demo_load
from indices.models import Report, ReportKind, ReportState
from indices.reports import formatting as fmt
from indices.reports.builder import harfbuzz_subset_available, report_render_pdf
from indices.reports.data import report_data
from indices.reports.services import report_build, reports_request_for_run
from indices.selectors import run_published
from indices.services import index_run_compute, index_run_publish

pytestmark = pytest.mark.django_db

CHAPTERS_ZH = ["执行摘要", "全国概览", "市场主体建设", "产业生态", "市场环境", "城市概况", "方法附录", "数据附录"]
CHAPTERS_EN = ["Executive summary", "National overview", "Market-entity construction", "Industrial ecology",
               "Market environment", "City profiles", "Methodology appendix", "Data appendix"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def published_run(db):
    """The demo: 30 cities, two years of illustrative returns, both years' index published."""
    demo_load()
    admin = User.objects.get(username="admin")
    runs = []
    from reporting.models import ReportingPeriod

    for period in ReportingPeriod.objects.filter(data_year__in=DEMO_YEARS).order_by("data_year"):
        run = run_published(period=period) or index_run_publish(run=index_run_compute(period=period), actor=admin)
        runs.append(run)
    return runs[-1]


def _outline_titles(reader: PdfReader) -> list[str]:
    titles = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(item.title)

    walk(reader.outline)
    return titles


def _fonts(reader: PdfReader) -> list[dict]:
    fonts = {}
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            fonts[font.get("/BaseFont")] = font
    return list(fonts.values())


def _assert_fonts_embedded(reader: PdfReader) -> None:
    fonts = _fonts(reader)
    assert fonts
    for font in fonts:
        assert font["/Subtype"] != "/Type3", font.get("/BaseFont")
        descendants = font.get("/DescendantFonts")
        descriptor = (descendants[0].get_object() if descendants else font).get("/FontDescriptor").get_object()
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font.get("/BaseFont")
        assert "NotoSansCJK" in str(font["/BaseFont"]).replace("-", "")


def _figures(node, found: list) -> list:
    """The /Figure elements of a structure tree, depth first."""
    node = node.get_object()
    if isinstance(node, list):
        for item in node:
            _figures(item, found)
    elif hasattr(node, "get"):
        if node.get("/S") == "/Figure":
            found.append(node)
        if "/K" in node:
            _figures(node["/K"], found)
    return found


def _assert_tagged(reader: PdfReader, *, lang: str, charts: int) -> list[str]:
    """PDF/UA: marked content with a structure tree, the document's language and title, and alt text on every
    chart (a /Figure); returns the figures' alt texts."""
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"].value is True
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == lang
    assert root["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    assert reader.metadata.title
    figures = _figures(root["/StructTreeRoot"], [])
    assert len(figures) >= charts, len(figures)
    alts = [str(figure.get("/Alt", "")) for figure in figures]
    assert all(alt.strip() for alt in alts), alts
    return alts


def test_harfbuzz_subsetter_is_installed():
    """Without libharfbuzz-subset0 WeasyPrint subsets the CJK font with fontTools, 50 times slower."""
    assert harfbuzz_subset_available()


@pytest.mark.parametrize("language,chapters,name_field", [
    ("zh-hans", CHAPTERS_ZH, "name_zh"),
    ("en", CHAPTERS_EN, "name_en"),
])
def test_white_paper_edition(published_run, language, chapters, name_field):
    report = report_build(run=published_run, kind=ReportKind.WHITE_PAPER, language=language)

    assert report.state == ReportState.SUCCEEDED, report.error
    content = report.file.read()
    report.file.close()
    assert hashlib.sha256(content).hexdigest() == report.sha256
    assert report.size == len(content)
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == report.pages >= 45
    titles = _outline_titles(reader)
    for chapter in chapters:
        assert chapter in titles, (chapter, titles)
    # One bookmark per city profile.
    for city in DEMO_CITIES:
        assert any(getattr(city, name_field) in title for title in titles), city.code
    text = "\n".join(page.extract_text() for page in reader.pages)
    for city in DEMO_CITIES:
        assert getattr(city, name_field) in text, city.code
    _assert_fonts_embedded(reader)
    # Tagged (PDF/UA-1); each chart's alt text says what it shows, e.g. the ranking's top cities and scores.
    alts = _assert_tagged(reader, lang="zh-Hans" if language == "zh-hans" else "en", charts=6)
    highest = "最高：" if language == "zh-hans" else "Highest: "
    assert any(highest in alt and re.search(r"\d+\.\d", alt) for alt in alts), alts
    metadata = reader.metadata
    assert str(published_run.period.data_year) in metadata.title
    # The same word as the download page: 白皮书 / white paper, never 年度报告 / annual report.
    assert ("白皮书" if language == "zh-hans" else "white paper") in metadata.title
    assert "年度报告" not in text and "Annual report" not in text
    assert metadata.get("/CreationDate")


def test_same_run_and_language_give_the_same_bytes(published_run):
    city = City.objects.get(code="500000")
    first = report_render_pdf(run=published_run, kind=ReportKind.CITY, language="zh-hans", city=city)
    report_data.__globals__["_CACHE"].clear()  # read the data again, as another worker would
    second = report_render_pdf(run=published_run, kind=ReportKind.CITY, language="zh-hans", city=city)
    assert first.content == second.content


def test_city_report_is_short_and_names_the_city(published_run):
    city = City.objects.get(code="500000")
    report = report_build(run=published_run, kind=ReportKind.CITY, language="zh-hans", city=city)

    assert report.state == ReportState.SUCCEEDED
    reader = PdfReader(report.file.path)
    assert 1 <= len(reader.pages) <= 4
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "重庆" in text
    assert "M1.1" in text and "V4.4" in text
    _assert_fonts_embedded(reader)
    alts = _assert_tagged(reader, lang="zh-Hans", charts=1)
    assert any("重庆" in alt for alt in alts), alts


def test_rebuild_keeps_the_file_and_a_failed_build_keeps_the_previous_file(published_run, monkeypatch):
    city = City.objects.get(code="500000")
    report = report_build(run=published_run, kind=ReportKind.CITY, language="en", city=city)
    name, digest = report.file.name, report.sha256

    again = report_build(run=published_run, kind=ReportKind.CITY, language="en", city=city)
    assert (again.pk, again.file.name, again.sha256) == (report.pk, name, digest)
    assert again.built_at == report.built_at  # the same bytes: the file was not written again

    def broken(**kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr("indices.reports.services.report_render_pdf", broken)
    failed = report_build(run=published_run, kind=ReportKind.CITY, language="en", city=city)

    assert failed.state == ReportState.FAILED
    assert "renderer crashed" in failed.error
    assert (failed.file.name, failed.sha256) == (name, digest)
    assert hashlib.sha256(failed.file.storage.open(name).read()).hexdigest() == digest
    assert Report.objects.count() == 1


def test_build_report_command_builds_a_city_report(published_run, capsys):
    # A management command deactivates translations (Django's BaseCommand.execute): restore them after.
    with translation.override(settings.LANGUAGE_CODE):
        call_command("build_report", "--period", str(published_run.period.data_year), "--lang", "en",
                     "--city", "110000")

    report = Report.objects.get(kind=ReportKind.CITY, city__code="110000", language="en")
    assert report.state == ReportState.SUCCEEDED
    assert report.sha256 in capsys.readouterr().out


def test_requests_for_a_run_send_both_editions_and_the_city_reports(published_run, monkeypatch, settings,
                                                                    django_capture_on_commit_callbacks):
    settings.REPORTS_BUILD_ON_PUBLISH, settings.REPORTS_CITY_ON_PUBLISH = True, True
    sent = []
    monkeypatch.setattr("indices.tasks.build_report_task.apply_async", lambda args, **kwargs: sent.append(tuple(args)))

    with django_capture_on_commit_callbacks(execute=True):
        reports_request_for_run(published_run)

    assert (published_run.pk, ReportKind.WHITE_PAPER, "zh-hans") in sent
    assert (published_run.pk, ReportKind.WHITE_PAPER, "en") in sent
    assert len([args for args in sent if args[1] == ReportKind.CITY]) == 2 * len(DEMO_CITIES)


def test_formatting_uses_the_language_scales():
    assert fmt.amount(47218.66, unit_zh="亿元", unit_en="100 million yuan", language="zh-hans") == "4.72万亿元"
    assert fmt.amount(47218.66, unit_zh="亿元", unit_en="100 million yuan", language="en") == "CNY 4.72 trillion"
    assert fmt.amount(2487.45, unit_zh="万人", unit_en="10 thousand persons", language="en") == "24.87 million persons"
    assert fmt.rank_change(3) == "▲3" and fmt.rank_change(-2) == "▼2"
    assert fmt.number(-1234.5) == "−1,234.5"


# Downloads: rows with a small stand-in file, no rendering needed.

PDF_BYTES = b"%PDF-1.7\n% stand-in\n%%EOF\n"


@pytest.fixture
def stored_reports(published_run, city_chongqing_demo):
    def make(kind, language, city=None):
        report = Report(run=published_run, kind=kind, language=language, city=city, state=ReportState.SUCCEEDED,
                        sha256=hashlib.sha256(PDF_BYTES).hexdigest(), size=len(PDF_BYTES), pages=1)
        report.file.save(f"test-{kind}-{language}-{city.code if city else 'all'}.pdf", ContentFile(PDF_BYTES),
                         save=False)
        report.save()
        return report

    return {
        "white_zh": make(ReportKind.WHITE_PAPER, "zh-hans"),
        "chongqing": make(ReportKind.CITY, "zh-hans", city_chongqing_demo),
        "beijing": make(ReportKind.CITY, "zh-hans", City.objects.get(code="110000")),
    }


@pytest.fixture
def city_chongqing_demo(published_run):
    return City.objects.get(code="500000")


def _user(username, role, city=None):
    from django.contrib.auth.models import Group

    user = User.objects.create_user(username=username, password="Ccfi-test-2025", city=city)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_download_page_lists_the_white_paper_for_anyone(client, stored_reports):
    response = client.get(reverse("reports:list"))

    assert response.status_code == HTTPStatus.OK
    assert reverse("reports:download", args=[stored_reports["white_zh"].pk]) in response.content.decode()
    assert reverse("reports:download", args=[stored_reports["chongqing"].pk]) not in response.content.decode()


def test_white_paper_download_has_pdf_type_and_a_chinese_file_name(client, stored_reports):
    response = client.get(reverse("reports:download", args=[stored_reports["white_zh"].pk]))

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF_BYTES
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''CCFI-2024-%E4%B8%AD%E5%9B%BD" in disposition


def test_city_report_is_downloaded_by_its_filers_and_reviewers_only(client, stored_reports):
    chongqing, beijing = stored_reports["chongqing"], stored_reports["beijing"]
    filer = _user("filer-cq-test", Role.FILER, city=chongqing.city)
    client.force_login(filer)
    assert client.get(reverse("reports:download", args=[chongqing.pk])).status_code == HTTPStatus.OK
    # Another city's report: not found, like another city's return.
    assert client.get(reverse("reports:download", args=[beijing.pk])).status_code == HTTPStatus.NOT_FOUND
    listing = client.get(reverse("reports:list")).content.decode()
    assert reverse("reports:download", args=[chongqing.pk]) in listing
    assert reverse("reports:download", args=[beijing.pk]) not in listing

    client.force_login(_user("reviewer-test", Role.REVIEWER))
    assert client.get(reverse("reports:download", args=[beijing.pk])).status_code == HTTPStatus.OK

    client.logout()
    assert client.get(reverse("reports:download", args=[chongqing.pk])).status_code == HTTPStatus.NOT_FOUND


def test_reports_of_an_unpublished_run_are_not_listed(client, stored_reports, published_run):
    type(published_run).objects.filter(pk=published_run.pk).update(published_at=None)

    assert client.get(reverse("reports:download", args=[stored_reports["white_zh"].pk])).status_code == 404


def test_the_url_fetcher_reads_only_inlined_data():
    from indices.reports.builder import _refusing_fetcher

    fetcher = _refusing_fetcher()
    for url in ("file:///etc/hostname", "http://127.0.0.1/", "https://example.org/a.css"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain;base64,b2s=").read() == b"ok"


def test_report_dependencies_check_passes_on_this_machine():
    from indices.reports.checks import report_dependencies_check

    assert report_dependencies_check() == []


def test_publishing_enqueues_the_white_papers_after_the_commit(db, monkeypatch, settings,
                                                                django_capture_on_commit_callbacks):
    """Without workers (eager), city reports are left to be built on first download."""
    settings.REPORTS_BUILD_ON_PUBLISH, settings.REPORTS_CITY_ON_PUBLISH = True, False
    sent = []
    monkeypatch.setattr("indices.tasks.build_report_task.apply_async", lambda args, **kwargs: sent.append(tuple(args)))
    demo_load()
    from reporting.models import ReportingPeriod

    run = index_run_compute(period=ReportingPeriod.objects.get(data_year=2024))
    with django_capture_on_commit_callbacks(execute=True):
        index_run_publish(run=run, actor=User.objects.get(username="methodologist"))
        assert sent == []  # nothing before the commit

    assert sorted(sent) == [(run.pk, ReportKind.WHITE_PAPER, "en"), (run.pk, ReportKind.WHITE_PAPER, "zh-hans")]


def test_a_filer_downloads_the_citys_report_built_on_demand(published_run, client):
    year = published_run.period.data_year
    url = reverse("reports:city", args=[year, "500000", "zh-hans"])
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND  # anonymous
    client.force_login(User.objects.get(username="filer-beijing"))
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND  # another city's
    assert not Report.objects.filter(kind=ReportKind.CITY).exists()

    client.force_login(User.objects.get(username="filer-chongqing"))
    listing = client.get(reverse("reports:list")).content.decode()
    assert url in listing
    profile = client.get(reverse("indices:city", args=["500000"])).content.decode()
    assert 'data-testid="city-report-link"' in profile
    response = client.get(url)

    assert response.status_code == HTTPStatus.OK and response["Content-Type"] == "application/pdf"
    report = Report.objects.get(kind=ReportKind.CITY, city__code="500000", language="zh-hans")
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == report.sha256
    assert "重庆" in PdfReader(report.file.path).pages[0].extract_text()
    client.get(url)
    assert Report.objects.filter(kind=ReportKind.CITY).count() == 1  # built once, then served
    client.force_login(User.objects.get(username="filer-beijing"))
    assert 'data-testid="city-report-link"' not in client.get(
        reverse("indices:city", args=["500000"])).content.decode()


# Building again on demand: a methodologist on the run's page.

def test_a_methodologist_rebuilds_a_published_runs_reports_after_the_commit(
        published_run, client, monkeypatch, settings, django_capture_on_commit_callbacks):
    settings.REPORTS_CITY_ON_PUBLISH = False  # as without a broker (the city reports test is above)
    report_build(run=published_run, kind=ReportKind.WHITE_PAPER, language="en")
    Report.objects.filter(kind=ReportKind.WHITE_PAPER).update(state=ReportState.FAILED, error="worker lost")
    sent = []
    monkeypatch.setattr("indices.tasks.build_report_task.apply_async", lambda args, **kwargs: sent.append(tuple(args)))
    page_url = reverse("indices:run_detail", args=[published_run.pk])
    client.force_login(User.objects.get(username="methodologist"))
    page = client.get(page_url).content.decode()
    assert 'data-testid="run-reports"' in page and "worker lost" in page and 'data-testid="rebuild-reports"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("indices:run_reports_rebuild", args=[published_run.pk]))

    assert response.status_code == HTTPStatus.FOUND and response["Location"] == page_url
    assert sorted(sent) == [(published_run.pk, ReportKind.WHITE_PAPER, "en"),
                            (published_run.pk, ReportKind.WHITE_PAPER, "zh-hans")]
    from audit.models import AuditEvent

    event = AuditEvent.objects.get(event_type="reports.rebuild")
    assert event.actor.username == "methodologist" and event.details["input_hash"] == published_run.input_hash


def test_only_a_methodologist_rebuilds_and_only_a_published_run(published_run, client, monkeypatch):
    from audit.models import AuditEvent

    sent = []
    monkeypatch.setattr("indices.tasks.build_report_task.apply_async", lambda args, **kwargs: sent.append(tuple(args)))
    url = reverse("indices:run_reports_rebuild", args=[published_run.pk])
    client.force_login(User.objects.get(username="reviewer"))
    page = client.get(reverse("indices:run_detail", args=[published_run.pk])).content.decode()
    assert 'data-testid="run-reports"' in page and 'data-testid="rebuild-reports"' not in page
    assert client.post(url).status_code == HTTPStatus.FORBIDDEN

    type(published_run).objects.filter(pk=published_run.pk).update(published_at=None)
    client.force_login(User.objects.get(username="methodologist"))
    response = client.post(url, follow=True)

    assert "只有已发布的计算结果才有报告" in response.content.decode()
    assert sent == [] and not AuditEvent.objects.filter(event_type="reports.rebuild").exists()


@pytest.mark.worker
@pytest.mark.worker_pool("prefork")  # WeasyPrint is not thread-safe: two PDFs in two threads can corrupt the heap
@pytest.mark.django_db(transaction=True)
def test_publishing_has_a_real_worker_build_both_editions(published_run, settings, celery_worker_process):
    """Publish → the enqueued tasks → a Celery worker process over Redis renders, stores and records both
    white papers, on the same database and media folder as the test."""
    settings.REPORTS_BUILD_ON_PUBLISH, settings.REPORTS_CITY_ON_PUBLISH = True, False
    period = published_run.period
    type(published_run).objects.filter(pk=published_run.pk).update(published_at=None)

    index_run_publish(run=published_run, actor=User.objects.get(username="methodologist"))

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        reports = list(Report.objects.filter(run=published_run, kind=ReportKind.WHITE_PAPER))
        if len(reports) == 2 and all(report.state != ReportState.BUILDING for report in reports):
            break
        time.sleep(0.5)
    assert sorted(report.language for report in reports) == ["en", "zh-hans"]
    for report in reports:
        assert report.state == ReportState.SUCCEEDED, report.error
        content = report.file.read()
        report.file.close()
        assert hashlib.sha256(content).hexdigest() == report.sha256 and report.size == len(content)
        assert report.pages >= 45 and report.build_seconds > 0
    assert run_published(period=period) == published_run
