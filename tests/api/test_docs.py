"""The API's documentation pages: served with the portal's own assets, under its Content-Security-Policy;
the schema declares the bearer token."""
from http import HTTPStatus

import pytest

pytestmark = pytest.mark.django_db


def test_swagger_ui_loads_its_assets_and_init_script_from_the_portal(client):
    response = client.get("/api/docs/")
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "<style" not in page and "<script>" not in page  # nothing inline
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "https://" not in page
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    script = client.get("/api/docs/?script=")
    assert script.status_code == HTTPStatus.OK and script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


def test_redoc_allows_inline_styles_only(client):
    response = client.get("/api/redoc/")
    page = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert '<redoc spec-url="/api/schema/">' in page and "<script>" not in page and "https://" not in page
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in page
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and "'unsafe-inline'" in policy["style-src"]


def test_the_schema_declares_the_bearer_token(client):
    schema = client.get("/api/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer",
        "description": "A personal API token made on /accounts/tokens/ (shown once)."}
    assert {"bearerAuth": []} in schema["paths"]["/api/v1/returns/"]["get"]["security"]
