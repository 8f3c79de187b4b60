"""The landing page at / (what this server is, and where to go from there), the OpenAPI schema
(drf-spectacular; its pieces are in common/openapi.py) and its docs pages:
/api/schema/ (both dialects), /api/schema/moneybird/ and /api/schema/expensicat/ (one each),
/api/docs/ (Swagger UI) and /api/redoc/ (Redoc). The pages' scripts and styles come from
drf-spectacular-sidecar as static files, so they work without internet."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

# The schema and its pages are public: the default permission (common.auth.HasRequiredScopes)
# would demand a credential and a `required_scopes`.
PUBLIC = {"permission_classes": [AllowAny], "authentication_classes": []}


def _schema_view(title: str, hook: str) -> Any:
    return SpectacularAPIView.as_view(
        custom_settings={"TITLE": title, "PREPROCESSING_HOOKS": [hook]}, **PUBLIC
    )


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    """GET /: a small page for whoever opens the server in a browser (a fresh `make run`)."""
    return render(
        request,
        "landing/index.html",
        {
            "moneybird_base": request.build_absolute_uri("/api/v2/"),
            "expensicat_base": request.build_absolute_uri("/api/v1/"),
        },
    )


urlpatterns = [
    path("", landing, name="landing"),
    path("api/schema/", SpectacularAPIView.as_view(**PUBLIC), name="openapi-schema"),
    path(
        "api/schema/moneybird/",
        _schema_view("Uurwerk API (Moneybird dialect)", "common.openapi.only_moneybird"),
        name="openapi-schema-moneybird",
    ),
    path(
        "api/schema/expensicat/",
        _schema_view("Uurwerk API (Expensicat dialect)", "common.openapi.only_expensicat"),
        name="openapi-schema-expensicat",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="openapi-schema", **PUBLIC),
        name="openapi-docs",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(
            url_name="openapi-schema", template_name="openapi/redoc.html", **PUBLIC
        ),
        name="openapi-redoc",
    ),
]
