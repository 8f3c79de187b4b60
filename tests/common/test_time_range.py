"""The time range of README "Limits": times only in 1900-01-01T00:00:00Z..2999-12-31T23:59:59Z
(a 422 on the field outside it, in both dialects and in the services), filter days only in
1900-01-01..2999-12-31 (a 400), and every timestamp rendered with a four-digit year. The
three 500s issue 10 found at the edges of datetime's years are among the cases."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from common.exceptions import ValidationFailed
from common.limits import TIME_RANGE_MESSAGE
from common.periods import PeriodError, parse_day, resolve_period
from common.timefmt import iso_local, iso_utc, iso_utc_seconds
from notes.models import Event
from tests.expensicat_support import assert_error, ec_api
from tests.timeentries.moneybird_support import make_entry, unprocessable
from timeentries.models import TimeEntry
from timeentries.services import time_entry_create

OUT_OF_RANGE = ("out_of_range", TIME_RANGE_MESSAGE)


def snapshot():
    return sorted(
        TimeEntry.objects.values_list("pk", "started_at", "ended_at")
    ), Event.objects.count()


# --- filters: a 400, never an OverflowError ------------------------------------------------------


@pytest.mark.parametrize(
    "term",
    [
        "day:0001-01-01",  # issue 10: local midnight of year 1 lies before the earliest UTC time
        "period:00010101..00010102",
        "period:000101..000102",
        "day:1899-12-31",
        "day:3000-01-01",
        "period:18991231..19000101",
        "period:299912..300001",
        "day:9999-12-31",
    ],
)
def test_a_filter_day_outside_the_range_is_a_400(api, term):
    response = api.get("time_entries", {"filter": term})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["symbolic"] == {"filter": "invalid"}
    assert "out of range" in body["error"]


@pytest.mark.parametrize(
    "term",
    ["day:1900-01-01", "day:2999-12-31", "period:19000101..19000131", "period:299912..299912"],
)
def test_the_range_s_first_and_last_days_filter(api, administration, owner, term):
    response = api.get("time_entries", {"filter": term})
    assert response.status_code == 200, response.content
    assert response.json() == []


def test_the_period_resolver_refuses_days_outside_the_range():
    today = datetime(2026, 1, 1).date()
    with pytest.raises(PeriodError):
        resolve_period("00010101..00010102", today=today)
    with pytest.raises(PeriodError):
        parse_day("1899-12-31")
    start, end = resolve_period("299912..299912", today=today)
    assert (start.isoformat(), end.isoformat()) == ("2999-12-01", "3000-01-01")


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "3000-01-01", "9999-12-31"])
@pytest.mark.parametrize("param", ["start_date", "end_date"])
def test_expensicat_dates_outside_the_range_are_a_400(owner, param, day):
    assert_error(ec_api(owner).get("time-entries", {param: day}), 400, "BAD_REQUEST", field=param)


def test_expensicat_takes_the_range_s_first_and_last_day(owner):
    response = ec_api(owner).get(
        "time-entries", {"start_date": "1900-01-01", "end_date": "2999-12-31"}
    )
    assert response.status_code == 200, response.content


# --- writes: a 422 on the field -------------------------------------------------------------------


def moneybird_body(started: str, ended: str | None = None) -> dict:
    body = {"started_at": started, "description": "Edge"}
    if ended is not None:
        body["ended_at"] = ended
    return {"time_entry": body}


@pytest.mark.parametrize(
    ("started", "ended", "field"),
    [
        ("1899-12-31T23:59:59Z", "1900-01-01T01:00:00Z", "started_at"),
        ("3000-01-01T00:00:00Z", None, "started_at"),
        # issue 10: a timer at datetime's last second locked its person out of timers
        ("9999-12-31T23:59:59Z", None, "started_at"),
        ("0001-01-01T00:00:00Z", None, "started_at"),
        ("2999-12-31T22:00:00Z", "3000-01-01T00:00:00Z", "ended_at"),
        # without an offset: in the administration's time zone (Amsterdam, LMT +00:19:32)
        ("1900-01-01 00:10:00", "1900-01-01 02:00:00", "started_at"),
    ],
)
def test_moneybird_refuses_a_time_outside_the_range(api, started, ended, field):
    before = snapshot()
    response = api.post("time_entries", moneybird_body(started, ended))
    assert response.status_code == 422, response.content
    assert response.json() == unprocessable(**{field: OUT_OF_RANGE})
    assert snapshot() == before


def test_moneybird_update_refuses_a_time_outside_the_range(api, administration, owner):
    entry = make_entry(administration, owner, datetime(2026, 3, 2, 9, tzinfo=UTC))
    before = snapshot()
    response = api.patch(
        f"time_entries/{entry.pk}", {"time_entry": {"started_at": "1899-12-31T23:00:00Z"}}
    )
    assert response.status_code == 422, response.content
    assert response.json() == unprocessable(started_at=OUT_OF_RANGE)
    assert snapshot() == before


def test_the_range_s_first_instant_is_accepted(api):
    response = api.post(
        "time_entries", moneybird_body("1900-01-01T00:00:00Z", "1900-01-01T01:00:00Z")
    )
    assert response.status_code == 201, response.content
    assert response.json()["started_at"] == "1900-01-01T00:00:00.000Z"
    assert response.json()["ended_at"] == "1900-01-01T01:00:00.000Z"


def test_a_timer_at_the_range_s_last_second_keeps_its_person_working(api):
    """Issue 10's second 500: started at the last representable second, the timer's stop, the
    next timer and any change of it overflowed. At the range's last second all of it works."""
    response = api.post("time_entries", moneybird_body("2999-12-31T23:59:59Z"))
    assert response.status_code == 201, response.content
    last = response.json()
    assert last["started_at"] == "2999-12-31T23:59:00.000Z"
    assert last["ended_at"] is None

    # Another timer stops it (a minute past the range's end: stopping isn't input).
    response = api.post("time_entries", moneybird_body("2026-03-02T09:00:00Z"))
    assert response.status_code == 201, response.content
    following = response.json()["id"]
    response = api.get(f"time_entries/{last['id']}")
    assert response.json()["ended_at"] == "3000-01-01T00:00:00.000Z"
    response = api.patch(f"time_entries/{following}/stop")
    assert response.status_code == 200, response.content
    assert response.json()["ended_at"] is not None

    response = api.patch(f"time_entries/{last['id']}", {"time_entry": {"description": "Later"}})
    assert response.status_code == 200, response.content
    events = response.json()["events"]
    assert events[-1]["data"]["description"] == ["Edge", "Later"]
    assert api.delete(f"time_entries/{last['id']}").status_code == 204


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start_time": "1899-12-31T23:59:59Z", "end_time": "1900-01-01T01:00:00Z"}, "start_time"),
        ({"start_time": "9999-12-31T23:59:59Z"}, "start_time"),
        ({"start_time": "2999-12-31T22:00:00Z", "end_time": "3000-01-01T00:00:00Z"}, "end_time"),
    ],
)
def test_expensicat_refuses_a_time_outside_the_range(owner, body, field):
    ec = ec_api(owner)
    before = snapshot()
    response = ec.post("time-entries", {**body, "description": "Edge"})
    error = assert_error(response, 422, "VALIDATION_ERROR", field=field)
    assert error["details"] == {field: [TIME_RANGE_MESSAGE]}
    assert snapshot() == before


def test_expensicat_update_refuses_a_time_outside_the_range(owner, administration):
    entry = make_entry(administration, owner, datetime(2026, 3, 2, 9, tzinfo=UTC))
    ec = ec_api(owner)
    before = snapshot()
    response = ec.patch(f"time-entries/{entry.pk}", {"end_time": "3000-01-01T00:00:00Z"})
    assert_error(response, 422, "VALIDATION_ERROR", field="end_time")
    assert snapshot() == before


def test_expensicat_takes_the_range_s_edges(owner):
    ec = ec_api(owner)
    response = ec.post(
        "time-entries",
        {
            "start_time": "1900-01-01T00:00:00Z",
            "end_time": "1900-01-01T01:00:00Z",
            "description": "a",
        },
    )
    assert response.status_code == 201, response.content
    response = ec.post("time-entries", {"start_time": "2999-12-31T23:59:59Z", "description": "b"})
    assert response.status_code == 201, response.content
    assert response.json()["data"]["start_time"] == "2999-12-31T23:59:00.000Z"


def test_the_service_refuses_it_for_the_admin_and_commands(administration, owner):
    with pytest.raises(ValidationFailed) as refused:
        time_entry_create(
            administration=administration,
            actor=owner,
            started_at=datetime(1899, 12, 31, 23, tzinfo=UTC),
            ended_at=datetime(1900, 1, 1, 1, tzinfo=UTC),
            description="Old",
        )
    assert [e.code for e in refused.value.errors["started_at"]] == ["out_of_range"]
    assert not TimeEntry.objects.exists()


# --- rendering: four digits, always --------------------------------------------------------------


def test_every_year_renders_with_four_digits():
    """Issue 10's third: strftime("%Y") rendered year 72 as "72"."""
    early = datetime(72, 5, 13, 10, 50, tzinfo=UTC)
    assert iso_utc(early) == "0072-05-13T10:50:00.000Z"
    assert iso_utc(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00.000Z"
    assert iso_utc_seconds(early) == "0072-05-13T10:50:00Z"
    assert iso_local(early + timedelta(milliseconds=5), ZoneInfo("UTC")) == (
        "0072-05-13T10:50:00.005+00:00"
    )
    for text in (iso_utc(early), iso_local(early, ZoneInfo("Europe/Amsterdam"))):
        assert datetime.fromisoformat(text.replace("Z", "+00:00")) == early
    assert iso_utc(datetime(2021, 1, 8, 10, tzinfo=UTC)) == "2021-01-08T10:00:00.000Z"


def test_an_offset_of_whole_seconds_renders_readably():
    """Amsterdam kept local mean time (+00:19:32) until 1937: "%z" wrote it "+00:1932"."""
    first = datetime(1900, 1, 1, tzinfo=UTC)
    rendered = iso_local(first, ZoneInfo("Europe/Amsterdam"))
    assert rendered == "1900-01-01T00:19:32.000+00:19:32"
    assert datetime.fromisoformat(rendered) == first
