"""The bounds on what a client may send, in one place: the services enforce them (so the admin
and commands obey them too), the serializers declare them (so the OpenAPI shows them) and the
README lists them."""

from datetime import UTC, date, datetime

# Longer texts are pasted logs or abuse, not a description of work; every list page that holds
# one would carry it.
DESCRIPTION_MAX_LENGTH = 10_000

# A request body beyond this is refused with 413 before it is read or parsed
# (common.middleware.RequestBodyLimitMiddleware). The largest legitimate body, a contacts
# synchronization's id list, stays far below it.
REQUEST_BODY_MAX_BYTES = 1024 * 1024


def too_long_message(limit: int) -> str:
    """The message of every "too long" field error (Rails' wording, as Moneybird answers)."""
    return f"is too long (maximum is {limit} characters)"


# Every time a client, the admin or an import gives lies in this range (UTC), every day a filter
# names in EARLIEST_DAY..LATEST_DAY. Far enough inside datetime's years 1..9999 that a local
# midnight, a stopped timer's minute or an event's local rendering can never leave them, and
# every year renders with four digits.
EARLIEST_TIME = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
EARLIEST_DAY = EARLIEST_TIME.date()
LATEST_DAY = LATEST_TIME.date()
TIME_RANGE_MESSAGE = "must be between 1900-01-01T00:00:00Z and 2999-12-31T23:59:59Z"
DAY_RANGE_MESSAGE = "must be between 1900-01-01 and 2999-12-31"


def time_in_range(value: datetime) -> bool:
    return EARLIEST_TIME <= value <= LATEST_TIME


def day_in_range(value: date) -> bool:
    return EARLIEST_DAY <= value <= LATEST_DAY
