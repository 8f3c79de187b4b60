"""Middleware that guards the API before any view runs."""

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.module_loading import import_string

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


class HotReadMiddleware:
    """The hottest reads answered before URL resolution and DRF's dispatch: settings.HOT_READS
    maps a path's pattern to a function that takes a GET request (and the pattern's named
    groups) and returns its response, or None to let the path's view answer it. Each answers
    only the plainest requests of its view's (common.hotpath), as that view would, byte for
    byte, and passes everything else on, errors included. The middleware before it still run
    as for any request (host, security headers, Content-Length): innermost, it spares only the
    resolver and DRF's per-request work (the request wrapper, negotiation, authentication
    classes, permission objects): 0.3-0.5 ms CPU of an Expensicat page's 1.2-1.5 (README
    "Performance")."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.reads: list[tuple[re.Pattern[str], Callable[..., HttpResponse | None]]] = [
            (re.compile(pattern), import_string(dotted_path))
            for pattern, dotted_path in settings.HOT_READS.items()
        ]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET":
            for pattern, read in self.reads:
                match = pattern.fullmatch(request.path_info)
                if match is not None:
                    response = read(request, **match.groupdict())
                    if response is not None:
                        return response
                    break
        return self.get_response(request)


# The data APIs (Moneybird's /api/v2/, Expensicat's /api/v1/) authenticate every request by its
# credential and keep no session: sessions, the session's user and messages serve the admin and
# the sign-in pages (which include /api/auth/), so these paths skip them. CSRF stays as Django
# ships it (the deployment check looks for it by name; on the APIs' csrf_exempt views it returns
# at once).
DATA_API_PREFIXES = ("/api/v1/", "/api/v2/")


def _browser_only(dotted_path: str) -> type:
    """The middleware at `dotted_path`, skipped on the data APIs' paths. A subclass, so that the
    admin's checks for its middleware still find it."""
    wrapped: type = import_string(dotted_path)

    def skipped(request: HttpRequest) -> bool:
        return request.path_info.startswith(DATA_API_PREFIXES)

    namespace: dict[str, Any] = {
        "__call__": lambda self, request: (
            self.get_response(request) if skipped(request) else wrapped.__call__(self, request)
        )
    }
    # Django registers these hooks by their presence on the instance.
    for hook in ("process_view", "process_exception", "process_template_response"):
        if hasattr(wrapped, hook):
            namespace[hook] = _skipping(getattr(wrapped, hook), skipped)
    return type(f"BrowserOnly{wrapped.__name__}", (wrapped,), namespace)


def _skipping(method: Callable, skipped: Callable[[HttpRequest], bool]) -> Callable:
    def hook(self: Any, request: HttpRequest, *args: Any) -> Any:
        return None if skipped(request) else method(self, request, *args)

    return hook


SessionMiddleware = _browser_only("django.contrib.sessions.middleware.SessionMiddleware")
AuthenticationMiddleware = _browser_only("django.contrib.auth.middleware.AuthenticationMiddleware")
MessageMiddleware = _browser_only("django.contrib.messages.middleware.MessageMiddleware")
