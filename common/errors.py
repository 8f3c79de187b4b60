"""One exception handler per API dialect: each turns domain and DRF errors into that dialect's
error body. Views raise; they never build error bodies themselves."""

from typing import Any

from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.exceptions import BadRequest, NotFound, ScopeMissing, ValidationFailed


def moneybird_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Moneybird's shapes: {"error": "...", "symbolic": {...}} for 4xx, and
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
    if response is not None:
        detail = response.data.get("detail") if isinstance(response.data, dict) else None
        response.data = {"error": str(detail or response.data)}
    return response
