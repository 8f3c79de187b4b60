from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
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


urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("common.signin")),
    path("", include("timeentries.api.moneybird")),
    path("", include("administrations.api.moneybird")),
    path("", include("timeentries.api.expensicat")),
    path("", include("administrations.api.expensicat")),
    path("", include("common.apidocs")),
]

handler404 = "config.urls.api_not_found"
handler500 = "config.urls.api_server_error"
