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


# The resources of issue 14, and the cities, runs and methodologies before them (returns: reporting/api).
EXAMPLED = ("/api/v1/cities/", "/api/v1/periods/", "/api/v1/scores/", "/api/v1/reports/", "/api/v1/runs/",
            "/api/v1/index-runs/", "/api/v1/methodologies/", "/api/v1/audit-events/")


def test_every_operation_of_the_index_api_has_an_example(client):
    """drf-spectacular puts an OpenApiExample under the request's or a response's media type."""
    schema = client.get("/api/schema/?format=json").json()
    operations = [(path, method, operation) for path, item in schema["paths"].items() if path.startswith(EXAMPLED)
                  for method, operation in item.items()]
    assert len(operations) >= 20

    def has_example(operation) -> bool:
        bodies = [operation.get("requestBody", {}), *operation.get("responses", {}).values()]
        return any("examples" in media for body in bodies for media in body.get("content", {}).values())

    assert [f"{method} {path}" for path, method, operation in operations if not has_example(operation)] == []
    scores = schema["paths"]["/api/v1/scores/"]["get"]["parameters"]
    ordering = next(parameter for parameter in scores if parameter["name"] == "ordering")
    assert {"rank", "-rank", "score", "-score"} <= set(ordering["schema"]["items"]["enum"])
