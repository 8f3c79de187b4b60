from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    # Clients parse JSON: an unknown /api/ path answers in JSON, not Django's HTML page.
    return JsonResponse(
        {"error": "record not found", "symbolic": {"path": "not_found"}}, status=404
    )


urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("timeentries.api.moneybird")),
    path("", include("administrations.api.moneybird")),
]

handler404 = "config.urls.api_not_found"
