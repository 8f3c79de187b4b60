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

from timeentries.imports.reading import (
    Header,
    Records,
    cell_value,
    convert_rows,
    parse_bool,
    start_and_end,
)
from timeentries.imports.rows import ImportRow

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
    col = {name: header.getter(column) for name, column in COLUMNS.items()}
    name, task = header.getter("User"), header.getter("Task")
    decimal = header.getter("Duration (decimal)")

    def convert(number: int, record: list[str]) -> ImportRow:
        started, ended = start_and_end(
            start_date=col["start_date"](record),
            start_time=col["start_time"](record),
            end_date=col["end_date"](record),
            end_time=col["end_time"](record),
            duration=col["duration"](record) or decimal(record),
            tz=tz,
            day_first=day_first,
            columns=COLUMNS,
        )
        return ImportRow(
            row=number,
            started_at=started,
            ended_at=ended,
            description=col["description"](record) or task(record),
            user_email=col["user"](record).lower(),
            user_name=name(record),
            project=col["project"](record),
            contact=col["contact"](record),
            billable=cell_value(parse_bool, col["billable"](record), COLUMNS["billable"]),
            columns=COLUMNS,
        )

    return convert_rows(records, convert)
