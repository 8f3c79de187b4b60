"""Our own CSV, as export_time_entries writes it.

Columns: id, user_email, started_at, ended_at, paused_duration, description, project, contact,
billable. Times ISO 8601 (a time without an offset is in the administration's time zone),
paused_duration in seconds, billable true/false. `id` keys the row, so re-importing an export
adds nothing.
"""

from datetime import tzinfo

from common.timefmt import parse_datetime
from timeentries.imports.reading import Header, Records, cell_value, convert_rows, parse_bool
from timeentries.imports.rows import ImportRow, RowProblem

NAME = "csv"
SOURCE = "uurwerk"
FIELDS = (
    "id",
    "user_email",
    "started_at",
    "ended_at",
    "paused_duration",
    "description",
    "project",
    "contact",
    "billable",
)
REQUIRED = ("user_email", "started_at", "ended_at", "description")

COLUMNS = {
    "user": "user_email",
    "description": "description",
    "started_at": "started_at",
    "ended_at": "ended_at",
    "paused_duration": "paused_duration",
    "project": "project",
    "contact": "contact",
    "billable": "billable",
    "base": "started_at",
}


def matches(header: Header) -> bool:
    return not header.missing(REQUIRED)


def parse(header: Header, records: Records, *, tz: tzinfo, day_first: bool = False):
    col = {name: header.getter(name) for name in FIELDS}

    def moment(record: list[str], name: str):
        text = col[name](record)
        if not text:
            return None
        try:
            return parse_datetime(text, default_tz=tz)
        except ValueError:
            raise RowProblem(name, f"{text!r} is not an ISO 8601 time") from None

    def convert(number: int, record: list[str]) -> ImportRow:
        pause = col["paused_duration"](record) or "0"
        if not (pause.isascii() and pause.isdigit()):
            raise RowProblem("paused_duration", f"{pause!r} is not a number of seconds")
        return ImportRow(
            row=number,
            started_at=moment(record, "started_at"),
            ended_at=moment(record, "ended_at"),
            description=col["description"](record),
            user_email=col["user_email"](record).lower(),
            paused_duration=int(pause),
            project=col["project"](record),
            contact=col["contact"](record),
            billable=cell_value(parse_bool, col["billable"](record), "billable"),
            source_id=col["id"](record),
            columns=COLUMNS,
        )

    return convert_rows(records, convert)
