"""Helpers the administrations services share."""

from datetime import date
from decimal import Decimal
from typing import Any

from common.exceptions import ValidationFailed


def _blank(field: str) -> ValidationFailed:
    return ValidationFailed.single(field, "blank", "can't be blank")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int) and value > 2**53:
        return str(value)  # ids: strings, as the API renders them
    return value
