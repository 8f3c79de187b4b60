"""iso_utc_from_db rewrites PostgreSQL's JSON text of a UTC time as iso_utc(from_db(...)) renders
it, and leaves every other form to them."""

from datetime import UTC, datetime

import pytest

from common.timefmt import from_db, iso_utc, iso_utc_from_db


@pytest.mark.parametrize(
    "value",
    [
        # As PostgreSQL writes them into JSON: trailing zeros of the fraction left out.
        "2026-12-06T07:55:56.104685+00:00",
        "2026-12-06T07:55:56.1+00:00",
        "2026-12-06T07:55:56+00:00",
        "2026-12-06T07:55:56.00045+00:00",
        "0072-05-13T01:02:03.999999+00:00",
        # Not PostgreSQL's UTC text: through from_db.
        "2026-12-06 07:55:56.104685",
        "2026-12-06T08:55:56.104685+01:00",
        datetime(2026, 12, 6, 7, 55, 56, 104685, tzinfo=UTC),
    ],
)
def test_as_iso_utc_renders_it(value):
    assert iso_utc_from_db(value) == iso_utc(from_db(value))
