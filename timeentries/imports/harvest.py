"""Harvest's detailed time report, exported as CSV.

Columns: Date, Client, Project, Project Code, Task, Notes, Hours, Hours Rounded, Billable?,
Invoiced?, Approved?, First Name, Last Name, Roles, Employee?, Billable Rate, Billable Amount,
Cost Rate, Cost Amount, Currency, External Reference URL. Dates YYYY-MM-DD or M/D/YYYY; hours
are decimal, with a decimal comma and thousands dots in some locales ("2.000,5").

Harvest reports durations only, and names people without an email address, so:

- Times: a person's entries on one day are laid end to end from 09:00 in the administration's
  time zone, in file order, each as long as its hours rounded to the nearest minute (two-decimal
  hours cannot say 20 minutes exactly). The same file always gives the same times, so
  re-importing it finds the same entries.
- People: matched by "First Last" against the names of the administration's members; they are
  never created (there is no address to create them with). A file with an "Email" column (not
  Harvest's own) is matched by address instead.

An entry without notes takes its task's name. No entry id: rows are keyed by their content.
"""

from collections import OrderedDict
from datetime import date, datetime, time, timedelta, tzinfo

from timeentries.imports.reading import (
    Header,
    Records,
    cell_value,
    convert_rows,
    local_to_utc,
    parse_bool,
    parse_date,
    parse_hours,
)
from timeentries.imports.rows import ImportRow, RowProblem

NAME = "harvest"
SOURCE = "harvest"
REQUIRED = ("Date", "Hours", "Notes", "First Name", "Last Name")
DAY_STARTS_AT = time(9, 0)
# Days whose layout is remembered: a file sorted by date needs one; this many cover files
# sorted by person or project too, while memory stays bounded.
_REMEMBERED_DAYS = 10_000

COLUMNS = {
    "user": "First Name",
    "description": "Notes",
    "started_at": "Date",
    "ended_at": "Hours",
    "paused_duration": "Hours",
    "project": "Project",
    "contact": "Client",
    "billable": "Billable?",
    "base": "Date",
}


def matches(header: Header) -> bool:
    return not header.missing(REQUIRED)


def parse(header: Header, records: Records, *, tz: tzinfo, day_first: bool = False):
    first, last, email = (
        header.getter("First Name"),
        header.getter("Last Name"),
        header.getter("Email"),
    )
    day_cell, hours_cell, notes, task = (
        header.getter("Date"),
        header.getter("Hours"),
        header.getter("Notes"),
        header.getter("Task"),
    )
    project, client, billable = (
        header.getter("Project"),
        header.getter("Client"),
        header.getter("Billable?"),
    )
    next_start: OrderedDict[tuple[str, date], datetime] = OrderedDict()

    def convert(number: int, record: list[str]) -> ImportRow:
        day = cell_value(parse_date, day_cell(record), "Date", day_first=day_first)
        hours = cell_value(parse_hours, hours_cell(record), "Hours")
        if hours < 0:
            raise RowProblem("Hours", "must not be negative")
        person = f"{first(record)} {last(record)}".strip()
        address = email(record).lower()
        key = (address or person, day)
        started = next_start.pop(key, None) or local_to_utc(day, DAY_STARTS_AT, tz)
        ended = started + timedelta(minutes=round(hours * 60))
        next_start[key] = ended
        if len(next_start) > _REMEMBERED_DAYS:
            next_start.popitem(last=False)
        return ImportRow(
            row=number,
            started_at=started,
            ended_at=ended,
            description=notes(record) or task(record),
            user_email=address,
            user_name=person,
            project=project(record),
            contact=client(record),
            billable=cell_value(parse_bool, billable(record), "Billable?"),
            columns=COLUMNS,
        )

    return convert_rows(records, convert)
