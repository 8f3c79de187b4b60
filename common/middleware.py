"""Middleware that guards the API before any view runs."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from common.errors import expensicat_error_body
from common.limits import REQUEST_BODY_MAX_BYTES


def api_error_response(request: HttpRequest, status: int, message: str, code: str) -> JsonResponse:
    """An error outside DRF's exception handlers, in the error shape of the dialect the path
    belongs to: Expensicat's under /api/v1/, Moneybird's for every other /api/ path."""
    if request.path.startswith("/api/v1/"):
        return JsonResponse(expensicat_error_body(code.upper(), message), status=status)
    return JsonResponse({"error": message, "symbolic": {"request": code}}, status=status)


class RequestBodyLimitMiddleware:
    """413 for a request body over REQUEST_BODY_MAX_BYTES, judged by its Content-Length before a
    byte of it is read. The body Django reads is bounded by that same Content-Length (a body
    without one reads as empty), so no larger body can reach a parser."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > REQUEST_BODY_MAX_BYTES:
            message = f"The request body is larger than {REQUEST_BODY_MAX_BYTES} bytes"
            if request.path.startswith("/api/"):
                return api_error_response(request, 413, message, "payload_too_large")
            return HttpResponse(message, status=413, content_type="text/plain")
        return self.get_response(request)
