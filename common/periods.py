"""Resolve Moneybird period values (``this_year``, ``202101..202103``) to date ranges.

Shaped like ``django/utils/dateparse.py``: compiled patterns, one function per concern, no Django.
``today`` is always passed in, so callers decide the time zone and tests need no clock freezing.
Every range is half-open, ``[start, end)``, which lets callers filter with ``>= start`` and
``< end`` on both dates and datetimes without off-by-one tricks.
"""

import datetime
import re

from common.limits import DAY_RANGE_MESSAGE, day_in_range

__all__ = ["NAMED_PERIODS", "PeriodError", "parse_day", "resolve_period"]

DateRange = tuple[datetime.date, datetime.date]

NAMED_PERIODS: tuple[str, ...] = tuple(
    f"{when}_{unit}"
    for unit in ("week", "month", "quarter", "year")
    for when in ("this", "prev", "next")
)

named_period_re = re.compile(r"(?P<when>this|prev|next)_(?P<unit>week|month|quarter|year)")
# [0-9] rather than \d: \d also matches non-ASCII digits, which int() would happily accept.
month_range_re = re.compile(
    r"(?P<start_year>[0-9]{4})(?P<start_month>[0-9]{2})"
    r"\.\.(?P<end_year>[0-9]{4})(?P<end_month>[0-9]{2})"
)
day_range_re = re.compile(r"(?P<start>[0-9]{8})\.\.(?P<end>[0-9]{8})")
# Either both dashes or none: "2021-0301" is not a format anybody means to write.
day_re = re.compile(r"(?P<year>[0-9]{4})(?P<sep>-?)(?P<month>[0-9]{2})(?P=sep)(?P<day>[0-9]{2})")

_OFFSETS = {"prev": -1, "this": 0, "next": 1}


class PeriodError(ValueError):
    """A period or day value that cannot be resolved; ``value`` is what the user wrote.

    ``kind`` ("period" or "day") only words the message, so a bad ``day:`` filter is not
    reported as a bad period.
    """

    def __init__(self, value: str, message: str, *, kind: str = "period") -> None:
        self.value = value
        self.message = message
        super().__init__(f"Invalid {kind} {value!r} ({message})")


def resolve_period(value: str, *, today: datetime.date) -> DateRange:
    """Return the half-open date range ``[start, end)`` that ``value`` denotes.

    Accept the names in NAMED_PERIODS (relative to ``today``), ``YYYYMM..YYYYMM`` (whole months,
    both inclusive) and ``YYYYMMDD..YYYYMMDD`` (both days inclusive).
    """
    try:
        if match := named_period_re.fullmatch(value):
            return _in_range(value, _named_range(match["unit"], _OFFSETS[match["when"]], today))
        if match := month_range_re.fullmatch(value):
            start = _date(value, int(match["start_year"]), int(match["start_month"]), 1)
            last = _date(value, int(match["end_year"]), int(match["end_month"]), 1)
            return _in_range(value, _ordered(value, start, _add_months(last, 1)))
        if match := day_range_re.fullmatch(value):
            start = _parse_compact_day(value, match["start"])
            last = _parse_compact_day(value, match["end"])
            _in_range(value, (start, last))
            return _ordered(value, start, last + datetime.timedelta(days=1))
    except PeriodError:
        raise
    except (ValueError, OverflowError):
        # The end of a range (or a shifted named period) fell beyond year 9999.
        raise PeriodError(value, "date out of range") from None
    raise PeriodError(
        value, "expected a named period such as this_month, YYYYMM..YYYYMM or YYYYMMDD..YYYYMMDD"
    )


def parse_day(value: str) -> datetime.date:
    """Parse a single day written as ``YYYY-MM-DD`` or ``YYYYMMDD``."""
    match = day_re.fullmatch(value)
    if not match:
        raise PeriodError(value, "expected a day as YYYY-MM-DD or YYYYMMDD", kind="day")
    day = _date(value, int(match["year"]), int(match["month"]), int(match["day"]), kind="day")
    if not day_in_range(day):
        raise PeriodError(value, f"date out of range ({DAY_RANGE_MESSAGE})", kind="day")
    return day


def _named_range(unit: str, offset: int, today: datetime.date) -> DateRange:
    """Return the ``unit`` containing ``today``, shifted by ``offset`` units."""
    if unit == "week":
        # ISO weeks start on Monday; weekday() is 0 for Monday.
        start = today - datetime.timedelta(days=today.weekday()) + datetime.timedelta(weeks=offset)
        return start, start + datetime.timedelta(weeks=1)
    if unit == "year":
        start = datetime.date(today.year + offset, 1, 1)
        return start, datetime.date(start.year + 1, 1, 1)
    months = 3 if unit == "quarter" else 1
    first_month = (today.month - 1) // months * months + 1
    start = _add_months(datetime.date(today.year, first_month, 1), offset * months)
    return start, _add_months(start, months)


def _add_months(first_of_month: datetime.date, months: int) -> datetime.date:
    """Return the first day of the month ``months`` away from ``first_of_month``."""
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _parse_compact_day(value: str, text: str) -> datetime.date:
    return _date(value, int(text[:4]), int(text[4:6]), int(text[6:]))


def _date(value: str, year: int, month: int, day: int, *, kind: str = "period") -> datetime.date:
    """Build a date, reporting an impossible one (month 13, 30 February) against ``value``."""
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:
        raise PeriodError(value, str(exc), kind=kind) from None


def _in_range(value: str, dates: DateRange) -> DateRange:
    """Refuse a range that reaches outside the days any time may lie on (common.limits); its
    end may be the exclusive day after the last."""
    start, end = dates
    last = end - datetime.timedelta(days=1) if end > start else end
    if not (day_in_range(start) and day_in_range(last)):
        raise PeriodError(value, f"date out of range ({DAY_RANGE_MESSAGE})")
    return dates


def _ordered(value: str, start: datetime.date, end: datetime.date) -> DateRange:
    if end <= start:
        raise PeriodError(value, "start is after end")
    return start, end
