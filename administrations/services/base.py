"""Helpers the administrations services share."""

from common.exceptions import ValidationFailed


def _blank(field: str) -> ValidationFailed:
    return ValidationFailed.single(field, "blank", "can't be blank")
