"""Reading helpers shared by the source formats: durations, decimal hours, dates, 12- and
24-hour times, yes/no flags, and CSV cells by column name. Pure functions; each raises
ValueError with a message fit for the error report."""

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from operator import itemgetter

from timeentries.imports.rows import ImportRow, RowError, RowProblem

# "1:05:00" (h:mm:ss, hours may pass 24) and "1:05" (h:mm).
_CLOCK_DURATION = re.compile(r"(?P<h>[0-9]+):(?P<m>[0-5][0-9])(?::(?P<s>[0-5][0-9]))?")
# Decimal numbers with either separator and optional thousands grouping: 1.25, 1,25, 2.000,5.
_NUMBER = re.compile(r"[0-9][0-9.,]*|[.,][0-9]+")

_ISO_DATE = re.compile(r"(?P<y>[0-9]{4})[-/](?P<m>[0-9]{1,2})[-/](?P<d>[0-9]{1,2})")
# 03/01/2024: month first unless told otherwise (Clockify's and Harvest's documented default).
_SLASH_DATE = re.compile(r"(?P<a>[0-9]{1,2})/(?P<b>[0-9]{1,2})/(?P<y>[0-9]{4})")
# 01.03.2024 and 01-03-2024 are day first wherever they are written.
_DAY_FIRST_DATE = re.compile(r"(?P<d>[0-9]{1,2})[.-](?P<m>[0-9]{1,2})[.-](?P<y>[0-9]{4})")

_TIME_24 = re.compile(r"(?P<h>[0-9]{1,2}):(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2})(?:\.[0-9]+)?)?")
_TIME_12 = re.compile(
    r"(?P<h>[0-9]{1,2})(?::(?P<m>[0-9]{2}))?(?::(?P<s>[0-9]{2}))?\s*(?P<ap>[AaPp])\.?\s*[Mm]\.?"
)

_TRUE = frozenset({"yes", "y", "true", "1", "billable"})
_FALSE = frozenset({"no", "n", "false", "0", "non-billable", "non billable"})


def parse_hours(text: str) -> Decimal:
    """Decimal hours as tools write them: 1.25, 1,25, 2.000,5, 1,234.5. With both separators
    the last one is the decimal point; a lone one is always the decimal point (nobody books
    1,250 hours on one entry)."""
    value = text.strip().replace(" ", "").replace("\u00a0", "")
    if not _NUMBER.fullmatch(value):
        raise ValueError(f"{text!r} is not a number of hours")
    if "," in value and "." in value:
        decimal_sep = "," if value.rfind(",") > value.rfind(".") else "."
        value = value.replace("." if decimal_sep == "," else ",", "").replace(",", ".")
    elif value.count(",") == 1:
        value = value.replace(",", ".")
    elif value.count(",") > 1 or value.count(".") > 1:
        value = value.replace(",", "").replace(".", "")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number of hours") from None


def parse_duration(text: str) -> int:
    """Seconds from "1:05:00", "1:05" (hours and minutes) or decimal hours ("1.25", "1,25")."""
    value = text.strip()
    match = _CLOCK_DURATION.fullmatch(value)
    if match:
        return int(match["h"]) * 3600 + int(match["m"]) * 60 + int(match["s"] or 0)
    try:
        return round(parse_hours(value) * 3600)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a duration (expected h:mm:ss, h:mm or decimal hours)"
        ) from None


def parse_date(text: str, *, day_first: bool = False) -> date:
    """2024-03-01, 2024/03/01; 03/01/2024 month first (day first with `day_first`);
    01.03.2024 and 01-03-2024 day first."""
    value = text.strip()
    if len(value) == 10 and value[4] == "-":  # the usual case, parsed in C
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    try:
        if match := _ISO_DATE.fullmatch(value):
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        if match := _SLASH_DATE.fullmatch(value):
            a, b = int(match["a"]), int(match["b"])
            month, day = (b, a) if day_first else (a, b)
            return date(int(match["y"]), month, day)
        if match := _DAY_FIRST_DATE.fullmatch(value):
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        order = "D/M/YYYY" if day_first else "M/D/YYYY"
        raise ValueError(f"{text!r} is not a valid date (read as {order} or YYYY-MM-DD)") from None
    raise ValueError(f"{text!r} is not a date (expected YYYY-MM-DD, M/D/YYYY or D.M.YYYY)")


def parse_time(text: str) -> time:
    """13:30, 13:30:15 and 12-hour times: 1:30 PM, 1:30:15 pm, 1 PM, 12:00 AM (midnight)."""
    value = text.strip()
    if len(value) in (5, 8) and value[2] == ":":  # 13:30 and 13:30:00, parsed in C
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    try:
        if match := _TIME_12.fullmatch(value):
            hour = int(match["h"])
            if not 1 <= hour <= 12:
                raise ValueError
            hour = hour % 12 + (12 if match["ap"] in "Pp" else 0)
            return time(hour, int(match["m"] or 0), int(match["s"] or 0))
        if match := _TIME_24.fullmatch(value):
            return time(int(match["h"]), int(match["m"]), int(match["s"] or 0))
    except ValueError:
        pass
    raise ValueError(f"{text!r} is not a time (expected 13:30, 13:30:00 or 1:30 PM)")


def parse_bool(text: str, *, default: bool = True) -> bool:
    """Yes/No, true/false, 1/0; empty means `default` (the API's: billable)."""
    value = text.strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{text!r} is not yes or no")


def local_to_utc(day: date, clock: time, tz: tzinfo) -> datetime:
    """A wall-clock time in the administration's zone, as an aware UTC datetime."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def start_and_end(
    *,
    start_date: str,
    start_time: str,
    end_date: str,
    end_time: str,
    duration: str,
    tz: tzinfo,
    day_first: bool,
    columns: Mapping[str, str],
) -> tuple[datetime, datetime | None]:
    """The start and end of a row given as separate local date and time cells. Without an end
    the duration gives it; without either the entry has no end. An end time without an end date
    that is not after the start is on the next day."""
    day = cell_value(parse_date, start_date, columns["start_date"], day_first=day_first)
    started = local_to_utc(day, cell_value(parse_time, start_time, columns["start_time"]), tz)
    if end_time.strip():
        clock = cell_value(parse_time, end_time, columns["end_time"])
        end_day = (
            cell_value(parse_date, end_date, columns["end_date"], day_first=day_first)
            if end_date.strip()
            else day
        )
        ended = local_to_utc(end_day, clock, tz)
        if not end_date.strip() and ended <= started:
            ended = local_to_utc(end_day + timedelta(days=1), clock, tz)
        return started, ended
    if duration.strip():
        seconds = cell_value(parse_duration, duration, columns["duration"])
        return started, started + timedelta(seconds=seconds)
    return started, None


def cell_value(parse: Callable, text: str, column: str, **kwargs):
    """parse(text), with a ValueError turned into the RowProblem of `column`."""
    try:
        return parse(text, **kwargs)
    except ValueError as exc:
        raise RowProblem(column, str(exc)) from None


def _blank(record: list[str]) -> str:
    return ""


class Header:
    """A CSV header: cells by column name, matched without regard to case or surrounding
    spaces; a column the file lacks reads as "". Getters expect records as `records` gives
    them: cells stripped, and as many as the header has."""

    def __init__(self, names: list[str]):
        self.names = [name.strip() for name in names]
        self.index: dict[str, int] = {}
        for position, name in enumerate(self.names):
            self.index.setdefault(name.lower(), position)

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.index

    def missing(self, required: Iterable[str]) -> list[str]:
        return [name for name in required if name not in self]

    def getter(self, name: str) -> Callable[[list[str]], str]:
        position = self.index.get(name.lower())
        return _blank if position is None else itemgetter(position)

    def records(self, reader: Iterable[list[str]]) -> Iterator[tuple[int, list[str]]]:
        """(spreadsheet row number, stripped cells) for each row that is not blank; the
        header is row 1. Short rows are padded, so every getter finds its cell."""
        width = len(self.names)
        for number, record in enumerate(reader, start=2):
            if not any(record):
                continue
            cells = [cell.strip() for cell in record]
            if len(cells) < width:
                cells.extend([""] * (width - len(cells)))
            yield number, cells


Records = Iterable[tuple[int, list[str]]]


def convert_rows(
    records: Records, convert: Callable[[int, list[str]], ImportRow]
) -> Iterator[ImportRow | RowError]:
    """Run `convert` over each (row number, cells); a RowProblem becomes a RowError."""
    for number, record in records:
        try:
            yield convert(number, record)
        except RowProblem as problem:
            yield RowError(number, problem.column, problem.reason)


def parse_detailed_report(
    header: Header,
    records: Records,
    *,
    columns: dict[str, str],
    tz: tzinfo,
    day_first: bool = False,
    fallback_duration: str | None = None,
):
    """Toggl's and Clockify's detailed reports: the same layout under other column names (see
    each module's COLUMNS); `fallback_duration` is a column read when the duration is empty."""
    col = {name: header.getter(column) for name, column in columns.items()}
    name, task = header.getter("User"), header.getter("Task")
    fallback = header.getter(fallback_duration) if fallback_duration else (lambda record: "")

    def convert(number: int, record: list[str]) -> ImportRow:
        started, ended = start_and_end(
            start_date=col["start_date"](record),
            start_time=col["start_time"](record),
            end_date=col["end_date"](record),
            end_time=col["end_time"](record),
            duration=col["duration"](record) or fallback(record),
            tz=tz,
            day_first=day_first,
            columns=columns,
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
            billable=cell_value(parse_bool, col["billable"](record), columns["billable"]),
            columns=columns,
        )

    return convert_rows(records, convert)
