"""Site-wide middleware: the request id and the request's log line, the language (Chinese first). The login gates
are in accounts.middleware."""
import logging
import time

from django.conf import settings
from django.core.signals import request_finished
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django_guid import clear_guid

from ccfi_portal.observability import REQUEST_ID_HEADER, request_id_valid

request_logger = logging.getLogger("ccfi_portal.request")
_REQUEST_ID_META = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")


class RequestIdMiddleware:
    """Around django-guid's middleware (next in MIDDLEWARE), which gives each request its id: an incoming
    ``X-Request-ID`` that is a short token of safe characters is kept, anything else is dropped here so that
    django-guid generates one (its own check accepts only UUIDs, or anything). After the response: one log line
    (method, path without the query string, status, duration). The id is cleared once the response is closed
    (``request_finished``: after Django's own log of a 4xx or 5xx, which comes after the middleware)."""

    def __init__(self, get_response):
        self.get_response = get_response
        request_finished.connect(_request_id_clear, dispatch_uid="ccfi_request_id_clear")

    def __call__(self, request):
        started = time.monotonic()
        if not request_id_valid(request.META.get(_REQUEST_ID_META)):
            request.META.pop(_REQUEST_ID_META, None)
        response = self.get_response(request)
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        request_logger.info("%s %s %s %.1f ms", request.method, request.path, response.status_code, duration_ms,
                            extra={"method": request.method, "path": request.path, "status": response.status_code,
                                   "duration_ms": duration_ms})
        return response


def _request_id_clear(**kwargs):
    clear_guid()


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the user picked another language with the switch.

    Django's own middleware follows the browser's Accept-Language; a Chinese government
    portal shows Chinese first whatever the browser says, and English on request. The API (``/api/``)
    answers a client's systems, which ask with Accept-Language: there it counts (then the default).
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        if request.path.startswith("/api/"):
            language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
