"""Each source format's fixture (tests/fixtures/) imports into the entries it describes:
times read in the administration's zone and rounded down to the minute as the API rounds,
people, projects and contacts found by their names, billable flags, and the awkward cases
(durations, decimal hours, 12-hour times, non-ASCII names, empty projects, a BOM, `;`)."""

import pytest

from tests.factories import ContactFactory, ProjectFactory, member
from tests.timeentries.import_support import entries, error_lines, fixture, run_import, summary

pytestmark = pytest.mark.django_db


@pytest.fixture
def known(administration):
    """The people, projects and contacts the fixtures name, as they exist before an import."""
    member(administration, email="ann@example.com", name="Ann Example")
    member(administration, email="zoe@example.com", name="Zoë Ünal")
    member(administration, email="peter@example.com", name="Peter Tester")
    for name in ("Website", "Récupération", "Project for Big Company"):
        ProjectFactory(administration=administration, name=name)
    for name in ("Acme B.V.", "Café Zürich", "Big Company"):
        ContactFactory(administration=administration, company_name=name)
    ContactFactory(
        administration=administration, company_name="", firstname="Jürgen", lastname="Müller"
    )
    return administration


def test_toggl_detailed_csv_with_bom(known):
    out, err = run_import(known, fixture("toggl_detailed.csv"))

    assert summary(out) == {
        "format": "toggl",
        "rows": "7",
        "imported": "4",
        "skipped": "0 (already present)",
        "rejected": "3",
    }
    assert entries(known) == [
        ("ann@example.com", "2024-03-01 09:00", "2024-03-01 10:05", 0, "Design homepage",
         "Website", "Acme B.V.", True),
        # Seconds are rounded down, as the API does; the address is matched without case.
        ("zoe@example.com", "2024-03-01 13:30", "2024-03-01 14:00", 0, "Überarbeitung ☕, Teil 2",
         "Récupération", "Café Zürich", False),
        # Past midnight; no project and no client.
        ("ann@example.com", "2024-03-01 23:30", "2024-03-02 00:30", 0, "Internal meeting",
         "", "", False),
        # No description: the task's name.
        ("ann@example.com", "2024-03-04 10:00", "2024-03-04 11:30", 0, "Code review",
         "Website", "Acme B.V.", True),
    ]  # fmt: skip
    assert error_lines(err) == [
        "row 5, Start date: '2024-02-30' is not a valid date (read as M/D/YYYY or YYYY-MM-DD)",
        "row 6, End time: no end time",
        "row 8, End time: must be at least one minute after the start time",
    ]


def test_toggl_with_semicolons_dotted_dates_and_12_hour_times(known):
    out, err = run_import(known, fixture("toggl_semicolon.csv"))

    assert summary(out)["imported"] == "2", err
    assert entries(known) == [
        ("ann@example.com", "2024-03-04 13:30", "2024-03-04 14:45", 0, "Planning; sprint 12",
         "Website", "Acme B.V.", True),
        ("ann@example.com", "2024-03-05 09:00", "2024-03-05 09:20", 0, "Mail; phone",
         "", "", False),
    ]  # fmt: skip


def test_clockify_detailed_csv(known):
    out, err = run_import(known, fixture("clockify_detailed.csv"), "--create-missing")

    assert summary(out) == {
        "format": "clockify",
        "rows": "6",
        "imported": "4",
        "skipped": "0 (already present)",
        "rejected": "2",
        "created users": "1 (lukasz@example.com)",
        "created projects": "1 (Ærø Øresund)",
        "created contacts": "1 (Fjord ApS)",
    }
    assert entries(known) == [
        # 03/01/2024 is 1 March: Clockify writes month first.
        ("ann@example.com", "2024-03-01 09:15", "2024-03-01 10:20", 0, "Design review",
         "Website", "Acme B.V.", True),
        # 12:30 PM is half past noon; 01:45:30 PM rounds down.
        ("ann@example.com", "2024-03-01 12:30", "2024-03-01 13:45", 0, "Lunch talk",
         "Website", "Acme B.V.", False),
        # 12:15 AM is a quarter past midnight, the next day.
        ("lukasz@example.com", "2024-03-04 23:45", "2024-03-05 00:15", 0, "Nachtwerk",
         "Ærø Øresund", "Fjord ApS", True),
        # No end time: the decimal duration "1,25" (a decimal comma) gives it.
        ("ann@example.com", "2024-03-06 08:00", "2024-03-06 09:15", 0, "Reading",
         "", "", False),
    ]  # fmt: skip
    assert error_lines(err) == [
        "row 6, Start Time: '25:00:00' is not a time (expected 13:30, 13:30:00 or 1:30 PM)",
        "row 7, Billable: 'maybe' is not yes or no",
    ]


def test_clockify_day_first_dates(known, tmp_path):
    path = tmp_path / "clockify_dmy.csv"
    path.write_text(
        "Project,Client,Description,Task,User,Group,Email,Tags,Billable,Start Date,Start Time,"
        "End Date,End Time,Duration (h),Duration (decimal)\n"
        "Website,Acme B.V.,Day first,,Ann,,ann@example.com,,Yes,13/03/2024,09:00,13/03/2024,"
        "10:00,01:00:00,1.00\n",
        encoding="utf-8",
    )

    _, err = run_import(known, str(path))
    assert error_lines(err) == [
        "row 2, Start Date: '13/03/2024' is not a valid date (read as M/D/YYYY or YYYY-MM-DD)"
    ]

    out, _ = run_import(known, str(path), "--day-first")
    assert summary(out)["imported"] == "1"
    assert entries(known)[0][1:3] == ("2024-03-13 09:00", "2024-03-13 10:00")


def test_harvest_detailed_csv_lays_a_day_end_to_end_from_nine(known):
    out, err = run_import(known, fixture("harvest_detailed.csv"))

    assert summary(out) == {
        "format": "harvest",
        "rows": "7",
        "imported": "4",
        "skipped": "0 (already present)",
        "rejected": "3",
    }
    assert entries(known) == [
        # Peter's day: 1,5 hours from 09:00, then 0,33 hours (20 minutes) after it.
        ("peter@example.com", "2024-03-04 09:00", "2024-03-04 10:30", 0, "Working hard",
         "Project for Big Company", "Big Company", True),
        # Zoë's own day starts at 09:00 too; found by her name, non-ASCII and all.
        ("zoe@example.com", "2024-03-04 09:00", "2024-03-04 11:00", 0, "Überstunden",
         "", "", False),
        ("peter@example.com", "2024-03-04 10:30", "2024-03-04 10:50", 0, "Even harder",
         "Project for Big Company", "Big Company", True),
        # 3/5/2024 (M/D/YYYY) is 5 March; no notes: the task's name.
        ("peter@example.com", "2024-03-05 09:00", "2024-03-05 10:15", 0, "Admin",
         "Project for Big Company", "Big Company", True),
    ]  # fmt: skip
    assert error_lines(err) == [
        "row 6, Hours: 'many' is not a number of hours",
        "row 7, First Name: no member named 'Nobody Known', and the file has no email address "
        "to add one by",
        "row 8, Hours: must be at least one minute after the start time",
    ]


def test_moneybird_json(known):
    out, err = run_import(known, fixture("moneybird_time_entries.json"))

    assert summary(out) == {
        "format": "moneybird-json",
        "rows": "4",
        "imported": "2",
        "skipped": "0 (already present)",
        "rejected": "2",
    }
    assert entries(known) == [
        ("ann@example.com", "2024-03-01 09:00", "2024-03-01 10:30", 900, "Sprint review",
         "Website", "Acme B.V.", True),
        # No email in Moneybird's plain user: found by name. A person contact by first and
        # last name; the description trimmed; times rounded down.
        ("zoe@example.com", "2024-03-02 14:15", "2024-03-02 15:00", 0, "Gespräch mit Frau Müller",
         "", "Jürgen Müller", False),
    ]  # fmt: skip
    assert error_lines(err) == [
        "row 3, ended_at: no end time",
        "row 4, description: can't be blank",
    ]


def test_our_csv(known):
    out, err = run_import(known, fixture("uurwerk_time_entries.csv"))

    assert summary(out)["format"] == "csv"
    assert summary(out)["imported"] == "3", err
    assert entries(known) == [
        ("ann@example.com", "2024-03-01 09:00", "2024-03-01 10:00", 0, "Plain entry",
         "Website", "Acme B.V.", True),
        ("zoe@example.com", "2024-03-01 10:00", "2024-03-01 11:30", 600,
         "Zwei Zeilen:\nZeile zwei, mit Komma", "Récupération", "Café Zürich", False),
        # Without an offset: the administration's time zone.
        ("ann@example.com", "2024-03-02 10:00", "2024-03-02 10:45", 0, "Local time without offset",
         "", "", True),
    ]  # fmt: skip
    # The row number is the spreadsheet's: row 3 holds two lines of text.
    assert error_lines(err) == [
        "row 5, paused_duration: must be less than the duration of the entry"
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("toggl_detailed.csv", "toggl"),
        ("toggl_semicolon.csv", "toggl"),
        ("clockify_detailed.csv", "clockify"),
        ("harvest_detailed.csv", "harvest"),
        ("moneybird_time_entries.json", "moneybird-json"),
        ("uurwerk_time_entries.csv", "csv"),
    ],
)
def test_format_is_told_from_the_file(known, name, expected):
    out, _ = run_import(known, fixture(name), "--dry-run")
    assert summary(out)["format"] == expected
