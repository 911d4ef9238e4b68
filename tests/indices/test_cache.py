"""The published-read cache (ccfi_portal.cache): fewer queries on a second read, fresh data after a
publication, nothing provisional stored or served, languages and users' menus kept apart."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import City, Role
from ccfi_portal import cache as published_cache
from ccfi_portal.cache import local_copies, published_changed, published_generation, published_key, published_read
from indices import services
from indices.models import IndexRun
from methodology.models import MethodologyState
from methodology.services import methodology_publish, methodology_retire
from tests.conftest import _person
from tests.indices.conftest import CHENGDU, CHONGQING, WUHAN
from tests.indices.reader_data import GROUPS_2024, make_run, reader_city
from tests.indices.test_pages import table_cities

pytestmark = pytest.mark.django_db

RANKING = reverse("indices:ranking", args=[2024])


def queries(client, url: str, **extra) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    assert response.status_code == 200, url
    return len(captured), response.content.decode()


def without_csrf(page: str) -> str:
    """The page without its CSRF token (a new one masked in every response)."""
    return re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]*"', "", page)


def composite(client, url: str) -> float:
    return client.get(url).context["profile"].composite.score


def wuhan_leads(period) -> IndexRun:
    """A complete run of the period, not yet published, in which Wuhan leads."""
    groups = {city: dict(values) for city, values in GROUPS_2024.items()}
    groups[WUHAN] = {"G1": 99, "G2": 99, "G3": 99, "G4": 99}
    run = make_run(period, groups, published=False, label="wuhan")
    IndexRun.objects.filter(pk=run.pk).update(is_provisional=False)
    run.refresh_from_db()
    return run


@pytest.mark.parametrize("url", [
    RANKING,
    f"{RANKING}?node=D1&sort=-score",
    reverse("indices:city", args=[CHONGQING]),
    reverse("indices:methodology_version", args=["RT", "1.0"]),
    "/api/v1/methodologies/",
    "/api/v1/cities/",
    "/api/v1/runs/",
])
def test_a_published_read_twice_queries_the_database_less_the_second_time(client, published_2024, url):
    cold, first = queries(client, url)
    warm, second = queries(client, url)
    assert warm < cold, (cold, warm)
    assert without_csrf(second) == without_csrf(first)


def test_publishing_another_run_shows_its_scores_not_the_cached_ones(
        client, published_2024, methodologist, django_capture_on_commit_callbacks):
    assert table_cities(client.get(RANKING))[0] == CHONGQING  # cached now
    year = f"/api/v1/runs/?period__data_year={published_2024.period.data_year}"
    run_ids = lambda: [run["id"] for run in client.get(year).json()["results"]]  # noqa: E731
    assert run_ids() == [published_2024.pk]  # cached now
    profile = reverse("indices:city", args=[WUHAN])
    assert composite(client, profile) != 99
    newer = wuhan_leads(published_2024.period)
    with django_capture_on_commit_callbacks(execute=True):
        services.index_run_publish(run=newer, actor=methodologist)
    assert table_cities(client.get(RANKING))[0] == WUHAN
    assert composite(client, profile) == 99
    assert run_ids() == [newer.pk]


def test_the_generation_is_bumped_at_once_and_again_after_the_commit(django_capture_on_commit_callbacks):
    before = published_generation()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        published_changed()
        assert published_generation() == before + 1
    assert len(callbacks) == 1 and published_generation() == before + 2


def test_a_lost_generation_starts_again_above_every_old_one(client, published_2024):
    from django.core.cache import cache

    client.get(RANKING)
    before = published_generation()
    cache.delete("ccfi:published:generation")
    assert published_generation() > before


def test_a_reviewers_provisional_view_is_never_cached_nor_shown_to_readers(client, reviewer, provisional_2024):
    anonymous_key = published_key("ranking", 2024, None, "rank")
    client.force_login(reviewer)
    assert table_cities(client.get(f"{RANKING}?run=provisional"))[0] == WUHAN
    client.get(RANKING)
    client.get(reverse("indices:city", args=[WUHAN]) + "?run=provisional")
    from django.core.cache import cache

    assert cache.get(anonymous_key) is None  # the secretariat bypasses the cache, storing nothing
    client.logout()
    page = client.get(RANKING)
    assert table_cities(page)[0] == CHONGQING and 'data-testid="provisional"' not in page.content.decode()
    assert cache.get(anonymous_key) is not None
    # A reader asking for the provisional run bypasses the cache too, and still gets the published one.
    cache.clear()
    assert table_cities(client.get(f"{RANKING}?run=provisional"))[0] == CHONGQING
    assert cache.get(published_key("ranking", 2024, None, "rank")) is None
    # The reviewer still sees the provisional run after a reader filled the cache.
    client.get(RANKING)
    client.force_login(reviewer)
    assert table_cities(client.get(f"{RANKING}?run=provisional"))[0] == WUHAN


def test_a_readers_profile_history_never_shows_the_provisional_run_a_reviewer_saw(client, reviewer, provisional_2024):
    url = reverse("indices:city", args=[WUHAN])
    client.force_login(reviewer)
    assert composite(client, f"{url}?run=provisional") == 99
    client.logout()
    page = client.get(url)
    assert page.context["profile"].composite.score != 99
    assert [point.published for point in page.context["profile"].history] == [True, True]


def body_renders(client, url: str) -> int:
    """How many times the ranking page's body template is rendered for one request."""
    response = client.get(url)
    assert response.status_code == 200
    return [template.name for template in response.templates].count("indices/_ranking_body.html")


def test_the_ranking_body_is_rendered_once_per_language_and_generation(client, published_2024):
    assert body_renders(client, RANKING) == 1
    assert body_renders(client, RANKING) == 0  # from the cache
    client.cookies["django_language"] = "en"
    assert body_renders(client, RANKING) == 1
    del client.cookies["django_language"]
    published_changed()
    assert body_renders(client, RANKING) == 1


@pytest.mark.parametrize("query", ["?node=D1&utm=x", "?sort=city&sort=rank"])
def test_a_ranking_query_of_anything_but_one_node_and_one_sort_is_not_cached(client, published_2024, query):
    """Its links repeat the query: caching every query would let anyone fill the cache."""
    assert [body_renders(client, RANKING + query), body_renders(client, RANKING + query)] == [1, 1]


def test_english_and_chinese_pages_are_not_mixed_up(client, published_2024):
    pages = [(RANKING, "重庆", "Chongqing"), (reverse("indices:city", args=[CHONGQING]), "重庆", "Chongqing"),
             (reverse("indices:methodology_version", args=["RT", "1.0"]), "维度一", "Dimension one")]
    for url, chinese_name, english_name in pages:
        chinese = client.get(url).content.decode()
        client.cookies["django_language"] = "en"
        english = client.get(url).content.decode()
        del client.cookies["django_language"]
        again = client.get(url).content.decode()
        assert chinese_name in chinese and english_name not in chinese
        assert english_name in english and chinese_name not in english
        assert without_csrf(again) == without_csrf(chinese)


@pytest.fixture
def filers(cities):
    return [_person(f"filer-{code}", Role.FILER, city=cities[code]) for code in (CHONGQING, CHENGDU)]


def test_the_menu_of_one_user_never_appears_for_another(client, published_2024, filers):
    filer_chongqing, filer_chengdu = filers
    urls = [RANKING, reverse("indices:city", args=[CHONGQING]), reverse("indices:methodology_version",
                                                                        args=["RT", "1.0"])]
    for url in urls:
        client.force_login(filer_chongqing)
        assert f"filer-{CHONGQING}" in client.get(url).content.decode()
        client.force_login(filer_chengdu)
        page = client.get(url).content.decode()
        assert f"filer-{CHENGDU}" in page and f"filer-{CHONGQING}" not in page
        client.logout()
        page = client.get(url).content.decode()
        assert "filer-" not in page and 'data-testid="current-user"' not in page


def test_methodology_publication_and_retirement_show_at_once(client, methodology, draft_methodology, methodologist):
    def states():
        return {item["code"]: item["state"] for item in client.get("/api/v1/methodologies/").json()["results"]}

    assert states() == {"RT": MethodologyState.PUBLISHED}
    methodology_publish(version=draft_methodology, actor=methodologist)
    assert states() == {"RT": MethodologyState.PUBLISHED, "TEST": MethodologyState.PUBLISHED}
    page = client.get(reverse("indices:methodology_version", args=["RT", "1.0"])).content.decode()
    assert "TEST 1.0" in page
    methodology_retire(version=draft_methodology, actor=methodologist)
    assert states()["TEST"] == MethodologyState.RETIRED


def test_a_new_city_shows_in_the_cached_city_list(client, cities):
    codes = lambda: {item["code"] for item in client.get("/api/v1/cities/").json()["results"]}  # noqa: E731
    assert codes() == {CHONGQING, CHENGDU, WUHAN}
    reader_city("510100")  # already there: nothing changes
    City.objects.create(code="440100", name_zh="广州", name_en="Guangzhou", province_zh="广东省",
                        province_en="Guangdong")
    assert "440100" in codes()


def test_the_api_pages_of_one_user_are_rendered_for_each(client, methodology, filer_chongqing, filer_chengdu):
    client.force_login(filer_chongqing)
    assert "filer-chongqing" in client.get("/api/v1/cities/", HTTP_ACCEPT="text/html").content.decode()
    client.force_login(filer_chengdu)
    page = client.get("/api/v1/cities/", HTTP_ACCEPT="text/html").content.decode()
    assert "filer-chengdu" in page and "filer-chongqing" not in page


def test_a_process_reads_its_own_copy_until_the_next_publication(django_capture_on_commit_callbacks):
    """The second read in a process costs no round trip for the data: it is not even asked of the shared cache.
    A publication (a new generation) invalidates the copy as it does the shared entry."""
    from django.core.cache import cache

    computed = []
    read = lambda: published_read("rows", 2024, compute=lambda: computed.append(1) or {"rows": [1, 2]})  # noqa: E731
    assert read() == {"rows": [1, 2]} and read() == {"rows": [1, 2]}
    cache.delete(published_key("rows", 2024))
    assert read() == {"rows": [1, 2]} and len(computed) == 1
    read()["rows"].append(3)  # a reader changing what it got changes nobody else's
    assert read() == {"rows": [1, 2]}
    with django_capture_on_commit_callbacks(execute=True):
        published_changed()
    assert read() == {"rows": [1, 2]} and len(computed) == 2


def test_a_processs_copies_expire_and_stay_within_their_bounds(settings, monkeypatch):
    computed = []
    read = lambda name, size=10: published_read(name, compute=lambda: computed.append(name) or "x" * size)  # noqa: E731
    settings.CACHE_PUBLISHED_SECONDS = 0
    read("expired")
    assert local_copies.get(published_key("expired")) is published_cache._MISSING
    settings.CACHE_PUBLISHED_SECONDS = 600
    monkeypatch.setattr(published_cache, "LOCAL_ENTRY_BYTES", 1000)
    read("large", size=2000)
    assert local_copies.get(published_key("large")) is published_cache._MISSING  # in the shared cache only
    assert read("large", size=2000) == "x" * 2000 and computed.count("large") == 1
    monkeypatch.setattr(published_cache, "LOCAL_BYTES", 2500)
    for name in ["first", "second", "third"]:
        read(name, size=900)
    assert local_copies.get(published_key("first")) is published_cache._MISSING  # the oldest read went first
    assert local_copies.get(published_key("third")) == "x" * 900


def test_a_public_api_read_is_rendered_once_and_the_browsable_api_each_time(client, published_2024, monkeypatch):
    from rest_framework.renderers import JSONRenderer

    rendered = []
    render = JSONRenderer.render
    monkeypatch.setattr(JSONRenderer, "render", lambda self, *args, **kwargs: rendered.append(1) or render(
        self, *args, **kwargs))
    url = "/api/v1/runs/"
    first, second = client.get(url), client.get(url)
    assert len(rendered) == 1 and first.content == second.content
    assert second["Content-Type"] == first["Content-Type"] == "application/json"
    assert second.json()["results"][0]["id"] == published_2024.pk
    indented = client.get(url, HTTP_ACCEPT="application/json; indent=2")
    assert len(rendered) == 2 and indented.json() == first.json() and b'\n  "' in indented.content
    page = client.get(url, HTTP_ACCEPT="text/html")
    assert page["Content-Type"].startswith("text/html") and str(published_2024.pk) in page.content.decode()
