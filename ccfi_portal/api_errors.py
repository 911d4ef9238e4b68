"""Every API error in one shape: RFC 9457 problem details (``application/problem+json``) with ``type``,
``title``, ``status``, ``detail``, a stable machine-readable ``code`` and, for refused input, ``errors``: one
``{indicator, field, code, message}`` per reason (``indicator`` null when the reason names none). Messages
follow the request's language (Accept-Language; Chinese by default)."""
from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_TYPE = "urn:ccfi:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"
BY_INDICATOR = ("values", "explanations", "comments")  # inputs keyed by indicator code


class ProblemErrorSerializer(serializers.Serializer):
    indicator = serializers.CharField(allow_null=True, help_text="The indicator's code, or null.")
    field = serializers.CharField(allow_null=True, help_text="The input field, e.g. values.M1.1.value, or null.")
    code = serializers.CharField()
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """The shape of every error answer, for the schema (the handler below builds it)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable and machine-readable.")
    errors = ProblemErrorSerializer(many=True, required=False)


def problem_responses(*statuses: int) -> dict:
    """extend_schema's ``responses`` entries of the given error statuses."""
    return {(status, PROBLEM_MEDIA_TYPE): ProblemSerializer for status in statuses}


class ProblemAutoSchema(AutoSchema):
    """Declares, on every operation, the problem answers the API's shared machinery can give, so that the schema
    lists every status a client may see (tests/api/test_schemathesis.py): 401 (no credentials, or a token that is
    not valid), 403 (a user who may not) and 429 (the request limits) everywhere, 404 wherever the
    path names an object, 400 for input (a body, or a list's filters and pagination), 415 for a body in another
    format. An operation's own ``extend_schema(responses=...)`` (e.g. a 409) is kept as it is."""

    def _problem_statuses(self) -> list[int]:
        has_body = self.method in ("POST", "PUT", "PATCH")
        statuses = [401, 403, 429]
        if "{" in self.path:
            statuses.append(404)
        if has_body or self._is_list_view():
            statuses.append(400)
        if has_body:
            statuses.append(415)
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self._problem_statuses():
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    ProblemSerializer, str(status), [PROBLEM_MEDIA_TYPE], direction)
        return dict(sorted(responses.items()))


def _titles() -> dict[int, str]:
    return {
        400: _("Invalid request"), 401: _("Not authenticated"), 403: _("Forbidden"), 404: _("Not found"),
        405: _("Method not allowed"), 406: _("Not acceptable"), 409: _("Conflict"),
        415: _("Unsupported media type"), 429: _("Too many requests"),
    }


def _problem_body(*, status: int, code: str, detail: str) -> dict:
    return {"type": PROBLEM_TYPE + code, "title": _titles().get(status, HTTPStatus(status).phrase),
            "status": status, "detail": detail, "code": code}


def problem(*, status: int, code: str, detail: str, errors: list[dict] | None = None, **extra) -> Response:
    """A problem-details answer; ``extra`` members (e.g. the current edit version of a conflict) are added."""
    body = _problem_body(status=status, code=code, detail=detail)
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return Response(body, status=status, content_type=PROBLEM_MEDIA_TYPE)


def not_found(request, exception):
    """The site's 404 (``handler404``): under /api/ a path that matches no route (e.g. a return id that is not a
    number) is a problem answer like any other API error; elsewhere the site's page."""
    if request.path_info.startswith("/api/"):
        body = _problem_body(status=404, code="not_found", detail=str(exceptions.NotFound.default_detail))
        return JsonResponse(body, status=404, content_type=PROBLEM_MEDIA_TYPE,
                            json_dumps_params={"ensure_ascii": False})
    return page_not_found(request, exception)


def _flatten(detail, path: tuple[str, ...] = ()) -> list[dict]:
    """DRF's nested validation errors as a list; an entry under ``values.<indicator>`` (or ``explanations.``,
    ``comments.``: the inputs keyed by indicator code) names its indicator."""
    if isinstance(detail, dict):
        return [item for key, value in detail.items() for item in _flatten(value, (*path, str(key)))]
    if isinstance(detail, list):
        return [item for value in detail for item in _flatten(value, path)]
    fields = [part for part in path if part != "non_field_errors"]
    indicator = fields[1] if len(fields) >= 2 and fields[0] in BY_INDICATOR else None  # noqa: PLR2004
    return [{"indicator": indicator, "field": ".".join(fields) or None,
             "code": getattr(detail, "code", None) or "invalid", "message": str(detail)}]


def _django_errors(error: DjangoValidationError) -> list[dict]:
    """A service's refusal: each message with its code and, for a submission problem, its indicator."""
    if hasattr(error, "error_dict"):
        named = [(name, item) for name, items in error.error_dict.items() for item in items]
    else:
        named = [(None, item) for item in error.error_list]
    items = []
    for name, item in named:
        message = item.message % item.params if item.params else item.message
        items.append({"indicator": getattr(item.message, "indicator", None),
                      "field": None if name in (None, "__all__") else name,
                      "code": item.code or "invalid", "message": str(message)})
    return items


def problem_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        errors = _django_errors(exc)
        # Several reasons come after a heading ("The return cannot be submitted yet:"): the detail and code.
        first, rest = errors[0], errors[1:]
        return problem(status=400, code=first["code"], detail=first["message"], errors=rest or errors)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*(exc.args[:1] or ()))
    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's 500 (logged, with the request id)
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        return problem(status=response.status_code, code="invalid",
                       detail=_("The request has invalid data: see errors."), errors=errors)
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
    code = codes if isinstance(codes, str) else "error"
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
    answer = problem(status=response.status_code, code=code, detail=str(detail))
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            answer[header] = response[header]
    return answer
