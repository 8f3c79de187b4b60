"""Moneybird's /api/v2/administrations: the administrations the token reaches."""

from datetime import date
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import re_path
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from administrations.models import Administration
from administrations.selectors import administrations_for_user
from common.api.moneybird import MoneybirdView
from common.openapi import moneybird_responses
from timeentries.models import TimeEntry


def period_start_date(administration: Administration) -> date:
    """Moneybird: the start of the year of the first bookkeeping data. Ours is time: 1 January
    of the year of the earliest time entry (imported entries may predate the administration) or,
    if earlier or there are none, of the year the administration was made, both in its own time
    zone. A client syncing "everything since period_start_date" thus misses nothing."""
    moments = [administration.created_at, administration.first_entry_at]
    year = min(m.astimezone(administration.tz).year for m in moments if m is not None)
    return date(year, 1, 1)


def with_first_entry(queryset: QuerySet) -> QuerySet:
    """Administrations annotated with what render_administration needs besides their columns:
    when their earliest time entry starts (first_entry_at)."""
    first_entry = (
        TimeEntry.objects.filter(administration=OuterRef("pk"))
        .order_by("started_at")
        .values("started_at")[:1]
    )
    return queryset.annotate(first_entry_at=Subquery(first_entry))


def render_administration(administration: Administration) -> dict[str, Any]:
    """`administration` comes from with_first_entry."""
    return {
        # A string, as every id: 64-bit ids exceed what a JavaScript number holds exactly (2**53),
        # and Moneybird's production responses carry them as strings.
        "id": str(administration.pk),
        "name": administration.name,
        "language": administration.language,
        "currency": administration.currency,
        "country": administration.country,
        "time_zone": administration.time_zone,
        # Access is always through a membership; there are no accountant companies here.
        "access": "user",
        "suspended": administration.suspended,
        "period_locked_until": (
            administration.period_locked_until.isoformat()
            if administration.period_locked_until
            else None
        ),
        "period_start_date": period_start_date(administration).isoformat(),
    }


# What render_administration answers, for the OpenAPI schema only (common/openapi.py).
@extend_schema_serializer(component_name="MoneybirdAdministration")
class AdministrationOutput(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    language = serializers.CharField()
    currency = serializers.CharField()
    country = serializers.CharField()
    time_zone = serializers.CharField()
    access = serializers.CharField(help_text='Always "user"')
    suspended = serializers.BooleanField()
    period_locked_until = serializers.DateField(allow_null=True)
    period_start_date = serializers.DateField()


class AdministrationListView(MoneybirdView):
    # Any valid token may see which administrations it reaches.
    required_scopes = ()
    resolves_administration = False

    @extend_schema(
        operation_id="moneybird_administrations_list",
        summary="List the administrations the credential reaches",
        responses=moneybird_responses({200: AdministrationOutput(many=True)}),
    )
    def get(self, request: Request) -> Response:
        administrations = with_first_entry(
            administrations_for_user(user=request.user, token=request.auth)
        ).order_by("name", "id")
        return Response([render_administration(a) for a in administrations])


urlpatterns = [
    re_path(
        r"^api/v2/administrations(?:\.json)?$",
        AdministrationListView.as_view(),
        name="mb-administrations",
    ),
]
