"""Moneybird's GET /api/v2/{administration_id}/time_entries/report(.json|.csv): the list's
entries (same filter= and query=) summed by timeentries.reports, as JSON or CSV."""

from typing import Any

from django.urls import URLPattern, re_path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from common.api.moneybird import ID, MoneybirdView
from common.openapi import TIME_ENTRIES_FILTER_FORMAT, moneybird_filter, moneybird_responses
from common.renderers import JSONRenderer
from timeentries.api.moneybird import listed_entries
from timeentries.api.report_schema import report_output
from timeentries.reports import (
    GROUPINGS,
    group_by_schema,
    parse_group_by,
    parse_time_zone,
    parse_week_start,
    report_csv,
    time_entry_report,
    time_zone_schema,
    week_start_schema,
)


class CSVRenderer(BaseRenderer):
    """Passes through the CSV text the view made (timeentries.reports.report_csv)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type=None, renderer_context=None) -> bytes:
        return data.encode() if isinstance(data, str) else b""


ReportOutput = report_output(
    "Moneybird",
    seconds="seconds",
    seconds_help="ended_at - started_at - paused_duration",
    billable_seconds="billable_seconds",
    billable_help=None,
    contact="contact",
)


REPORT_PARAMETERS = [
    moneybird_filter(
        "The list's keys and defaults (GET time_entries): without a filter, this year's entries "
        "and no running ones. Periods and days are read in `time_zone`.",
        format=TIME_ENTRIES_FILTER_FORMAT,
    ),
    OpenApiParameter("query", str, description="Text the description contains."),
    OpenApiParameter(
        "group_by",
        group_by_schema(GROUPINGS),
        description=f"One or two of {', '.join(GROUPINGS)}, comma-separated (project,week).",
    ),
    OpenApiParameter("week_start", week_start_schema(), description="Default monday."),
    OpenApiParameter(
        "format",
        {"type": "string", "enum": ["csv", "json"]},
        description="Wins over the Accept header, as the `.csv` suffix does.",
    ),
    OpenApiParameter(
        "time_zone",
        time_zone_schema(),
        description="IANA name the days, weeks, months and years are counted in (an entry "
        "belongs to the day its start falls on there); default the administration's.",
    ),
]


class TimeEntryReportView(MoneybirdView):
    required_scopes = ("time_entries",)
    renderer_classes = (JSONRenderer, CSVRenderer)

    def get_format_suffix(self, **kwargs: Any) -> str | None:
        return "csv" if self.request.path.endswith(".csv") else None

    @extend_schema(
        operation_id="moneybird_time_entries_report",
        summary="Hours and amounts of time entries, grouped",
        parameters=REPORT_PARAMETERS,
        responses={
            (200, "application/json"): ReportOutput,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="With Accept: text/csv or the .csv suffix: one row per leaf group; "
                "key (and name) columns, entries, hours and billable_hours with two decimals, "
                "amount_<currency> per currency.",
            ),
            # Errors are JSON whatever was asked for.
            **{
                (status, "application/json"): response
                for status, response in moneybird_responses({}, 400, 404).items()
            },
        },
    )
    def get(self, request: Request, administration_id: str) -> Response:
        """The entries the list would answer for the same `filter=` and `query=`, totalled in
        the database, by up to two groupings. Keys are sorted; the empty group (no project, no
        contact) has key null."""
        params = request.query_params
        group_by = parse_group_by(params.get("group_by"))
        week_start = parse_week_start(params.get("week_start"))
        zone = parse_time_zone(params.get("time_zone"), default=self.administration.tz)
        filterset, queryset = listed_entries(request, self.administration, time_zone=zone)
        report = time_entry_report(
            queryset, group_by=group_by, time_zone=zone, week_start=week_start
        )
        if report["totals"]["entries"] == 0:
            filterset.check_references()
        if request.accepted_renderer.format == "csv":
            return Response(
                report_csv(report, group_by),
                headers={"Content-Disposition": 'attachment; filename="time_entries_report.csv"'},
            )
        return Response(report)

    def handle_exception(self, exc: Exception) -> Response:
        # An error is JSON in Moneybird's shape even when CSV was asked for.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


def _path() -> URLPattern:
    # Before time_entries/{id} in config/urls.py; {id} is digits, so neither could take the
    # other's requests anyway.
    return re_path(
        rf"^api/v2/(?P<administration_id>{ID})/time_entries/report(?:\.json|\.csv)?$",
        TimeEntryReportView.as_view(),
        name="mb-time-entries-report",
    )


urlpatterns = [_path()]
