"""Every filing and review endpoint documents at least one example (request or answer) in the OpenAPI schema."""
import pytest

pytestmark = pytest.mark.django_db
REPORTING_PATHS = ("/api/v1/cities/", "/api/v1/returns/", "/api/v1/review/")


def _examples(operation: dict) -> int:
    found = 0
    bodies = [operation.get("requestBody", {}), *operation.get("responses", {}).values()]
    for body in bodies:
        for media in body.get("content", {}).values():
            found += len(media.get("examples", {}))
    return found


def test_every_reporting_operation_has_an_example(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    operations = [(path, method, operation) for path, item in paths.items() if path.startswith(REPORTING_PATHS)
                  for method, operation in item.items() if method in ("get", "post", "patch", "put", "delete")]
    assert len(operations) >= 14  # noqa: PLR2004
    assert [(path, method) for path, method, operation in operations if not _examples(operation)] == []
