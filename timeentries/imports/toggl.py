"""Toggl Track's detailed report, exported as CSV.

Columns: User, Email, Client, Project, Task, Description, Billable, Start date, Start time,
End date, End time, Duration, Tags, Amount (...). Dates as the exporting user set them
(YYYY-MM-DD by default), times as 13:30:00 or 1:30:00 PM, local to the workspace; they are read
in the administration's time zone. Tags and amounts are not kept. An entry without a description
takes its task's name. Toggl's CSV carries no entry id: rows are keyed by their content.
"""

from datetime import tzinfo

from timeentries.imports.reading import Header, Records, parse_detailed_report

NAME = "toggl"
SOURCE = "toggl"
REQUIRED = ("Email", "Description", "Start date", "Start time", "End date", "End time")

COLUMNS = {
    "user": "Email",
    "description": "Description",
    "started_at": "Start date",
    "ended_at": "End time",
    "paused_duration": "Duration",
    "project": "Project",
    "contact": "Client",
    "billable": "Billable",
    "start_date": "Start date",
    "start_time": "Start time",
    "end_date": "End date",
    "end_time": "End time",
    "duration": "Duration",
    "base": "Start date",
}


def matches(header: Header) -> bool:
    # Clockify's columns are alike but for their capitals and its "Duration (h)".
    return not header.missing(REQUIRED) and "User" in header and "Duration (h)" not in header


def parse(header: Header, records: Records, *, tz: tzinfo, day_first: bool = False):
    return parse_detailed_report(header, records, columns=COLUMNS, tz=tz, day_first=day_first)
