"""Clockify's detailed report, exported as CSV.

Columns: Project, Client, Description, Task, User, Group, Email, Tags, (Type,) Billable,
(Invoiced, Invoice ID,) Start Date, Start Time, End Date, End Time, Duration (h),
Duration (decimal), Billable Rate (CUR), Billable Amount (CUR)(, Date of creation). Dates as the
user's setting writes them (MM/DD/YYYY by default: pass day_first for DD/MM/YYYY), times in 12-
or 24-hour form, local: read in the administration's time zone. Rates, amounts and tags are not
kept; an entry without a description takes its task's name. No entry id: rows are keyed by
their content.
"""

from datetime import tzinfo

from timeentries.imports.reading import Header, Records, parse_detailed_report

NAME = "clockify"
SOURCE = "clockify"
REQUIRED = ("Email", "Description", "Start Date", "Start Time", "End Date", "End Time")

COLUMNS = {
    "user": "Email",
    "description": "Description",
    "started_at": "Start Date",
    "ended_at": "End Time",
    "paused_duration": "Duration (h)",
    "project": "Project",
    "contact": "Client",
    "billable": "Billable",
    "start_date": "Start Date",
    "start_time": "Start Time",
    "end_date": "End Date",
    "end_time": "End Time",
    "duration": "Duration (h)",
    "base": "Start Date",
}


def matches(header: Header) -> bool:
    return not header.missing(REQUIRED) and (
        "Duration (h)" in header or "Duration (decimal)" in header
    )


def parse(header: Header, records: Records, *, tz: tzinfo, day_first: bool = False):
    return parse_detailed_report(
        header,
        records,
        columns=COLUMNS,
        tz=tz,
        day_first=day_first,
        fallback_duration="Duration (decimal)",
    )
