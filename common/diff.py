"""The one "compare old and new, record [old, new], set" step of every update service: its
result is the `data` of the update's audit event and tells the service what to save."""

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

# Past JavaScript's exact integers: such a number in an event is an id, rendered as the APIs do.
_JS_SAFE_INTEGER = 2**53


def plain(value: Any) -> Any:
    """A value as an event's JSON keeps it: decimals and dates as strings, ids as strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and value > _JS_SAFE_INTEGER:
        return str(value)
    return value


def apply_diff(
    record: object, values: Mapping[str, Any], *, render: Callable[[Any], Any] = plain
) -> dict[str, list[Any]]:
    """Set on `record` each attribute of `values` that differs from its current value, and
    return those as {attribute: [old, new]}, both passed through `render`. Unchanged
    attributes are neither set nor listed: an empty result means there is nothing to save."""
    diff: dict[str, list[Any]] = {}
    for field, value in values.items():
        old = getattr(record, field)
        if old != value:
            setattr(record, field, value)
            diff[field] = [render(old), render(value)]
    return diff
