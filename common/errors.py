"""One exception handler per API dialect: each turns domain and DRF errors into that dialect's
error body. Views raise; they never build error bodies themselves."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.exceptions import BadRequest, NotFound, RateLimited, ScopeMissing, ValidationFailed


def _rate_limit_headers(exc: RateLimited) -> dict[str, str]:
    headers = {"Retry-After": str(exc.retry_after)}
    usage_headers = getattr(exc.usage, "headers", None)  # common.ratelimit.Usage
    if callable(usage_headers):
        headers.update(usage_headers())
    return headers


# Django's own logger for failed requests: its records carry the request and status, and the
# console handler of settings.LOGGING prints them with their traceback in every mode.
request_logger = logging.getLogger("django.request")

INTERNAL_ERROR_MESSAGE = "Internal server error"


def log_unexpected(exc: Exception, context: dict[str, Any], response: Response) -> Response:
    """Log an exception no handler expected, with its traceback, and answer `response` (a 500
    in the dialect's shape) instead of Django's HTML page. The response is marked as logged,
    so that Django does not log it a second time without the traceback."""
    request = context.get("request")
    path = getattr(request, "path", "?")
    request_logger.error(
        "Internal Server Error: %s",
        path,
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"status_code": 500, "request": getattr(request, "_request", request)},
    )
    response._has_been_logged = True  # read by django.utils.log.log_response
    return response


def moneybird_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Moneybird's shapes: {"error": "...", "symbolic": {...}} for 4xx and for an unexpected
    exception's 500 (logged with its traceback), and
    {"error": {field: [msg]}, "details": {field: [{"error": code}]}} for 422."""
    if isinstance(exc, ValidationFailed):
        return Response(
            {
                "error": {f: [e.message for e in errs] for f, errs in exc.errors.items()},
                "details": {f: [{"error": e.code} for e in errs] for f, errs in exc.errors.items()},
            },
            status=422,
        )
    if isinstance(exc, NotFound):
        return Response({"error": exc.message, "symbolic": {exc.field: "not_found"}}, status=404)
    if isinstance(exc, Http404 | drf.NotFound):
        return Response({"error": "record not found", "symbolic": {"id": "not_found"}}, status=404)
    if isinstance(exc, BadRequest):
        body: dict[str, Any] = {"error": exc.message}
        if exc.field:
            body["symbolic"] = {exc.field: exc.code}
        return Response(body, status=400)
    if isinstance(exc, RateLimited):
        return Response(
            {"error": "Retry later", "symbolic": {"rate_limit": "exceeded"}},
            status=429,
            headers=_rate_limit_headers(exc),
        )
    if isinstance(exc, ScopeMissing):
        # Moneybird answers a missing permission with 401, and its clients expect that.
        return Response({"error": str(exc)}, status=401)
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return Response(
            {"error": str(exc.detail)},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )
    if isinstance(exc, drf.ParseError):
        return Response({"error": f"Invalid request body: {exc.detail}"}, status=400)
    response = drf_exception_handler(exc, context)
    if response is None:
        body = {"error": INTERNAL_ERROR_MESSAGE, "symbolic": {"server": "internal_error"}}
        return log_unexpected(exc, context, Response(body, status=500))
    detail = response.data.get("detail") if isinstance(response.data, dict) else None
    response.data = {"error": str(detail or response.data)}
    return response


# --- Expensicat -------------------------------------------------------------------------------

# Codes for DRF's own errors that have no domain exception of their own.
_EXPENSICAT_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
}


def expensicat_error_body(
    code: str, message: str, details: dict[str, list[Any]] | None = None
) -> dict[str, Any]:
    """{"error": {"code", "message", "details"}}: the one error shape of the Expensicat API."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _expensicat(
    status: int,
    message: str,
    details: dict[str, list[Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    code = _EXPENSICAT_CODES.get(status, "ERROR")
    return Response(expensicat_error_body(code, message, details), status=status, headers=headers)


def expensicat_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Expensicat's shape for every error: 422 VALIDATION_ERROR with details per field, 404
    NOT_FOUND (unknown and foreign ids alike), 400 BAD_REQUEST naming the parameter, 401
    UNAUTHORIZED, 403 FORBIDDEN (also for a missing scope), 429 RATE_LIMITED, and 500
    INTERNAL_ERROR (logged with its traceback) for anything unexpected."""
    if isinstance(exc, ValidationFailed):
        details = {f: [e.message for e in errs] for f, errs in exc.errors.items()}
        return _expensicat(422, "Validation failed", details)
    if isinstance(exc, NotFound):
        return _expensicat(404, f"{exc.field}: {exc.message}", {exc.field: [exc.message]})
    if isinstance(exc, Http404 | drf.NotFound):
        return _expensicat(404, "record not found")
    if isinstance(exc, BadRequest):
        return _expensicat(400, exc.message, {exc.field: [exc.message]} if exc.field else None)
    if isinstance(exc, ScopeMissing):
        # Unlike Moneybird (401), a valid token without the scope is forbidden here.
        return _expensicat(403, f"Token lacks the scope {exc.scope}", {"scope": [exc.scope]})
    if isinstance(exc, RateLimited):
        return _expensicat(429, str(exc), headers=_rate_limit_headers(exc))
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return _expensicat(401, str(exc.detail), headers={"WWW-Authenticate": 'Bearer realm="api"'})
    if isinstance(exc, drf.ParseError):
        return _expensicat(400, f"Invalid request body: {exc.detail}")
    if isinstance(exc, drf.Throttled):
        headers = {"Retry-After": str(int(exc.wait))} if exc.wait is not None else None
        return _expensicat(429, str(exc.detail), headers=headers)
    if isinstance(exc, drf.APIException):
        detail = exc.detail
        message = str(detail) if not isinstance(detail, dict | list) else "Request failed"
        return _expensicat(exc.status_code, message)
    if isinstance(exc, PermissionDenied):
        return _expensicat(403, str(exc) or "Forbidden")
    return log_unexpected(exc, context, _expensicat(500, INTERNAL_ERROR_MESSAGE))
