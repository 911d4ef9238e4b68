"""Previews computed in memory: a draft methodology on a published run's data, and the impact of
approving a submitted return on its city's scores and ranks."""
import pytest
from django.urls import reverse

from accounts.models import User
from indices.demo import demo_index_ensure, demo_load
from indices.models import IndexRun, Score
from indices.selectors import methodology_whatif, return_impact_preview
from methodology.models import MethodologyNode
from methodology.services import methodology_clone
from reporting.models import IndicatorReturn, ReportingPeriod, ReturnState, ReturnValue
from reporting.services import return_reopen_for_amendment

pytestmark = pytest.mark.django_db

CHONGQING, BEIJING = "500000", "110000"


@pytest.fixture
def published(db) -> IndexRun:
    demo_load()
    return demo_index_ensure()[1].run


@pytest.fixture
def reviewer(published) -> User:
    return User.objects.get(username="reviewer")


def submitted_amendment(*, city_code: str, reviewer: User, **values) -> IndicatorReturn:
    """An amendment of the city's approved 2024 return with ``values`` changed, as submitted."""
    approved = IndicatorReturn.objects.get(period__data_year=2024, city__code=city_code, state=ReturnState.APPROVED)
    amendment = return_reopen_for_amendment(indicator_return=approved, actor=reviewer, reason="复核")
    for code, value in values.items():
        ReturnValue.objects.filter(indicator_return=amendment, indicator__code=code.replace("_", ".")).update(
            value=value)
    IndicatorReturn.objects.filter(pk=amendment.pk).update(state=ReturnState.SUBMITTED)
    return amendment


def test_a_draft_with_the_same_weights_changes_nothing(published):
    draft = methodology_clone(version=published.methodology, actor=None, new_version="2025.2")

    whatif = methodology_whatif(run=published, methodology=draft)

    assert not whatif.error and whatif.moved == 0 and whatif.weight_changes == []
    assert len(whatif.rows) == 30
    for row in whatif.rows:
        assert row.new_score == pytest.approx(row.base_score) and row.rank_change == 0


def test_a_draft_that_doubles_a_dimension_moves_ranks_and_reports_the_weights(published):
    draft = methodology_clone(version=published.methodology, actor=None, new_version="2025.2")
    MethodologyNode.objects.filter(version=draft, code="V").update(weight=3)

    whatif = methodology_whatif(run=published, methodology=draft)

    changed = {change.code: (change.base, change.new) for change in whatif.weight_changes}
    assert changed["V"] == (pytest.approx(1 / 3), pytest.approx(3 / 5))
    assert changed["M"] == (pytest.approx(1 / 3), pytest.approx(1 / 5))
    by_city = {row.city.code: row for row in whatif.rows}
    v_scores = dict(Score.objects.filter(run=published, code="V").values_list("city__code", "value"))
    m_scores = dict(Score.objects.filter(run=published, code="M").values_list("city__code", "value"))
    e_scores = dict(Score.objects.filter(run=published, code="E").values_list("city__code", "value"))
    for code, row in by_city.items():  # arithmetic mean of the dimensions, weights 1:1:3
        assert row.new_score == pytest.approx((m_scores[code] + e_scores[code] + 3 * v_scores[code]) / 5)
    assert whatif.moved > 0
    assert sorted(row.new_rank for row in whatif.rows) == list(range(1, 31))
    assert IndexRun.objects.count() == 2  # nothing stored


def test_a_draft_the_engine_refuses_is_explained_not_stored(published):
    draft = methodology_clone(version=published.methodology, actor=None, new_version="2025.2")
    MethodologyNode.objects.filter(version=draft, parent__isnull=False, parent__parent__isnull=False).update(
        aggregation="geometric")

    whatif = methodology_whatif(run=published, methodology=draft)

    assert whatif.error and all(row.new_rank is None for row in whatif.rows)


def test_the_impact_preview_of_unchanged_values_is_nil(published, reviewer):
    amendment = submitted_amendment(city_code=CHONGQING, reviewer=reviewer)

    impact = return_impact_preview(indicator_return=amendment)

    stored = Score.objects.get(run=published, city__code=CHONGQING, level=0)
    assert impact.index.before == pytest.approx(stored.value) and impact.index.rank_before == stored.rank
    assert impact.index.after == pytest.approx(impact.index.before) and impact.movers == []


def test_the_impact_preview_names_the_indicator_that_moves_the_city(published, reviewer):
    beijing = Score.objects.get(run=published, city__code=BEIJING, level=0)
    top = ReturnValue.objects.filter(indicator_return__period__data_year=2024, indicator__code="M2_1".replace(
        "_", "."), indicator_return__state=ReturnState.APPROVED).order_by("-value").first().value
    amendment = submitted_amendment(city_code=BEIJING, reviewer=reviewer, M2_1=top * 3)

    impact = return_impact_preview(indicator_return=amendment)

    assert impact.index.rank_before == beijing.rank
    assert impact.index.after > impact.index.before
    assert impact.movers[0].code == "M2.1" and impact.movers[0].effect > 0
    # The leaf effects add up to the composite's change (arithmetic aggregation all the way up).
    assert sum(mover.effect for mover in impact.movers) == pytest.approx(
        impact.index.after - impact.index.before, rel=0.25)


def test_the_review_page_loads_the_impact_preview_for_reviewers_only(published, reviewer, client):
    amendment = submitted_amendment(city_code=CHONGQING, reviewer=reviewer)
    url = reverse("indices:return_impact", args=[amendment.pk])

    client.force_login(reviewer)
    page = client.get(reverse("reporting:review_detail", args=[amendment.pk]))
    assert url in page.content.decode()
    partial = client.get(url)
    assert partial.status_code == 200 and "批准后排名" in partial.content.decode()

    client.force_login(User.objects.get(username="filer-beijing"))
    assert client.get(url).status_code == 404
    client.force_login(User.objects.get(username="filer-chongqing"))
    assert client.get(url).status_code == 403


def test_an_impact_of_a_city_without_an_approved_return(published, reviewer):
    approved = IndicatorReturn.objects.get(period__data_year=2024, city__code=CHONGQING)
    IndicatorReturn.objects.filter(pk=approved.pk).update(state=ReturnState.SUBMITTED)

    impact = return_impact_preview(indicator_return=approved)

    assert impact.units_before == 29 and impact.units_after == 30
    assert impact.index.rank_before is None and impact.index.rank_after >= 1
    assert ReportingPeriod.objects.get(data_year=2024).runs.count() == 1
