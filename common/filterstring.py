"""Parse Moneybird's filter string: ``key:value,key2:alt1|alt2``.

Only the grammar lives here. Which keys exist and what their values mean is the caller's business
(each resource's FilterSet), so this module stays pure and reusable by both API dialects.
"""

import re

__all__ = ["FilterSyntaxError", "parse_filter"]

TERM_SEPARATOR = ","
ALTERNATIVE_SEPARATOR = "|"

key_re = re.compile(r"[a-z][a-z0-9_]*")


class FilterSyntaxError(ValueError):
    """A filter string term that does not follow the grammar.

    ``term`` is the offending term as the user wrote it (stripped), so an API error can point at
    exactly the part of the query that was wrong.
    """

    def __init__(self, term: str, message: str) -> None:
        self.term = term
        self.message = message
        super().__init__(f"Invalid filter term {term!r} ({message})")


def parse_filter(text: str) -> dict[str, list[str]]:
    """Parse a filter string into ``{key: [alternative, ...]}``, keeping the written order.

    An empty (or blank) string means "no filter" and yields ``{}``. Raise FilterSyntaxError for
    the first term that is malformed.
    """
    if not text.strip():
        return {}
    result: dict[str, list[str]] = {}
    for raw_term in text.split(TERM_SEPARATOR):
        term = raw_term.strip()
        key, values = _parse_term(term)
        if key in result:
            raise FilterSyntaxError(term, f"key {key!r} is given more than once")
        result[key] = values
    return result


def _parse_term(term: str) -> tuple[str, list[str]]:
    """Split one ``key:value|value`` term; only the first colon separates key from value."""
    if not term:
        raise FilterSyntaxError(term, "empty term")
    key, colon, value = term.partition(":")
    if not colon:
        raise FilterSyntaxError(term, "expected key:value")
    key = key.strip()
    if not key:
        raise FilterSyntaxError(term, "empty key")
    if not key_re.fullmatch(key):
        raise FilterSyntaxError(
            term, "key must be lower-case letters, digits and underscores, starting with a letter"
        )
    if not value.strip():
        raise FilterSyntaxError(term, "empty value")
    alternatives = [alternative.strip() for alternative in value.split(ALTERNATIVE_SEPARATOR)]
    if not all(alternatives):
        raise FilterSyntaxError(term, "empty alternative")
    return key, alternatives
