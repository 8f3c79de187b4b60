from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from common.errors import expensicat_error_body


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    # Clients parse JSON: an unknown /api/ path answers in JSON, not Django's HTML page, and in
    # the error shape of the dialect its path belongs to.
    if request.path.startswith("/api/v1/"):
        return JsonResponse(expensicat_error_body("NOT_FOUND", "record not found"), status=404)
    return JsonResponse(
        {"error": "record not found", "symbolic": {"path": "not_found"}}, status=404
    )


urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("common.signin")),
    path("", include("timeentries.api.moneybird")),
    path("", include("administrations.api.moneybird")),
    path("", include("timeentries.api.expensicat")),
    path("", include("administrations.api.expensicat")),
    path("", include("common.apidocs")),
    path("", include("webhooks.api.moneybird")),
]

handler404 = "config.urls.api_not_found"
