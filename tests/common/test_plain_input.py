"""validate_input takes the values a field takes as they are without building the serializer
(common.api._plain_input): for every body of a grid of good and bad values, it answers what
the serializer answers, value for value and in the same key order, and leaves the rest, with
their error messages, to the serializer."""

import itertools
from zoneinfo import ZoneInfo

import pytest

from common.api import _plain_input, validate_input
from common.exceptions import ValidationFailed
from timeentries.api.expensicat import TimeEntryCreateInput, TimeEntryUpdateInput
from timeentries.api.moneybird import TimeEntryInput

CONTEXT = {"time_zone": ZoneInfo("Europe/Amsterdam")}
VALUES = {
    "time": [
        "2024-01-02T10:00:00Z",
        "2024-01-02 10:00:00 UTC",
        "2024-01-02T10:00:00",
        "1800-01-01T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "",
        5,
        None,
    ],
    "id": ["1", 1, "0012", "0", -1, "abc", True, 2**63, 1.5, None],
    "text": ["Design", " Design ", "", "   ", "é", "a\x00b", "\ud800", "x" * 2000, 5, True, None],
    "flag": [True, False, "true", 1, None],
    "number": [0, 60, -5, "60", True, 1.5, None],
}
KINDS = {
    "user_id": "id",
    "contact_id": "id",
    "project_id": "id",
    "sales_invoice_id": "id",
    "started_at": "time",
    "ended_at": "time",
    "start_time": "time",
    "end_time": "time",
    "description": "text",
    "billable": "flag",
    "paused_duration": "number",
}


def serializer_answer(serializer_class, data, partial):
    serializer = serializer_class(data=data, partial=partial, context=CONTEXT)
    if not serializer.is_valid():
        return None
    return {k: v for k, v in serializer.validated_data.items() if k in data}


def bodies(serializer_class):
    """Each field alone with each of its values, and all fields at once with the first good
    and the first bad value of each, in declared and reversed order."""
    names = list(serializer_class().fields)
    for name in names:
        for value in VALUES[KINDS[name]]:
            yield {name: value}
    for index in (0, -1):
        body = {name: VALUES[KINDS[name]][index] for name in names}
        yield body
        yield dict(reversed(body.items()))
    yield {}


@pytest.mark.parametrize(
    "serializer_class", [TimeEntryInput, TimeEntryCreateInput, TimeEntryUpdateInput]
)
def test_plain_values_are_taken_as_the_serializer_takes_them(serializer_class):
    taken = 0
    for data, partial in itertools.product(bodies(serializer_class), (False, True)):
        plain = _plain_input(serializer_class, data, partial=partial, context=CONTEXT)
        expected = serializer_answer(serializer_class, data, partial)
        if plain is not None:
            taken += 1
            assert expected is not None, data
            assert list(plain.items()) == list(expected.items()), data
        try:
            answer = validate_input(serializer_class, data, partial=partial, context=CONTEXT)
        except ValidationFailed:
            answer = None
        assert answer == expected, data
    # The plain path is the one good bodies take.
    assert taken >= 10
