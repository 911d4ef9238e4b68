"""Every API error in one shape: RFC 9457 problem details (``application/problem+json``) with ``type``,
``title``, ``status``, ``detail``, a stable machine-readable ``code`` and, for refused input, ``errors``: one
``{indicator, field, code, message}`` per reason (``indicator`` null when the reason names none). Messages
follow the request's language (Accept-Language; Chinese by default)."""
from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
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


def _titles() -> dict[int, str]:
    return {
        400: _("Invalid request"), 401: _("Not authenticated"), 403: _("Forbidden"), 404: _("Not found"),
        405: _("Method not allowed"), 406: _("Not acceptable"), 409: _("Conflict"),
        415: _("Unsupported media type"), 429: _("Too many requests"),
    }


def problem(*, status: int, code: str, detail: str, errors: list[dict] | None = None, **extra) -> Response:
    """A problem-details answer; ``extra`` members (e.g. the current edit version of a conflict) are added."""
    body = {"type": PROBLEM_TYPE + code, "title": _titles().get(status, HTTPStatus(status).phrase),
            "status": status, "detail": detail, "code": code}
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return Response(body, status=status, content_type=PROBLEM_MEDIA_TYPE)


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
