"""The index API of issue 14: public reads of published data (periods, scores at every node, a city's history,
reports, a run's methodology) and the secretariat's endpoints (runs with diagnostics, recompute, publish, reports,
what-if), each refused to the other roles with a problem code."""
import hashlib
from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from indices.demo import demo_index_ensure, demo_load
from indices.models import IndexRun, Report, Score, WorkRequest
from indices.outbox import BUILD_REPORT_TASK, RECOMPUTE_INDEX_TASK
from methodology.services import methodology_clone
from tests.api.test_problems import problem

pytestmark = pytest.mark.django_db
CHONGQING = "500000"


def _user(name: str):
    return get_user_model().objects.get(username=name)


def _provisional_copy(run: IndexRun) -> IndexRun:
    """An unpublished run of the same period with the same scores (as the access matrix makes one)."""
    copy = IndexRun.objects.get(pk=run.pk)
    copy.pk, copy.published_at, copy.published_by, copy.is_provisional = None, None, None, True
    copy.input_hash = hashlib.sha256(b"provisional").hexdigest()
    copy.edition = None
    copy.save()
    scores = list(Score.objects.filter(run=run))
    for score in scores:
        score.pk, score.run_id = None, copy.pk
    Score.objects.bulk_create(scores)
    return copy


@pytest.fixture
def published(media_root):
    demo_load()
    demo_index_ensure()
    return IndexRun.objects.published().select_related("period", "methodology").order_by("-period__data_year").first()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _node(run: IndexRun) -> str:
    """A dimension of the run's tree (level 1)."""
    return Score.objects.filter(run=run, level=1).order_by("code").values_list("code", flat=True).first()


def test_scores_at_every_node_filtered_and_ordered(client, published):
    year, node = published.period.data_year, _node(published)
    ranked = client.get(f"/api/v1/scores/?year={year}&node={node}&ordering=rank&limit=500").json()
    rows = ranked["results"]
    expected = Score.objects.filter(run=published, code=node)
    assert ranked["count"] == expected.count() and {row["node"] for row in rows} == {node}
    assert [row["rank"] for row in rows] == sorted(row["rank"] for row in rows)
    first = expected.order_by("rank").first()
    assert rows[0]["city"] == first.city.code and rows[0]["score"] == first.value
    assert {"rank_p05", "rank_median", "rank_p95"} <= set(rows[0])
    by_score = client.get(f"/api/v1/scores/?year={year}&node={node}&ordering=-score&limit=500").json()["results"]
    scores = [row["score"] for row in by_score if row["score"] is not None]
    assert scores == sorted(scores, reverse=True)
    city = client.get(f"/api/v1/scores/?year={year}&city={CHONGQING}&limit=500").json()
    assert city["count"] == Score.objects.filter(run=published, city__code=CHONGQING).count() > 1
    assert client.get(f"/api/v1/scores/?year={year}&level=0&limit=1").json()["results"][0]["level"] == 0
    refused = client.get("/api/v1/scores/?ordering=password", HTTP_ACCEPT_LANGUAGE="en")
    assert problem(refused, HTTPStatus.BAD_REQUEST, "invalid")["errors"][0]["field"] == "ordering"


def test_unpublished_runs_never_appear_publicly(client, published):
    provisional = _provisional_copy(published)
    year = published.period.data_year
    runs = {row["run"] for row in client.get(f"/api/v1/scores/?year={year}&limit=1000").json()["results"]}
    assert runs == {published.pk}
    hidden = Score.objects.filter(run=provisional).first()
    assert client.get(f"/api/v1/scores/{hidden.pk}/").status_code == HTTPStatus.NOT_FOUND
    assert client.get(f"/api/v1/scores/?run={provisional.pk}").json()["count"] == 0
    history = client.get(f"/api/v1/cities/{CHONGQING}/history/").json()["history"]
    assert provisional.pk not in {point["run"] for point in history}
    assert client.get(f"/api/v1/runs/{provisional.pk}/methodology/").status_code == HTTPStatus.NOT_FOUND


def test_periods_history_methodology_and_reports(client, published):
    periods = client.get("/api/v1/periods/").json()["results"]
    assert {period["data_year"] for period in periods} >= {published.period.data_year}
    assert all(period["phase"] in ("open", "past_due", "locked", "closed") and period["phase_label"]
               for period in periods)
    one = client.get(f"/api/v1/periods/{published.period.data_year}/").json()
    assert one["methodology"] == f"{published.methodology.code} {published.methodology.version}"

    history = client.get(f"/api/v1/cities/{CHONGQING}/history/").json()
    published_years = sorted(IndexRun.objects.published().values_list("period__data_year", flat=True))
    assert history["city"] == CHONGQING and [point["data_year"] for point in history["history"]] == published_years
    point = history["history"][-1]
    index = Score.objects.get(run=published, city__code=CHONGQING, level=0)
    assert (point["run"], point["score"], point["rank"]) == (published.pk, index.value, index.rank)
    node = _node(published)
    at_node = client.get(f"/api/v1/cities/{CHONGQING}/history/?node={node}").json()["history"][-1]
    assert at_node["score"] == Score.objects.get(run=published, city__code=CHONGQING, code=node).value
    assert client.get("/api/v1/cities/999999/history/").status_code == HTTPStatus.NOT_FOUND

    methodology = client.get(f"/api/v1/runs/{published.pk}/methodology/").json()
    assert methodology["id"] == published.methodology_id
    assert client.get(methodology["document_url"]).status_code == HTTPStatus.OK

    pdf = b"%PDF-1.4\n%%EOF\n"
    reports = {}
    for kind, city in (("white_paper", None), ("city", published.scores.get(city__code=CHONGQING, level=0).city)):
        report = Report(run=published, kind=kind, language="zh-hans", city=city, state="succeeded",
                        sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf), pages=1)
        report.file.save(f"{kind}.pdf", ContentFile(pdf), save=False)
        report.save()
        reports[kind] = report
    listed = client.get("/api/v1/reports/").json()["results"]
    assert [row["id"] for row in listed] == [reports["white_paper"].pk]  # a city's report is not for everyone
    assert client.get(listed[0]["download_url"]).status_code == HTTPStatus.OK
    client.force_login(_user("filer-chongqing"))
    assert {row["kind"] for row in client.get(f"/api/v1/reports/?year={published.period.data_year}")
            .json()["results"]} == {"white_paper", "city"}
    assert client.get("/api/v1/reports/?kind=city").json()["results"][0]["city"] == CHONGQING


def test_secretariat_endpoints_refuse_other_roles_with_a_problem_code(client, published):
    assert problem(client.get("/api/v1/index-runs/"), HTTPStatus.UNAUTHORIZED, "not_authenticated")
    client.force_login(_user("filer-chongqing"))
    assert problem(client.get("/api/v1/index-runs/"), HTTPStatus.FORBIDDEN, "permission_denied")
    assert problem(client.post("/api/v1/index-runs/recompute/", {"data_year": 2024}), HTTPStatus.FORBIDDEN,
                   "permission_denied")
    client.force_login(_user("auditadmin"))
    assert problem(client.get("/api/v1/index-runs/"), HTTPStatus.FORBIDDEN, "permission_denied")
    # A reviewer reads every run and asks for a recompute, but neither publishes nor tries a methodology.
    client.force_login(_user("reviewer"))
    assert client.get("/api/v1/index-runs/").status_code == HTTPStatus.OK
    assert problem(client.post(f"/api/v1/index-runs/{published.pk}/publish/"), HTTPStatus.FORBIDDEN,
                   "permission_denied")
    assert problem(client.get(f"/api/v1/index-runs/{published.pk}/what-if/?methodology=1"), HTTPStatus.FORBIDDEN,
                   "permission_denied")
    assert problem(client.post(f"/api/v1/index-runs/{published.pk}/reports/rebuild/"), HTTPStatus.FORBIDDEN,
                   "permission_denied")


def test_runs_with_diagnostics_for_the_secretariat(client, published):
    provisional = _provisional_copy(published)
    client.force_login(_user("methodologist"))
    listed = client.get(f"/api/v1/index-runs/?year={published.period.data_year}").json()["results"]
    assert {row["id"] for row in listed} == {published.pk, provisional.pk}
    assert client.get("/api/v1/index-runs/?published=false").json()["results"][0]["id"] == provisional.pk
    detail = client.get(f"/api/v1/index-runs/{published.pk}/").json()
    assert detail["state"] == "succeeded" and detail["input_hash"] == published.input_hash
    assert detail["diagnostics"]["indicators"] and "name_zh" in detail["diagnostics"]["indicators"][0]
    assert detail["report_builds"]["city_reports_built"] == 0 and isinstance(detail["work"], list)
    assert client.get(f"/api/v1/index-runs/{provisional.pk}/").json()["report_builds"] is None


def test_recompute_answers_202_with_the_outbox_request(client, published):
    client.force_login(_user("reviewer"))
    answer = client.post("/api/v1/index-runs/recompute/", {"data_year": published.period.data_year},
                         content_type="application/json")
    assert answer.status_code == HTTPStatus.ACCEPTED, answer.content
    work = WorkRequest.objects.get(pk=answer.json()["id"])
    assert work.task == RECOMPUTE_INDEX_TASK and work.period_id == published.period_id
    assert work.requested_by == _user("reviewer") and answer.json()["data_year"] == published.period.data_year
    missing = client.post("/api/v1/index-runs/recompute/", {}, content_type="application/json")
    assert problem(missing, HTTPStatus.BAD_REQUEST, "invalid")["errors"][0]["field"] == "data_year"
    assert problem(client.post("/api/v1/index-runs/recompute/", {"data_year": 1999}), HTTPStatus.NOT_FOUND,
                   "not_found")


def test_recompute_then_publish_serves_the_new_scores(client, media_root, django_capture_on_commit_callbacks):
    """The flow: a year computed by the worker (eager here) on the secretariat's request, then published."""
    demo_load()
    year = 2024
    assert client.get(f"/api/v1/scores/?year={year}").json()["count"] == 0
    client.force_login(_user("methodologist"))
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/api/v1/index-runs/recompute/", {"data_year": year}, content_type="application/json")
    assert answer.status_code == HTTPStatus.ACCEPTED
    run = IndexRun.objects.get(period__data_year=year)
    assert WorkRequest.objects.get(pk=answer.json()["id"]).state == "done"
    assert client.get(f"/api/v1/index-runs/?year={year}").json()["results"][0]["id"] == run.pk
    client.logout()
    assert client.get(f"/api/v1/scores/?year={year}").json()["count"] == 0  # not published yet

    client.force_login(_user("methodologist"))
    published = client.post(f"/api/v1/index-runs/{run.pk}/publish/")
    assert published.status_code == HTTPStatus.OK and published.json()["published_at"]
    client.logout()
    scores = client.get(f"/api/v1/scores/?year={year}&level=0&ordering=rank&limit=500").json()
    assert scores["count"] == run.units and {row["run"] for row in scores["results"]} == {run.pk}
    assert scores["results"][0]["rank"] == 1
    client.force_login(_user("methodologist"))
    again = client.post(f"/api/v1/index-runs/{run.pk}/reports/rebuild/")
    assert again.status_code == HTTPStatus.ACCEPTED
    assert {item["task"] for item in again.json()} == {BUILD_REPORT_TASK}


def test_publishing_a_provisional_run_is_refused(client, published):
    provisional = _provisional_copy(published)
    client.force_login(_user("methodologist"))
    refused = client.post(f"/api/v1/index-runs/{provisional.pk}/publish/", HTTP_ACCEPT_LANGUAGE="en")
    assert "provisional" in problem(refused, HTTPStatus.BAD_REQUEST, "provisional")["detail"]
    assert not IndexRun.objects.get(pk=provisional.pk).published_at


def test_whatif_of_a_draft_returns_ranks(client, published):
    methodologist = _user("methodologist")
    draft = methodology_clone(version=published.methodology, actor=methodologist, new_version="2026.0")
    client.force_login(methodologist)
    answer = client.get(f"/api/v1/index-runs/{published.pk}/what-if/?methodology={draft.pk}")
    assert answer.status_code == HTTPStatus.OK, answer.content
    body = answer.json()
    assert body["run"] == published.pk and body["methodology"] == f"{draft.code} 2026.0" and not body["error"]
    base = dict(Score.objects.filter(run=published, level=0).values_list("city__code", "rank"))
    assert {row["city"]: row["base_rank"] for row in body["rows"]} == base
    assert all(row["new_rank"] == row["base_rank"] for row in body["rows"])  # the same methodology, cloned
    assert body["moved"] == 0
    refused = client.get(f"/api/v1/index-runs/{published.pk}/what-if/", HTTP_ACCEPT_LANGUAGE="en")
    assert problem(refused, HTTPStatus.BAD_REQUEST, "required")["errors"][0]["field"] == "methodology"
