"""Expensicat's GET /api/v1/reports/summary: the time-entries list's entries (same parameters,
same role rules) summed by timeentries.reports, in this dialect's envelope and names."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import ID_PATTERN
from common.api.expensicat import expensicat_path
from common.openapi import expensicat_data, expensicat_responses
from timeentries.api.expensicat import DAY, TimeEntryView
from timeentries.api.report_schema import report_output
from timeentries.reports import (
    GROUPINGS,
    group_by_schema,
    parse_group_by,
    parse_time_zone,
    parse_week_start,
    time_entry_report,
    time_zone_schema,
    week_start_schema,
)

# Expensicat calls contacts customers.
ALIASES = {"customer": "contact"}
GROUP_NAMES = ["customer" if g == "contact" else g for g in GROUPINGS]
# The report's figures under this dialect's names (a time entry's `duration` is in seconds).
FIGURES = {"seconds": "duration", "billable_seconds": "billable_duration"}


def _renamed(item: dict[str, Any]) -> dict[str, Any]:
    body = {FIGURES.get(name, name): value for name, value in item.items() if name != "groups"}
    if "groups" in item:
        body["groups"] = [_renamed(group) for group in item["groups"]]
    return body


def render_report(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "totals": _renamed(report["totals"]),
        "groups": [_renamed(group) for group in report["groups"]],
    }


ReportOutput = report_output(
    "Expensicat",
    seconds="duration",
    seconds_help="Seconds: end - start - pauses",
    billable_seconds="billable_duration",
    billable_help="Seconds",
    contact="customer",
)


class ReportSummaryView(TimeEntryView):
    @extend_schema(
        operation_id="expensicat_reports_summary",
        summary="Hours and amounts of time entries, grouped",
        parameters=[
            # The list's parameters (GET /v1/time-entries), read by the same filter set.
            OpenApiParameter("start_date", DAY, description="From this day (inclusive)."),
            OpenApiParameter("end_date", DAY, description="Up to this day (inclusive)."),
            OpenApiParameter(
                "group_by",
                group_by_schema([*ALIASES, *(g for g in GROUPINGS if g not in ALIASES.values())]),
                description=f"One or two of {', '.join(GROUP_NAMES)}, comma-separated.",
            ),
            OpenApiParameter(
                "project_id",
                {"type": "string", "pattern": ID_PATTERN},
                description="Only this project's entries.",
            ),
            OpenApiParameter(
                "user_id",
                {"type": "string", "pattern": f"^me$|{ID_PATTERN}"},
                description='"me" or a member\'s id (owners and admins only).',
            ),
            OpenApiParameter("q", str, description="Text the description contains."),
            OpenApiParameter("week_start", week_start_schema(), description="Default monday."),
            OpenApiParameter(
                "time_zone",
                time_zone_schema(),
                description="IANA name the dates and buckets are read in (an entry belongs to "
                "the day its start falls on there); default the organization's.",
            ),
        ],
        responses=expensicat_responses({200: expensicat_data("ExpensicatReport", ReportOutput)}),
    )
    def get(self, request: Request) -> Response:
        """The entries GET /v1/time-entries would list for the same parameters (members: their
        own; owners and admins: everyone's), totalled in the database. Running entries count up
        to now. Groups are sorted by key; the empty group (no project, no customer) has key
        null."""
        params = request.query_params
        group_by = parse_group_by(params.get("group_by"), aliases=ALIASES)
        week_start = parse_week_start(params.get("week_start"))
        zone = parse_time_zone(params.get("time_zone"), default=self.administration.tz)
        report = time_entry_report(
            self.filtered(zone), group_by=group_by, time_zone=zone, week_start=week_start
        )
        return self.data(render_report(report))


urlpatterns = [expensicat_path("reports/summary", ReportSummaryView, "ec-reports-summary")]
