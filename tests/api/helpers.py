"""What the API tests share: a system's client with a bearer token, and problem-details checks."""
from http import HTTPStatus

from django.test import Client

from accounts.tokens import api_token_create

PROBLEM = "application/problem+json"
PDF = b"%PDF-1.4\n% api evidence\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Api:
    """Requests as a system sends them: a bearer token, no session, no CSRF token; JSON unless multipart."""

    def __init__(self, user, language: str = "zh-hans"):
        secret = api_token_create(user=user, name="系统", verified=False).secret
        self.client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}",
                             HTTP_ACCEPT_LANGUAGE=language)

    def call(self, method: str, path: str, body=None, expect=HTTPStatus.OK, **extra):
        if method == "get" or "multipart" in extra.pop("form", ""):
            response = getattr(self.client, method)(path, body or {}, **extra)
        else:
            response = getattr(self.client, method)(path, body, content_type="application/json", **extra)
        assert response.status_code == expect, response.content.decode()
        if expect >= HTTPStatus.BAD_REQUEST:
            assert response["Content-Type"] == PROBLEM
        return response.json()


def problem(body: dict, status: int, code: str) -> dict:
    assert body["status"] == status and body["code"] == code and body["type"] == f"urn:ccfi:problem:{code}", body
    assert body["title"] and body["detail"]
    return body
