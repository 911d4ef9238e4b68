"""Published index runs and their scores through the API: public, the published run of each year only."""
from http import HTTPStatus

import pytest

from indices.demo import demo_index_ensure, demo_load
from indices.models import IndexRun, Score

pytestmark = pytest.mark.django_db


def test_published_runs_and_their_scores_are_public(client):
    demo_load()
    demo_index_ensure()  # computes and publishes the demo's years
    published = IndexRun.objects.published().order_by("-period__data_year")
    assert published.exists()
    listed = client.get("/api/v1/runs/").json()["results"]
    assert [run["id"] for run in listed] == [run.pk for run in published]
    run = published.first()
    detail = client.get(f"/api/v1/runs/{run.pk}/?format=json").json()
    assert detail["data_year"] == run.period.data_year and detail["units"] == run.units
    expected = {score.city.code: (score.value, score.rank)
                for score in Score.objects.filter(run=run, level=0).select_related("city")}
    assert {item["city"]: (item["value"], item["rank"]) for item in detail["scores"]} == expected
    assert [item["rank"] for item in detail["scores"]] == sorted(item["rank"] for item in detail["scores"])
    year = client.get(f"/api/v1/runs/?period__data_year={run.period.data_year}").json()["results"]
    assert [item["id"] for item in year] == [run.pk]

    run.published_at = None
    run.save(update_fields=["published_at"])
    assert client.get(f"/api/v1/runs/{run.pk}/").status_code == HTTPStatus.NOT_FOUND
