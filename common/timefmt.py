"""How times cross the API boundary: parsing what clients send, rendering what we answer."""

import re
from datetime import UTC, datetime, timedelta, tzinfo

# Moneybird's documents show "2021-01-08 10:00:00 UTC"; clients also send ISO 8601.
_UTC_SUFFIX = re.compile(r"\s*(?:UTC|GMT|Z)$", re.IGNORECASE)


def parse_datetime(value: str, *, default_tz: tzinfo) -> datetime:
    """Parse ISO 8601 (any offset) or "YYYY-MM-DD HH:MM:SS UTC"; a time without an offset is in
    the administration's time zone, as Moneybird reads it. Raises ValueError."""
    text = value.strip()
    match = _UTC_SUFFIX.search(text)
    if match:
        text = text[: match.start()] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed.astimezone(UTC)


def from_db(value: str | datetime) -> datetime:
    """A timestamp out of a JSON aggregate: PostgreSQL writes ISO with an offset, SQLite a naive
    UTC string."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# A timestamp as PostgreSQL writes one into JSON in a UTC session: fractional seconds with
# their trailing zeros left out, or none at all.
_UTC_TEXT = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00:00")


def iso_utc_from_db(value: str | datetime) -> str | None:
    """iso_utc(from_db(value)) for a timestamp out of a JSON aggregate; PostgreSQL's text of a
    UTC time is rewritten as it is, without making a datetime of it (an entry's answer renders
    two of these per event)."""
    if isinstance(value, str):
        match = _UTC_TEXT.fullmatch(value)
        if match:
            return f"{match[1]}.{(match[2] or '').ljust(3, '0')[:3]}Z"
    return iso_utc(from_db(value))


def _date_and_time(value: datetime) -> str:
    # Not strftime("%Y"): glibc's leaves years before 1000 unpadded ("72-05-13"), which
    # fromisoformat and Moneybird's clients refuse. Every timestamp renders through here.
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}"
    )


def iso_utc(value: datetime | None) -> str | None:
    """2021-01-08T10:00:00.000Z, Moneybird's rendering of a timestamp."""
    if value is None:
        return None
    return _date_and_time(value.astimezone(UTC)) + "Z"


def iso_utc_seconds(value: datetime | None) -> str:
    """2021-01-08T10:00:00Z: a timestamp in our CSV export; "" for none."""
    if value is None:
        return ""
    return _date_and_time(value.astimezone(UTC))[:19] + "Z"


def iso_local(value: datetime | None, tz: tzinfo) -> str | None:
    """2021-01-08T11:00:00.000+01:00: how Moneybird renders times inside event data."""
    if value is None:
        return None
    # isoformat pads the year, and writes an offset of whole seconds (local mean time, as
    # Amsterdam's before 1937) as +00:19:32, which fromisoformat reads back, not "+00:1932".
    return value.astimezone(tz).isoformat(timespec="milliseconds")


def floor_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


ONE_MINUTE = timedelta(minutes=1)
