from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLResolver, include, path
from django.urls.resolvers import RoutePattern
from django.views.defaults import server_error

from common.errors import INTERNAL_ERROR_MESSAGE, expensicat_error_body


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    # Clients parse JSON: an unknown /api/ path answers in JSON, not Django's HTML page, and in
    # the error shape of the dialect its path belongs to.
    if request.path.startswith("/api/v1/"):
        return JsonResponse(expensicat_error_body("NOT_FOUND", "record not found"), status=404)
    return JsonResponse(
        {"error": "record not found", "symbolic": {"path": "not_found"}}, status=404
    )


def api_server_error(request: HttpRequest) -> HttpResponse:
    # An exception outside the API views (their exception handlers answer their own) with
    # DEBUG off: JSON in the dialect's shape under /api/, Django's page elsewhere. Django has
    # logged it with its traceback already.
    if request.path.startswith("/api/v1/"):
        body = expensicat_error_body("INTERNAL_ERROR", INTERNAL_ERROR_MESSAGE)
        return JsonResponse(body, status=500)
    if request.path.startswith("/api/"):
        body = {"error": INTERNAL_ERROR_MESSAGE, "symbolic": {"server": "internal_error"}}
        return JsonResponse(body, status=500)
    return server_error(request)


def lazy_include(module: str, prefix: str = "", namespace: str | None = None) -> URLResolver:
    """include(module), but imported when a request's path first reaches it (or a reverse() or
    a system check needs its patterns), not when this URLconf loads: a server worker that only
    answers the API never imports the admin, sign-in and OAuth2, or the OpenAPI views (README
    "Performance", worker memory). Django's URLResolver imports a module given by name lazily;
    include() would import it now."""
    return URLResolver(
        RoutePattern(prefix, is_endpoint=False), module, app_name=namespace, namespace=namespace
    )


urlpatterns = [
    # admin.site.urls, with the admin's modules discovered on first use (config/apps.py).
    lazy_include("config.urls_admin", "admin/", namespace="admin"),
    # The time entries' routes first: Django tries the patterns in order, and resolving
    # Expensicat's list after the twenty-four patterns that were in front of it took 3% of
    # that request's instructions. No two modules here answer the same path, so the order
    # changes no answer.
    path("", include("timeentries.api.expensicat")),
    path("", include("timeentries.api.moneybird")),
    path("", include("timeentries.api.moneybird_reports")),
    path("", include("administrations.api.moneybird")),
    path("", include("timeentries.api.expensicat_reports")),
    path("", include("administrations.api.expensicat")),
    path("", include("notes.api.moneybird_events")),
    path("", include("notes.api.expensicat")),
    path("", include("webhooks.api.moneybird")),
    # Last, so that resolving an API path never reaches (and imports) them; no path of theirs
    # is one an API URLconf above answers, so the order changes no answer.
    lazy_include("common.signin"),  # /auth/, /api/auth/, /oauth/
    lazy_include("common.apidocs"),  # /, /api/schema/, /api/docs/, /api/redoc/
]

handler404 = "config.urls.api_not_found"
handler500 = "config.urls.api_server_error"
