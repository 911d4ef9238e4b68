"""A published result replaced by a later run is a new edition, and says so: the ranking page, the city profile and
the white paper name the edition, the date, the cities whose values changed and why."""
import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from indices.demo import demo_index_ensure, demo_load
from indices.models import IndexRun
from indices.reports.context import white_paper_context
from indices.reports.data import report_data
from indices.selectors import run_revision
from indices.services import index_run_compute, index_run_publish
from reporting.models import IndicatorReturn, ReportingPeriod, ReturnState
from reporting.services import (
    ValueEntry,
    return_approve,
    return_reopen_for_amendment,
    return_submit,
    return_values_save,
)

pytestmark = pytest.mark.django_db

REASON = "统计局更正了2024年住户贷款余额"


@pytest.fixture
def second_edition() -> IndexRun:
    """2024 published (edition 1), then Chongqing amends one value, and the new run is published (edition 2)."""
    demo_load()
    demo_index_ensure()
    period = ReportingPeriod.objects.get(data_year=2024)
    approved = IndicatorReturn.objects.get(period=period, city__code="500000", state=ReturnState.APPROVED)
    filer, reviewer = User.objects.get(username="filer-chongqing"), User.objects.get(username="reviewer")
    amendment = return_reopen_for_amendment(indicator_return=approved, actor=filer, reason=REASON)
    value = amendment.values.get(indicator__code="M2.1")
    return_values_save(indicator_return=amendment, actor=filer, expected_version=None,
                       entries={"M2.1": ValueEntry(value=str(value.value + 1))})
    return_submit(indicator_return=amendment, actor=filer)
    return_approve(indicator_return=amendment, actor=reviewer)
    return index_run_publish(run=index_run_compute(period=period),
                             actor=User.objects.get(username="methodologist"))


def test_the_replacing_run_is_the_second_edition_and_names_what_changed(second_edition):
    first = IndexRun.objects.get(period=second_edition.period, edition=1)
    assert (second_edition.edition, second_edition.replaces_id, first.is_published) == (2, first.pk, False)
    revision = run_revision(run=second_edition)
    assert [(item.city.code, item.codes, item.reason) for item in revision.cities] == [
        ("500000", ("M2.1",), REASON)]
    assert run_revision(run=IndexRun.objects.get(period__data_year=2023)) is None  # a first edition says nothing


def test_readers_see_the_revision_on_the_ranking_and_the_profile(client, second_edition):
    for url in (reverse("indices:ranking", args=[2024]), reverse("indices:city", args=["500000"]) + "?year=2024"):
        page = client.get(url).content.decode()
        assert 'data-testid="revision-notice"' in page and "第 2 版" in page, url
        assert f"重庆 (M2.1: {REASON})" in page, url
    assert 'data-testid="revision-notice"' not in client.get(reverse("indices:ranking", args=[2023])).content.decode()


def test_the_white_paper_names_its_edition(second_edition):
    data = report_data(run=second_edition)
    with translation.override("zh-hans"):
        meta = white_paper_context(data, "zh-hans")["meta"]
    assert meta["edition"] == 2 and meta["revised_cities"] == [f"重庆 (M2.1: {REASON})"]
    with translation.override("en"):
        meta = white_paper_context(data, "en")["meta"]
    assert meta["revised_cities"] == [f"Chongqing (M2.1: {REASON})"]
