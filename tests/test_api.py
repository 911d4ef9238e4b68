"""The read-only API: what the public sees, what only methodologists see, and the schema."""
from http import HTTPStatus

import pytest

from methodology.selectors import methodology_document
from methodology.services import methodology_publish

pytestmark = pytest.mark.django_db


def test_cities_are_public(client, city_chongqing, city_chengdu):
    response = client.get("/api/v1/cities/")
    assert response.status_code == HTTPStatus.OK
    assert [city["code"] for city in response.json()["results"]] == ["500000", "510100"]
    assert client.get("/api/v1/cities/500000/").json()["name_zh"] == "重庆"


def test_drafts_are_hidden_from_the_public(client, draft_methodology):
    assert client.get("/api/v1/methodologies/").json()["results"] == []
    assert client.get(f"/api/v1/methodologies/{draft_methodology.pk}/").status_code == HTTPStatus.NOT_FOUND


def test_methodologists_see_drafts(client, draft_methodology, methodologist):
    client.force_login(methodologist)
    assert [item["version"] for item in client.get("/api/v1/methodologies/").json()["results"]] == ["1.0"]


def test_a_published_version_serves_its_document(client, draft_methodology, methodologist):
    methodology_publish(version=draft_methodology, actor=methodologist)
    response = client.get(f"/api/v1/methodologies/{draft_methodology.pk}/document/")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.content.decode() == methodology_document(version=draft_methodology)


def test_the_openapi_schema_is_served(client):
    response = client.get("/api/schema/")
    assert response.status_code == HTTPStatus.OK
    assert b"/api/v1/methodologies/{id}/document/" in response.content
