"""Every request's address and user agent for the events it records, and every refused request recorded:
403 answers, and the 404 a signed-in user gets from a page that exists (another city's return: the portal
does not say it exists, the trail does)."""
from http import HTTPStatus

from audit.services import audit_record, current_request, request_context

DENIED = {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request_context(request))
        try:
            response = self.get_response(request)
            if self._denied(request, response):
                self._record(request, response)
            return response
        finally:
            current_request.reset(token)

    @staticmethod
    def _denied(request, response) -> bool:
        if response.status_code in DENIED:
            return True
        user = getattr(request, "user", None)
        return (response.status_code == HTTPStatus.NOT_FOUND and user is not None and user.is_authenticated
                and getattr(request, "resolver_match", None) is not None
                # admin/<anything> answers 404 for a page that does not exist: nothing was refused.
                and getattr(request.resolver_match.func, "__name__", "") != "catch_all_view")

    @staticmethod
    def _record(request, response) -> None:
        match = getattr(request, "resolver_match", None)
        audit_record(actor=getattr(request, "user", None), event_type="access.denied", success=False, details={
            "method": request.method, "path": request.path[:300], "status": response.status_code,
            "view": match.view_name if match else "", "arguments": {k: str(v) for k, v in match.kwargs.items()}
            if match else {},
        })
