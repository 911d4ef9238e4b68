"""The reader pages: rankings with drill-down and sorting, city profiles, the methodology page,
who sees provisional runs, and the English switch."""
import datetime
import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from indices import selectors
from indices.models import Score
from tests.indices.reader_data import (
    GROUPS_2024,
    make_run,
    medians,
)

pytestmark = pytest.mark.django_db

CHONGQING, CHENGDU, WUHAN = "500000", "510100", "420100"


def table_cities(response) -> list[str]:
    return re.findall(r'<tr data-city="(\d+)">', response.content.decode())


def cell_texts(response, testid: str) -> list[str]:
    return [text.strip() for text in re.findall(rf'data-testid="{testid}">([^<]*)<', response.content.decode())]


# Who sees what.

def test_it_shows_anonymous_readers_the_published_run_only(client, published_2024, provisional_2024):
    response = client.get(reverse("indices:ranking", args=[2024]))
    assert response.status_code == 200
    assert table_cities(response)[0] == CHONGQING  # the published order, not the provisional one
    assert 'data-testid="provisional"' not in response.content.decode()
    assert 'data-testid="provisional-link"' not in response.content.decode()

    # Asking for the provisional run changes nothing for a reader.
    response = client.get(reverse("indices:ranking", args=[2024]) + "?run=provisional")
    assert table_cities(response)[0] == CHONGQING


def test_a_period_with_only_a_provisional_run_is_a_404_for_readers(client, reviewer, period_2024, cities):
    make_run(period_2024, GROUPS_2024, published=False)

    assert client.get(reverse("indices:ranking", args=[2024])).status_code == 404
    assert client.get(reverse("indices:city", args=[CHONGQING])).status_code == 404
    response = client.get(reverse("indices:rankings"))
    assert response.status_code == 200 and 'data-testid="no-ranking"' in response.content.decode()

    client.force_login(reviewer)
    response = client.get(reverse("indices:rankings"), follow=True)
    assert response.redirect_chain[-1][0].endswith("/rankings/2024/")
    assert 'data-testid="provisional"' in response.content.decode()
    assert "临时" in response.content.decode()


def test_reviewers_and_methodologists_see_the_newer_provisional_run_on_request(
        client, reviewer, methodologist, filer_chongqing, published_2024, provisional_2024):
    url = reverse("indices:ranking", args=[2024])
    for person in (reviewer, methodologist):
        client.force_login(person)
        response = client.get(url)
        assert table_cities(response)[0] == CHONGQING
        assert 'data-testid="provisional-link"' in response.content.decode()
        response = client.get(url + "?run=provisional")
        assert table_cities(response)[0] == WUHAN
        assert 'data-testid="provisional"' in response.content.decode()

    # A filer is a reader here.
    client.force_login(filer_chongqing)
    assert table_cities(client.get(url + "?run=provisional"))[0] == CHONGQING


def test_the_selector_picks_the_run_by_role(reviewer, published_2024, provisional_2024):
    from django.contrib.auth.models import AnonymousUser

    period = published_2024.period
    assert selectors.run_for_reader(period=period, user=AnonymousUser(), provisional=True) == published_2024
    assert selectors.run_for_reader(period=period, user=reviewer) == published_2024
    assert selectors.run_for_reader(period=period, user=reviewer, provisional=True) == provisional_2024
    assert [entry.data_year for entry in selectors.ranking_periods(user=AnonymousUser())] == [2024, 2023]


# The ranking.

def test_the_ranking_follows_the_stored_ranks(client, published_2024):
    response = client.get(reverse("indices:ranking", args=[2024]))

    stored = list(Score.objects.filter(run=published_2024, code="T").order_by("rank")
                  .values_list("city__code", "rank", "value"))
    assert table_cities(response) == [city for city, _rank, _value in stored]
    assert cell_texts(response, "rank") == [str(rank) for _city, rank, _value in stored]
    assert cell_texts(response, "score")[0] == f"{stored[0][2]:.1f}"
    assert cell_texts(response, "rank-band")[0] == "1–2"
    chart = response.context["chart"]
    assert chart["values"] == [round(value, 2) for _city, _rank, value in stored]


def test_rank_changes_are_measured_against_the_previous_years_published_run(published_2024):
    table = selectors.ranking_table(run=published_2024)

    assert table.previous_run == published_2023_of(published_2024)
    changes = {row.city.code: (row.previous_rank, row.rank, row.rank_change) for row in table.rows}
    # 2023: Chengdu 1, Wuhan 2, Chongqing 3. 2024: Chongqing 1, Chengdu 2, Wuhan 3.
    assert changes == {CHONGQING: (3, 1, 2), CHENGDU: (1, 2, -1), WUHAN: (2, 3, -1)}


def published_2023_of(run):
    return selectors.run_previous_published(run=run)


def test_the_page_shows_rank_changes(client, published_2024):
    response = client.get(reverse("indices:ranking", args=[2024]))
    assert cell_texts(response, "rank-change") == ["▲2", "▼1", "▼1"]


def test_without_a_previous_published_year_there_is_no_rank_change(client, period_2024):
    make_run(period_2024, GROUPS_2024, published=True)
    response = client.get(reverse("indices:ranking", args=[2024]))
    assert cell_texts(response, "rank-change") == ["—", "—", "—"]


@pytest.mark.parametrize(("sort", "expected"), [
    ("rank", [CHONGQING, CHENGDU, WUHAN]),
    ("-rank", [WUHAN, CHENGDU, CHONGQING]),
    ("city", [WUHAN, CHONGQING, CHENGDU]),  # by division code
    ("-score", [CHONGQING, CHENGDU, WUHAN]),
    ("D1", [WUHAN, CHENGDU, CHONGQING]),  # D1: Chongqing 60, Chengdu 55, Wuhan 50 ascending
    ("-D2", [CHONGQING, CHENGDU, WUHAN]),  # D2: 60, 55, 37.5
    ("-change", [CHONGQING, CHENGDU, WUHAN]),  # +2, then the two −1 in rank order
    ("nonsense", [CHONGQING, CHENGDU, WUHAN]),
])
def test_the_table_sorts_by_any_column(client, published_2024, sort, expected):
    response = client.get(reverse("indices:ranking", args=[2024]), {"sort": sort})
    assert table_cities(response) == expected


def test_a_column_header_links_to_its_sort_and_a_second_click_reverses_it(client, published_2024):
    url = reverse("indices:ranking", args=[2024])
    assert client.get(url).context["sort_links"]["score"] == "?sort=-score"
    assert client.get(url, {"sort": "-score"}).context["sort_links"]["score"] == "?sort=score"
    page = client.get(url).content.decode()  # the body from the cache this time: the same links
    assert '<a href="?sort=-score">' in page and '<a href="?sort=city">' in page


def test_it_drills_down_to_a_dimension_a_group_and_an_indicator(client, published_2024):
    url = reverse("indices:ranking", args=[2024])
    response = client.get(url, {"node": "D2"})
    assert [column["item"].code for column in response.context["columns"]] == ["G3", "G4"]
    # D2: Chongqing 60, Chengdu 55, Wuhan 37.5.
    assert table_cities(response) == [CHONGQING, CHENGDU, WUHAN]
    assert [step["item"].code for step in response.context["path"]] == ["T", "D2"]
    assert response.context["table"].rows[0].children == (50, 70)

    response = client.get(url, {"node": "G4"})
    assert [column["item"].code for column in response.context["columns"]] == ["I4", "I5"]

    response = client.get(url, {"node": "I1"})
    assert response.status_code == 200 and response.context["columns"] == []
    assert table_cities(response) == [CHONGQING, CHENGDU, WUHAN]  # I1 copies G1: 80, 50, 30

    assert client.get(url, {"node": "NOPE"}).status_code == 404


def test_the_drill_down_links_keep_the_run_and_drop_the_sort(client, reviewer, published_2024, provisional_2024):
    client.force_login(reviewer)
    response = client.get(reverse("indices:ranking", args=[2024]), {"run": "provisional", "sort": "city"})
    drill = {column["item"].code: column["drill"] for column in response.context["columns"]}
    assert drill["D1"] == "?run=provisional&node=D1"


def test_rankings_redirects_to_the_newest_published_year(client, published_2024):
    response = client.get(reverse("indices:rankings"))
    assert response.status_code == 302 and response.url == reverse("indices:ranking", args=[2024])


# City profiles.

def test_strengths_and_weaknesses_are_the_groups_furthest_from_the_median(published_2024, cities):
    profile = selectors.city_profile(run=published_2024, city=cities[CHONGQING])

    expected_medians = medians(GROUPS_2024)
    assert {code: expected_medians[code] for code in ("G1", "G2", "G3", "G4")} == {
        "G1": 50, "G2": 60, "G3": 50, "G4": 60}
    assert [(entry.item.code, entry.difference) for entry in profile.strengths] == [("G1", 30), ("G4", 10)]
    assert [(entry.item.code, entry.difference) for entry in profile.weaknesses] == [("G2", -20)]
    assert profile.composite.score == pytest.approx((60 + 60) / 2)
    assert profile.composite.rank == 1 and profile.cities == 3
    assert profile.by_code["D2"].median == pytest.approx(55)
    assert [item.item.code for item in profile.items][:3] == ["T", "D1", "G1"]


def test_the_profile_lists_the_published_years(client, published_2024):
    response = client.get(reverse("indices:city", args=[CHONGQING]))
    assert response.status_code == 200
    history = response.context["profile"].history
    assert [(point.data_year, point.rank) for point in history] == [(2023, 3), (2024, 1)]
    charts = response.context["charts"]
    assert charts["history"]["years"] == ["2023", "2024"]
    assert charts["groups"]["city"] == [80, 40, 50, 70]
    assert charts["groups"]["median"] == [50, 60, 50, 60]
    page = response.content.decode()
    assert 'data-testid="strengths"' in page and 'data-code="G1"' in page


def test_the_profile_takes_a_year_and_404s_on_a_city_without_scores(client, published_2024):
    response = client.get(reverse("indices:city", args=[CHONGQING]), {"year": 2023})
    assert response.context["profile"].composite.rank == 3
    assert client.get(reverse("indices:city", args=["999999"])).status_code == 404
    assert client.get(reverse("indices:city", args=[CHONGQING]), {"year": "x"}).status_code == 404


def test_a_reviewers_profile_of_a_provisional_run_includes_it_in_the_history(
        client, reviewer, published_2024, provisional_2024):
    client.force_login(reviewer)
    response = client.get(reverse("indices:city", args=[WUHAN]), {"year": 2024, "run": "provisional"})
    assert response.context["run"] == provisional_2024
    history = response.context["profile"].history
    assert [(point.data_year, point.rank, point.published) for point in history] == [
        (2023, 2, True), (2024, 1, False)]


# The methodology page.

def test_the_methodology_page_shows_effective_weights_from_the_document(client, methodology):
    response = client.get(reverse("indices:methodology"), follow=True)
    assert response.redirect_chain[-1][0].endswith("/methodology/RT/1.0/")
    tree = response.context["tree"]
    weights = {item.code: item.effective_weight for item in tree.items}
    # D2 weighs 2 against D1's 1; G3 and G4 split D2; I5 weighs 3 against I4's 1.
    assert weights["T"] == 1
    assert weights["D1"] == pytest.approx(1 / 3) and weights["D2"] == pytest.approx(2 / 3)
    assert weights["G1"] == pytest.approx(1 / 6) and weights["G4"] == pytest.approx(1 / 3)
    assert weights["I4"] == pytest.approx(1 / 12) and weights["I5"] == pytest.approx(1 / 4)
    assert not tree.weights_from_run
    page = response.content.decode()
    assert "25.00%" in page and "个" in page  # I5's effective weight; the unit


def test_the_methodology_page_uses_the_weights_a_published_run_recorded(client, methodology, published_2024):
    published_2024.diagnostics = {"weights": {"T": 1, "D1": 0.5, "D2": 0.5},
                                  "effective_weights": {"T": 1, "D1": 0.5, "D2": 0.5}}
    published_2024.save(update_fields=["diagnostics"])
    tree = selectors.methodology_reader_tree(version=methodology)
    assert tree.weights_from_run and tree.item("D1").effective_weight == 0.5


def test_a_draft_methodology_is_hidden_from_readers(client, draft_methodology, methodologist):
    url = reverse("indices:methodology_version", args=["TEST", "1.0"])
    assert client.get(url).status_code == 404
    client.force_login(methodologist)
    assert client.get(url).status_code == 200


# Languages and labels.

def test_it_speaks_chinese_first_and_english_on_the_switch(client, published_2024):
    url = reverse("indices:ranking", args=[2024])
    page = client.get(url).content.decode()
    assert "重庆" in page and "Chongqing" not in page and "排名" in page

    client.cookies["django_language"] = "en"
    page = client.get(url).content.decode()
    assert "Chongqing" in page and "重庆" not in page and "Rank" in page
    page = client.get(reverse("indices:city", args=[CHONGQING])).content.decode()
    assert "Chongqing" in page and "Strengths" in page and "Group one" in page


def test_illustrative_data_is_labelled(client, published_2024, cities):
    from reporting.models import IndicatorReturn, ReturnState

    page = client.get(reverse("indices:ranking", args=[2024])).content.decode()
    assert 'data-testid="illustrative"' not in page
    IndicatorReturn.objects.create(city=cities[CHONGQING], period=published_2024.period, state=ReturnState.APPROVED,
                                   is_illustrative=True,
                                   approved_at=published_2024.created_at - datetime.timedelta(hours=1))
    # A return approved before the run was made, written behind the services' back: no publication tells the
    # published-read cache, so empty it by hand.
    cache.clear()
    page = client.get(reverse("indices:ranking", args=[2024])).content.decode()
    assert 'data-testid="illustrative"' in page and "示例数据" in page


def test_the_menu_links_to_the_reader_pages(client, db):
    page = client.get(reverse("home")).content.decode()
    assert reverse("indices:rankings") in page and reverse("indices:methodology") in page


# With the real engine: the demo's computed and published index.

@pytest.fixture
def demo(db):
    from indices.demo import demo_index_ensure, demo_load

    demo_load()
    return demo_index_ensure()[-1].run


def test_the_demo_index_reads_as_the_engine_stored_it(client, demo):
    from reporting.models import ReturnValue

    response = client.get(reverse("indices:ranking", args=[demo.period.data_year]))
    stored = list(Score.objects.filter(run=demo, level=0).order_by("rank", "city__code")
                  .values_list("city__code", "rank"))
    assert len(stored) == 30
    assert table_cities(response) == [city for city, _rank in stored]
    assert cell_texts(response, "rank") == [str(rank) for _city, rank in stored]
    assert all("–" in band for band in cell_texts(response, "rank-band"))  # Monte Carlo bands
    page = response.content.decode()
    assert 'data-testid="illustrative"' in page and "示例数据" in page
    assert [column["item"].code for column in response.context["columns"]] == ["M", "E", "V"]
    assert all(row.rank_change is not None for row in response.context["table"].rows)  # 2023 is published

    profile = client.get(reverse("indices:city", args=[CHONGQING])).context["profile"]
    assert len(profile.groups) == 12 and len(profile.history) == 2
    assert 0 < len(profile.strengths) + len(profile.weaknesses) <= 6
    reported = ReturnValue.objects.get(indicator_return__city__code=CHONGQING, indicator_return__period=demo.period,
                                       indicator__code="M2.1").value
    assert profile.by_code["M2.1"].raw_value == pytest.approx(float(reported))

    tree = client.get(reverse("indices:methodology"), follow=True).context["tree"]
    assert tree.weights_from_run
    assert sum(item.effective_weight for item in tree.items if item.is_indicator) == pytest.approx(1)


def _colour(css: str, selector: str) -> str:
    return re.search(re.escape(selector) + r"\s*\{\s*color:\s*(#[0-9a-f]{6})", css).group(1)


def test_a_rise_is_red_and_a_fall_green_on_pages_and_in_the_pdf():
    """Chinese readers read red as a rise: ranking, what-if (class ``num up``) and the PDF alike."""
    static = (settings.BASE_DIR / "static" / "css" / "indices.css").read_text()
    printed = (settings.BASE_DIR / "templates" / "reports" / "print.css").read_text()
    for css, up, down in ((static, ".num.up", ".num.down"), (printed, ".up", ".down")):
        red, green = _colour(css, up), _colour(css, down)
        assert int(red[1:3], 16) > int(red[3:5], 16) and int(green[3:5], 16) > int(green[1:3], 16), (red, green)
