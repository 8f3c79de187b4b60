"""The pure reading layer: cell parsers, format detection (encodings, separators, headers) and
the incremental JSON array reader. No database."""

import codecs
import io
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from timeentries.imports.detect import open_import
from timeentries.imports.moneybird_json import iter_json_array
from timeentries.imports.reading import (
    parse_bool,
    parse_date,
    parse_duration,
    parse_hours,
    parse_time,
)
from timeentries.imports.rows import ImportFormatError, ImportRow, RowError

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1:05:00", 3900),
        ("01:05:00", 3900),
        ("1:05", 3900),
        ("26:00:30", 93630),
        ("0:00:30", 30),
        ("1.25", 4500),
        ("1,25", 4500),
        ("0,5", 1800),
        (" 2 ", 7200),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1:65", "one hour", "-1:00", "1:05:00:00"])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("7.5", "7.5"),
        ("7,5", "7.5"),
        ("2.000,5", "2000.5"),
        ("1,234.5", "1234.5"),
        ("1.000.000", "1000000"),
        (",5", "0.5"),
        ("10", "10"),
    ],
)
def test_decimal_hours(text, hours):
    assert parse_hours(text) == Decimal(hours)


@pytest.mark.parametrize(
    ("text", "day_first", "expected"),
    [
        ("2024-03-01", False, date(2024, 3, 1)),
        ("2024-3-1", False, date(2024, 3, 1)),
        ("2024/03/01", False, date(2024, 3, 1)),
        ("03/01/2024", False, date(2024, 3, 1)),
        ("3/1/2024", False, date(2024, 3, 1)),
        ("03/01/2024", True, date(2024, 1, 3)),
        ("01.03.2024", False, date(2024, 3, 1)),
        ("01-03-2024", False, date(2024, 3, 1)),
    ],
)
def test_dates(text, day_first, expected):
    assert parse_date(text, day_first=day_first) == expected


@pytest.mark.parametrize("text", ["2024-02-30", "13/01/2024", "yesterday", "2024-03", "1.3.24"])
def test_bad_dates(text):
    with pytest.raises(ValueError, match="is not a"):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13:30", time(13, 30)),
        ("13:30:15", time(13, 30, 15)),
        ("9:05", time(9, 5)),
        ("1:30 PM", time(13, 30)),
        ("1:30:15 pm", time(13, 30, 15)),
        ("01:30:00 AM", time(1, 30)),
        ("12:00 AM", time(0, 0)),
        ("12:15:00 PM", time(12, 15)),
        ("1 PM", time(13, 0)),
        ("11:59 p.m.", time(23, 59)),
    ],
)
def test_times(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "13:30 PM", "0:15 AM", "noon", "9"])
def test_bad_times(text):
    with pytest.raises(ValueError, match="is not a time"):
        parse_time(text)


def test_flags():
    assert [parse_bool(t) for t in ("Yes", "no", "TRUE", "0", "", " y ")] == [
        True,
        False,
        True,
        False,
        True,
        True,
    ]
    assert parse_bool("", default=False) is False
    with pytest.raises(ValueError, match="is not yes or no"):
        parse_bool("maybe")


# --- detection --------------------------------------------------------------------------------

TOGGL = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,"
    "End time,Duration,Tags\n"
    "Zoë,zoe@example.com,Café,Été,,Überarbeitung,Yes,2024-03-01,09:00:00,2024-03-01,10:00:00,"
    "01:00:00,\n"
)


def rows_of(data: bytes, **kwargs) -> tuple[str, list]:
    opened = open_import(io.BytesIO(data), tz=AMS, **kwargs)
    return opened.format, list(opened.rows)


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
        lambda text: text.encode("utf-16"),  # with its BOM, as Excel writes "Unicode text"
        lambda text: text.encode("cp1252"),
        lambda text: text.replace("\n", "\r\n").encode("utf-8"),
    ],
)
def test_encodings_and_line_ends(encode):
    format, rows = rows_of(encode(TOGGL))
    assert format == "toggl"
    [row] = rows
    assert (row.user_name, row.project, row.contact, row.description) == (
        "Zoë",
        "Été",
        "Café",
        "Überarbeitung",
    )
    assert row.started_at == datetime(2024, 3, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize("separator", [";", "\t"])
def test_separators_are_counted_in_the_header(separator):
    text = TOGGL.replace(",", separator)
    format, [row] = rows_of(text.encode())
    assert format == "toggl"
    assert row.user_email == "zoe@example.com"


def test_blank_lines_are_left_out_and_rows_keep_their_spreadsheet_numbers():
    text = TOGGL + ",,,,,,,,,,,,\n\n" + TOGGL.splitlines()[1] + "\n"
    _, rows = rows_of(text.encode())
    assert [row.row for row in rows] == [2, 5]


def test_a_short_row_reads_its_missing_cells_as_empty():
    _, [row] = rows_of((TOGGL.splitlines()[0] + "\nAnn,ann@example.com,,,,Work\n").encode())
    assert row == RowError(2, "Start date", "'' is not a date (expected YYYY-MM-DD, "
                           "M/D/YYYY or D.M.YYYY)")  # fmt: skip


def test_unknown_and_empty_files():
    with pytest.raises(ImportFormatError, match="cannot tell the format"):
        rows_of(b"Name,When\nAnn,today\n")
    with pytest.raises(ImportFormatError, match="the file is empty"):
        rows_of(b"")
    with pytest.raises(ImportFormatError, match="expected a JSON array"):
        rows_of(b'{"time_entries": []}', format="moneybird-json")
    with pytest.raises(ImportFormatError, match="unknown format"):
        rows_of(TOGGL.encode(), format="excel")


def test_a_named_format_needs_its_columns():
    with pytest.raises(ImportFormatError, match="not a harvest file: column\\(s\\) Date, Hours"):
        rows_of(TOGGL.encode(), format="harvest")
    with pytest.raises(ImportFormatError, match="not a csv file: column\\(s\\) user_email"):
        rows_of(TOGGL.encode(), format="csv")
    format, _ = rows_of(TOGGL.encode(), format="toggl")
    assert format == "toggl"


# --- JSON -------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 1 << 16])
def test_json_array_elements_one_at_a_time_whatever_the_chunk(chunk):
    text = ' \n[ {"a": "x,]}"} ,\n{"b": [1, 2]}, 12345678, "s", null ,{"c": {"d": "é"}} ]\n'
    assert list(iter_json_array(io.StringIO(text), chunk=chunk)) == [
        {"a": "x,]}"},
        {"b": [1, 2]},
        12345678,
        "s",
        None,
        {"c": {"d": "é"}},
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[", "ends unclosed after element 0"),
        ('[{"a": 1}', "ends unclosed after element 1"),
        ('[{"a": 1} {"b": 2}]', "expected ',' or ']' after element 1"),
        ('[{"a": 1}, {"b": }]', "element 2: Expecting value"),
        ("{}", "expected a JSON array"),
    ],
)
def test_broken_json(text, message):
    with pytest.raises(ImportFormatError, match=message):
        list(iter_json_array(io.StringIO(text), chunk=3))


def test_json_elements_that_are_not_entries_are_row_errors():
    _, rows = rows_of(b'[1, {"started_at": "tomorrow", "description": "x"}, {"billable": "yes"}]')
    assert rows[0] == RowError(1, "", "is not a time entry object")
    assert rows[1] == RowError(2, "started_at", "'tomorrow' is not an ISO 8601 time")
    assert rows[2] == RowError(3, "billable", "'yes' is not true or false")


def test_moneybird_json_rows():
    _, [row] = rows_of(
        b'[{"id": "9", "user_id": "7", "user": {"id": "7", "name": "Ann"},'
        b' "started_at": "2024-03-01 10:00:00", "ended_at": "2024-03-01T10:30:00Z",'
        b' "description": "Work", "paused_duration": 60, "billable": false,'
        b' "contact": {"firstname": "Jan", "lastname": null, "company_name": null},'
        b' "project": {"name": "Site"}}]'
    )
    assert isinstance(row, ImportRow)
    # Without an offset: the administration's time zone.
    assert row.started_at == datetime(2024, 3, 1, 9, tzinfo=UTC)
    assert row.ended_at == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)
    assert (row.user_email, row.user_ref, row.user_name) == ("", "7", "Ann")
    assert (row.contact, row.project, row.billable, row.paused_duration, row.source_id) == (
        "Jan",
        "Site",
        False,
        60,
        "9",
    )
