import datetime

import pytest

from common.periods import NAMED_PERIODS, PeriodError, parse_day, resolve_period

D = datetime.date

# (today, period, [start, end)), worked out by hand from a calendar.
NAMED_CASES = [
    # Monday 1 January 2024: the previous week, month, quarter and year are all in 2023.
    (D(2024, 1, 1), "this_week", (D(2024, 1, 1), D(2024, 1, 8))),
    (D(2024, 1, 1), "prev_week", (D(2023, 12, 25), D(2024, 1, 1))),
    (D(2024, 1, 1), "next_week", (D(2024, 1, 8), D(2024, 1, 15))),
    (D(2024, 1, 1), "this_month", (D(2024, 1, 1), D(2024, 2, 1))),
    (D(2024, 1, 1), "prev_month", (D(2023, 12, 1), D(2024, 1, 1))),
    (D(2024, 1, 1), "next_month", (D(2024, 2, 1), D(2024, 3, 1))),
    (D(2024, 1, 1), "this_quarter", (D(2024, 1, 1), D(2024, 4, 1))),
    (D(2024, 1, 1), "prev_quarter", (D(2023, 10, 1), D(2024, 1, 1))),
    (D(2024, 1, 1), "next_quarter", (D(2024, 4, 1), D(2024, 7, 1))),
    (D(2024, 1, 1), "this_year", (D(2024, 1, 1), D(2025, 1, 1))),
    (D(2024, 1, 1), "prev_year", (D(2023, 1, 1), D(2024, 1, 1))),
    (D(2024, 1, 1), "next_year", (D(2025, 1, 1), D(2026, 1, 1))),
    # Tuesday 31 December 2024: this week already runs into 2025.
    (D(2024, 12, 31), "this_week", (D(2024, 12, 30), D(2025, 1, 6))),
    (D(2024, 12, 31), "prev_week", (D(2024, 12, 23), D(2024, 12, 30))),
    (D(2024, 12, 31), "next_week", (D(2025, 1, 6), D(2025, 1, 13))),
    (D(2024, 12, 31), "this_month", (D(2024, 12, 1), D(2025, 1, 1))),
    (D(2024, 12, 31), "prev_month", (D(2024, 11, 1), D(2024, 12, 1))),
    (D(2024, 12, 31), "next_month", (D(2025, 1, 1), D(2025, 2, 1))),
    (D(2024, 12, 31), "this_quarter", (D(2024, 10, 1), D(2025, 1, 1))),
    (D(2024, 12, 31), "prev_quarter", (D(2024, 7, 1), D(2024, 10, 1))),
    (D(2024, 12, 31), "next_quarter", (D(2025, 1, 1), D(2025, 4, 1))),
    (D(2024, 12, 31), "this_year", (D(2024, 1, 1), D(2025, 1, 1))),
    (D(2024, 12, 31), "prev_year", (D(2023, 1, 1), D(2024, 1, 1))),
    (D(2024, 12, 31), "next_year", (D(2025, 1, 1), D(2026, 1, 1))),
    # Thursday 29 February 2024, a leap day.
    (D(2024, 2, 29), "this_week", (D(2024, 2, 26), D(2024, 3, 4))),
    (D(2024, 2, 29), "prev_week", (D(2024, 2, 19), D(2024, 2, 26))),
    (D(2024, 2, 29), "next_week", (D(2024, 3, 4), D(2024, 3, 11))),
    (D(2024, 2, 29), "this_month", (D(2024, 2, 1), D(2024, 3, 1))),
    (D(2024, 2, 29), "prev_month", (D(2024, 1, 1), D(2024, 2, 1))),
    (D(2024, 2, 29), "next_month", (D(2024, 3, 1), D(2024, 4, 1))),
    (D(2024, 2, 29), "this_quarter", (D(2024, 1, 1), D(2024, 4, 1))),
    (D(2024, 2, 29), "prev_quarter", (D(2023, 10, 1), D(2024, 1, 1))),
    (D(2024, 2, 29), "next_quarter", (D(2024, 4, 1), D(2024, 7, 1))),
    (D(2024, 2, 29), "this_year", (D(2024, 1, 1), D(2025, 1, 1))),
    (D(2024, 2, 29), "prev_year", (D(2023, 1, 1), D(2024, 1, 1))),
    (D(2024, 2, 29), "next_year", (D(2025, 1, 1), D(2026, 1, 1))),
    # Sunday 18 August 2024, the last day of its ISO week, in the middle of Q3.
    (D(2024, 8, 18), "this_week", (D(2024, 8, 12), D(2024, 8, 19))),
    (D(2024, 8, 18), "prev_week", (D(2024, 8, 5), D(2024, 8, 12))),
    (D(2024, 8, 18), "next_week", (D(2024, 8, 19), D(2024, 8, 26))),
    (D(2024, 8, 18), "this_month", (D(2024, 8, 1), D(2024, 9, 1))),
    (D(2024, 8, 18), "prev_month", (D(2024, 7, 1), D(2024, 8, 1))),
    (D(2024, 8, 18), "next_month", (D(2024, 9, 1), D(2024, 10, 1))),
    (D(2024, 8, 18), "this_quarter", (D(2024, 7, 1), D(2024, 10, 1))),
    (D(2024, 8, 18), "prev_quarter", (D(2024, 4, 1), D(2024, 7, 1))),
    (D(2024, 8, 18), "next_quarter", (D(2024, 10, 1), D(2025, 1, 1))),
    (D(2024, 8, 18), "this_year", (D(2024, 1, 1), D(2025, 1, 1))),
    (D(2024, 8, 18), "prev_year", (D(2023, 1, 1), D(2024, 1, 1))),
    (D(2024, 8, 18), "next_year", (D(2025, 1, 1), D(2026, 1, 1))),
    # Sunday 3 January 2021 belongs to ISO week 53 of 2020.
    (D(2021, 1, 3), "this_week", (D(2020, 12, 28), D(2021, 1, 4))),
    (D(2021, 1, 3), "next_week", (D(2021, 1, 4), D(2021, 1, 11))),
    # Sunday 31 March 2024, the last day of Q1, and Monday 1 April, the first of Q2.
    (D(2024, 3, 31), "this_week", (D(2024, 3, 25), D(2024, 4, 1))),
    (D(2024, 3, 31), "this_quarter", (D(2024, 1, 1), D(2024, 4, 1))),
    (D(2024, 3, 31), "next_quarter", (D(2024, 4, 1), D(2024, 7, 1))),
    (D(2024, 4, 1), "this_quarter", (D(2024, 4, 1), D(2024, 7, 1))),
    (D(2024, 4, 1), "prev_quarter", (D(2024, 1, 1), D(2024, 4, 1))),
    (D(2024, 4, 1), "prev_week", (D(2024, 3, 25), D(2024, 4, 1))),
    # February in a common year, and a week spanning the leap day.
    (D(2023, 3, 1), "prev_month", (D(2023, 2, 1), D(2023, 3, 1))),
    (D(2023, 2, 28), "this_month", (D(2023, 2, 1), D(2023, 3, 1))),
    (D(2024, 3, 3), "this_week", (D(2024, 2, 26), D(2024, 3, 4))),
    (D(2024, 11, 30), "next_quarter", (D(2025, 1, 1), D(2025, 4, 1))),
    (D(2024, 11, 30), "prev_quarter", (D(2024, 7, 1), D(2024, 10, 1))),
]


@pytest.mark.parametrize(("today", "period", "expected"), NAMED_CASES)
def test_resolve_named_period(
    today: datetime.date, period: str, expected: tuple[datetime.date, datetime.date]
) -> None:
    assert resolve_period(period, today=today) == expected


def test_named_periods_lists_every_name_and_all_are_tested() -> None:
    assert set(NAMED_PERIODS) == {
        f"{when}_{unit}"
        for when in ("this", "prev", "next")
        for unit in ("week", "month", "quarter", "year")
    }
    assert len(NAMED_PERIODS) == 12
    assert {period for _, period, _ in NAMED_CASES} == set(NAMED_PERIODS)


@pytest.mark.parametrize("period", NAMED_PERIODS)
@pytest.mark.parametrize(
    "today", [D(2024, 1, 1), D(2024, 2, 29), D(2024, 12, 31), D(2023, 7, 16), D(2025, 6, 1)]
)
def test_named_period_is_well_formed(period: str, today: datetime.date) -> None:
    start, end = resolve_period(period, today=today)
    unit = period.split("_")[1]

    if unit == "week":
        assert start.weekday() == 0
        assert end - start == datetime.timedelta(weeks=1)
    else:
        assert start.day == 1
        assert end.day == 1
    if period.startswith("this_"):
        assert start <= today < end
    elif period.startswith("prev_"):
        assert end <= today
        assert resolve_period(f"this_{unit}", today=today)[0] == end
    else:
        assert start > today
        assert resolve_period(f"this_{unit}", today=today)[1] == start


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("202101..202103", (D(2021, 1, 1), D(2021, 4, 1))),
        ("202101..202101", (D(2021, 1, 1), D(2021, 2, 1))),
        ("202112..202112", (D(2021, 12, 1), D(2022, 1, 1))),
        ("202111..202202", (D(2021, 11, 1), D(2022, 3, 1))),
        ("202402..202402", (D(2024, 2, 1), D(2024, 3, 1))),
        ("20210101..20210131", (D(2021, 1, 1), D(2021, 2, 1))),
        ("20210115..20210115", (D(2021, 1, 15), D(2021, 1, 16))),
        ("20240228..20240229", (D(2024, 2, 28), D(2024, 3, 1))),
        ("20231231..20240101", (D(2023, 12, 31), D(2024, 1, 2))),
        ("20211231..20211231", (D(2021, 12, 31), D(2022, 1, 1))),
    ],
)
def test_resolve_custom_period(period: str, expected: tuple[datetime.date, datetime.date]) -> None:
    # Custom ranges do not depend on today.
    assert resolve_period(period, today=D(2030, 6, 15)) == expected


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("", "expected a named period"),
        ("this_decade", "expected a named period"),
        ("This_year", "expected a named period"),
        ("this_year ", "expected a named period"),
        ("last_year", "expected a named period"),
        ("this_week,this_year", "expected a named period"),
        ("2021", "expected a named period"),
        ("202101", "expected a named period"),
        ("20210101", "expected a named period"),
        ("2021..2022", "expected a named period"),
        ("202101..", "expected a named period"),
        ("..202101", "expected a named period"),
        ("202101...202103", "expected a named period"),
        ("202101-202103", "expected a named period"),
        ("2021-01..2021-03", "expected a named period"),
        ("202101..20210301", "expected a named period"),
        ("20210101..202103", "expected a named period"),
        ("\u0662\u0660\u0662\u0661\u0660\u0661..\u0662\u0660\u0662\u0661\u0660\u0663", "expected"),
        ("202113..202201", "month must be in 1..12"),
        ("202100..202101", "month must be in 1..12"),
        ("202101..202113", "month must be in 1..12"),
        ("000001..000002", "year 0 is out of range"),
        ("20210230..20210301", "day is out of range for month"),
        ("20230229..20230301", "day is out of range for month"),
        ("20210101..20210132", "day is out of range for month"),
        ("20211301..20211302", "month must be in 1..12"),
        ("202103..202101", "start is after end"),
        ("202201..202112", "start is after end"),
        ("20210302..20210301", "start is after end"),
        ("999912..999912", "date out of range"),
        ("99991231..99991231", "date out of range"),
    ],
)
def test_resolve_period_rejects(period: str, message: str) -> None:
    with pytest.raises(PeriodError) as exc_info:
        resolve_period(period, today=D(2024, 6, 1))

    exc = exc_info.value
    assert exc.value == period
    assert message in exc.message
    assert str(exc) == f"Invalid period {period!r} ({exc.message})"


@pytest.mark.parametrize(
    ("period", "today"),
    [("next_year", D(9999, 6, 1)), ("prev_week", D(1, 1, 3)), ("next_month", D(9999, 12, 5))],
)
def test_named_period_out_of_range(period: str, today: datetime.date) -> None:
    with pytest.raises(PeriodError, match=f"Invalid period '{period}' \\(date out of range\\)"):
        resolve_period(period, today=today)


def test_period_error_message() -> None:
    with pytest.raises(PeriodError) as exc_info:
        resolve_period("202113..202201", today=D(2024, 6, 1))

    assert str(exc_info.value) == "Invalid period '202113..202201' (month must be in 1..12)"
    assert isinstance(exc_info.value, ValueError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-03-01", D(2021, 3, 1)),
        ("20210301", D(2021, 3, 1)),
        ("2024-02-29", D(2024, 2, 29)),
        ("20241231", D(2024, 12, 31)),
    ],
)
def test_parse_day(value: str, expected: datetime.date) -> None:
    assert parse_day(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "expected a day as YYYY-MM-DD or YYYYMMDD"),
        ("today", "expected a day"),
        ("2021-0301", "expected a day"),
        ("202103-01", "expected a day"),
        ("2021/03/01", "expected a day"),
        ("2021-3-1", "expected a day"),
        (" 2021-03-01", "expected a day"),
        ("2021-03-01T00:00", "expected a day"),
        ("202103", "expected a day"),
        ("2021-02-30", "day is out of range for month"),
        ("20210230", "day is out of range for month"),
        ("2023-02-29", "day is out of range for month"),
        ("2021-13-01", "month must be in 1..12"),
        ("0000-01-01", "year 0 is out of range"),
    ],
)
def test_parse_day_rejects(value: str, message: str) -> None:
    with pytest.raises(PeriodError) as exc_info:
        parse_day(value)

    exc = exc_info.value
    assert exc.value == value
    assert message in exc.message
    assert str(exc) == f"Invalid day {value!r} ({exc.message})"
