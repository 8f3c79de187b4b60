"""import_time_entries as an operator meets it: the error report and the summary, importing a
file twice, dry runs, creating what is missing through the services, the audit events, batches
that commit whole or not at all, and memory that stays flat however long the file."""

import csv
import io
import tracemalloc
from datetime import date

import pytest
from django.core.management import CommandError

from administrations.models import Contact, Membership, Project, User
from administrations.services import administration_update
from notes import services as note_services
from notes.models import Event
from tests.factories import AdministrationFactory, ContactFactory, ProjectFactory, member
from tests.timeentries.import_support import (
    counts,
    entries,
    error_lines,
    fixture,
    run,
    run_import,
    summary,
)
from timeentries.imports import engine
from timeentries.imports.runner import ImportSummary, import_time_entries
from timeentries.management.reporting import Progress
from timeentries.models import TimeEntry

pytestmark = pytest.mark.django_db

ALL_FIXTURES = (
    "toggl_detailed.csv",
    "toggl_semicolon.csv",
    "clockify_detailed.csv",
    "harvest_detailed.csv",
    "moneybird_time_entries.json",
    "uurwerk_time_entries.csv",
)
TOGGL_HEADER = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,"
    "End time,Duration,Tags\n"
)


@pytest.fixture
def people(administration):
    """Members for every fixture (Harvest's and Moneybird's are matched by name)."""
    member(administration, email="ann@example.com", name="Ann Example")
    member(administration, email="zoe@example.com", name="Zoë Ünal")
    member(administration, email="peter@example.com", name="Peter Tester")
    member(administration, email="lukasz@example.com", name="Łukasz Żółć")
    return administration


def toggl_file(tmp_path, *rows: str, name: str = "toggl.csv") -> str:
    path = tmp_path / name
    path.write_text(TOGGL_HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return str(path)


def toggl_row(day: int, hour: int, description: str, email: str = "ann@example.com") -> str:
    start, end = f"{hour:02d}:00:00", f"{hour:02d}:45:00"
    return (
        f"Ann,{email},,,,{description},Yes,2024-03-{day:02d},{start},2024-03-{day:02d},{end},"
        "00:45:00,"
    )


# --- the report and the summary ---------------------------------------------------------------


def test_errors_to_writes_every_rejected_row_as_csv(people, tmp_path):
    report = tmp_path / "errors.csv"
    out, err = run_import(
        people, fixture("toggl_detailed.csv"), "--create-missing", "--errors-to", str(report)
    )

    assert error_lines(err) == []
    with report.open(encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [
            ["row", "column", "reason"],
            [
                "5",
                "Start date",
                "'2024-02-30' is not a valid date (read as M/D/YYYY or YYYY-MM-DD)",
            ],
            ["6", "End time", "no end time"],
            ["8", "End time", "must be at least one minute after the start time"],
        ]
    assert summary(out)["imported"] == "4"


def test_stderr_shows_the_first_fifty_errors_and_counts_the_rest(people, tmp_path):
    rows = [f"Ann,ann@example.com,,,,Bad {n},Yes,not a date,09:00,,,," for n in range(60)]
    out, err = run_import(people, toggl_file(tmp_path, *rows, toggl_row(1, 9, "Good")))

    lines = error_lines(err)
    assert len(lines) == 50
    assert lines[0].startswith("row 2, Start date: 'not a date' is not a date")
    assert "... and 10 more errors (--errors-to FILE lists all)" in err
    assert summary(out) | {"format": ""} == {
        "format": "",
        "rows": "61",
        "imported": "1",
        "skipped": "0 (already present)",
        "rejected": "60",
    }


def test_one_row_may_break_several_rules_and_is_counted_once(people, tmp_path):
    path = toggl_file(
        tmp_path, "Ann,nobody@example.com,Ghost Client,Ghost Project,,,Yes,2024-03-01,09:00,,,,"
    )
    out, err = run_import(people, path)
    assert error_lines(err) == [
        "row 2, End time: no end time",
        "row 2, Description: can't be blank",
    ]
    assert summary(out)["rejected"] == "1"

    path = toggl_file(
        tmp_path,
        "Ann,nobody@example.com,Ghost Client,Ghost Project,,Work,Yes,2024-03-01,09:00,,,1:00:00,",
    )
    out, err = run_import(people, path)
    assert error_lines(err) == [
        "row 2, Email: no member with email nobody@example.com",
        "row 2, Project: no project named 'Ghost Project'",
        "row 2, Client: no contact named 'Ghost Client'",
    ]
    assert summary(out)["rejected"] == "1"
    assert TimeEntry.objects.count() == 0


def test_names_are_looked_up_in_this_administration_only(people, tmp_path):
    other = AdministrationFactory(name="Other")
    member(other, email="stranger@example.com")
    ProjectFactory(administration=other, name="Their project")
    ContactFactory(administration=other, company_name="Their client")
    path = toggl_file(
        tmp_path,
        "Ann,stranger@example.com,,,,Work,Yes,2024-03-01,09:00,2024-03-01,10:00,,",
        "Ann,ann@example.com,Their client,Their project,,Work,Yes,2024-03-01,11:00,"
        "2024-03-01,12:00,,",
    )
    _out, err = run_import(people, path)
    assert error_lines(err) == [
        "row 2, Email: no member with email stranger@example.com",
        "row 3, Project: no project named 'Their project'",
        "row 3, Client: no contact named 'Their client'",
    ]
    assert TimeEntry.objects.filter(administration=people).count() == 0


def test_a_locked_period_rejects_its_rows_as_the_api_does(people, tmp_path):
    administration_update(
        administration=people, actor=None, changes={"period_locked_until": date(2024, 3, 1)}
    )
    path = toggl_file(tmp_path, toggl_row(1, 9, "Locked"), toggl_row(2, 9, "Open"))
    _out, err = run_import(people, path)
    assert error_lines(err) == ["row 2, Start date: The period until 2024-03-01 is locked"]
    assert [e[4] for e in entries(people)] == ["Open"]


# --- idempotency ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_importing_a_file_twice_adds_nothing_the_second_time(people, name):
    first, _ = run_import(people, fixture(name), "--create-missing")
    before = counts()
    imported = entries(people)

    second, _ = run_import(people, fixture(name), "--create-missing")

    assert int(summary(first)["imported"]) > 0
    assert summary(second)["imported"] == "0"
    assert summary(second)["skipped"] == f"{summary(first)['imported']} (already present)"
    assert summary(second)["rejected"] == summary(first)["rejected"]
    assert counts() == before
    assert entries(people) == imported


def test_identical_rows_in_one_file_are_one_entry(people, tmp_path):
    row = toggl_row(1, 9, "Same")
    out, _ = run_import(people, toggl_file(tmp_path, row, row, toggl_row(1, 11, "Other")))
    assert summary(out)["imported"] == "2"
    assert summary(out)["skipped"] == "1 (already present)"


def test_an_export_of_the_same_administration_imports_as_nothing_new(people, tmp_path):
    run_import(people, fixture("toggl_detailed.csv"), "--create-missing")
    before = counts()
    path = tmp_path / "export.csv"
    run("export_time_entries", str(people.pk), "--output", str(path))
    out, _ = run_import(people, str(path))
    assert summary(out)["skipped"] == "4 (already present)"
    assert counts() == before


# --- dry run ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_dry_run_writes_nothing_and_counts_as_the_import_would(people, name):
    before = counts()
    dry, _ = run_import(people, fixture(name), "--dry-run", "--create-missing")
    assert counts() == before
    assert dry.startswith("Dry run: nothing was written.")

    real, _ = run_import(people, fixture(name), "--create-missing")
    assert {k: v for k, v in summary(dry).items() if k != "Dry run"} == summary(real)


def test_dry_run_names_what_it_would_create(administration):
    before = counts()
    out, _err = run_import(
        administration, fixture("clockify_detailed.csv"), "--dry-run", "--create-missing"
    )
    assert counts() == before
    assert summary(out)["created users"] == "2 (ann@example.com, lukasz@example.com)"
    assert summary(out)["created projects"] == "2 (Website, Ærø Øresund)"
    assert summary(out)["imported"] == "4"


# --- creating what is missing -----------------------------------------------------------------


def test_create_missing_creates_through_the_services(administration):
    out, _err = run_import(administration, fixture("toggl_detailed.csv"), "--create-missing")

    assert summary(out)["created users"] == "2 (ann@example.com, zoe@example.com)"
    assert summary(out)["created projects"] == "2 (Récupération, Website)"
    assert summary(out)["created contacts"] == "2 (Acme B.V., Café Zürich)"
    ann = User.objects.get(email="ann@example.com")
    assert ann.name == "Ann Example"
    assert Membership.objects.get(user=ann).administration == administration
    zoe = User.objects.get(email="zoe@example.com")
    assert zoe.name == "Zoë Ünal"
    project = Project.objects.get(administration=administration, name="Website")
    contact = Contact.objects.get(administration=administration, company_name="Café Zürich")
    # Audited as if made by hand.
    assert Event.objects.filter(action="user_invited", entity_id=ann.pk).exists()
    assert Event.objects.filter(action="project_created", entity_id=project.pk).exists()
    assert Event.objects.filter(action="contact_created", entity_id=contact.pk).exists()
    assert summary(out)["imported"] == "4"


def test_without_create_missing_nothing_but_entries_is_written(administration):
    before = counts()
    out, err = run_import(administration, fixture("toggl_detailed.csv"))
    assert summary(out)["imported"] == "0"
    assert summary(out)["rejected"] == "7"
    assert "row 2, Email: no member with email ann@example.com" in error_lines(err)
    assert counts() == before


def test_harvest_people_are_never_created(administration):
    out, err = run_import(administration, fixture("harvest_detailed.csv"), "--create-missing")
    assert summary(out)["imported"] == "0"
    assert not User.objects.exists()
    assert "row 2, First Name: no member named 'Peter Tester'" in err


# --- events -----------------------------------------------------------------------------------


def test_every_imported_entry_has_its_created_event_naming_the_import(people):
    run_import(people, fixture("toggl_detailed.csv"), "--create-missing")

    created = Event.objects.filter(action="time_entry_created", subject_type="TimeEntry")
    by_entry = {event.entity_id: event for event in created}
    imported = TimeEntry.objects.filter(administration=people).order_by("started_at")
    assert set(by_entry) == {entry.pk for entry in imported}
    assert [by_entry[entry.pk].data for entry in imported] == [
        {"import": {"source": "toggl", "file": "toggl_detailed.csv", "row": row}}
        for row in (2, 3, 4, 7)
    ]
    assert all(by_entry[e.pk].administration_id == people.pk for e in imported)
    assert all(by_entry[e.pk].user_id is None for e in imported)


def test_import_fields_stay_out_of_the_api(people, api):
    run_import(people, fixture("uurwerk_time_entries.csv"), "--create-missing")
    body = api.get("time_entries", {"filter": "period:202403..202403"}).json()
    assert len(body) == 3
    assert not any("import" in key for item in body for key in item)


# --- batches ----------------------------------------------------------------------------------


def test_a_failing_batch_leaves_nothing_of_itself_and_a_rerun_completes(
    people, tmp_path, monkeypatch
):
    path = toggl_file(tmp_path, *(toggl_row(day, 9, f"Day {day}") for day in range(1, 7)))
    real = note_services.events_record_bulk
    calls = []

    def fail_second(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr("timeentries.imports.engine.events_record_bulk", fail_second)
    with pytest.raises(RuntimeError, match="disk full"):
        run_import(people, path, "--batch-size", "2")

    # The first batch is committed with its events; the second left nothing, not even entries.
    assert [e[4] for e in entries(people)] == ["Day 1", "Day 2"]
    assert Event.objects.filter(action="time_entry_created").count() == 2

    monkeypatch.setattr("timeentries.imports.engine.events_record_bulk", real)
    out, _ = run_import(people, path, "--batch-size", "2")
    assert summary(out)["imported"] == "4"
    assert summary(out)["skipped"] == "2 (already present)"
    assert [e[4] for e in entries(people)] == [f"Day {day}" for day in range(1, 7)]
    assert Event.objects.filter(action="time_entry_created").count() == 6


def test_names_created_in_a_failed_batch_are_created_again(administration, tmp_path, monkeypatch):
    path = toggl_file(
        tmp_path,
        toggl_row(1, 9, "One", email="first@example.com"),
        toggl_row(2, 9, "Two", email="second@example.com"),
    )
    real = engine.insert_rows
    calls = []

    def fail_second(model, rows):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("interrupted")
        return real(model, rows)

    monkeypatch.setattr(engine, "insert_rows", fail_second)
    with pytest.raises(RuntimeError):
        run_import(administration, path, "--batch-size", "1", "--create-missing")
    assert list(User.objects.values_list("email", flat=True)) == ["first@example.com"]

    monkeypatch.undo()
    out, _ = run_import(administration, path, "--batch-size", "1", "--create-missing")
    assert summary(out)["created users"] == "1 (second@example.com)"
    assert summary(out)["imported"] == "1"


# --- the command's edges ----------------------------------------------------------------------


def test_an_unknown_header_is_refused_before_anything_is_written(people, tmp_path):
    path = tmp_path / "what.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(CommandError, match="cannot tell the format from the header"):
        run_import(people, str(path))
    with pytest.raises(CommandError, match="column\\(s\\) Date, Hours, Notes"):
        run_import(people, fixture("toggl_detailed.csv"), "--format", "harvest")
    with pytest.raises(CommandError, match="No such file"):
        run_import(people, str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="no administration"):
        run_import(people.__class__(pk=1), fixture("toggl_detailed.csv"))


def test_broken_json_keeps_the_rows_before_it(people, tmp_path):
    text = fixture("moneybird_time_entries.json")
    with open(text, encoding="utf-8") as handle:
        body = handle.read()
    path = tmp_path / "broken.json"
    path.write_text(body[: body.index('"id": "421015380000000103"')] + "{oops", encoding="utf-8")
    with pytest.raises(CommandError, match="stopped early: JSON: element 3"):
        run_import(people, str(path), "--create-missing")
    assert len(entries(people)) == 2


def test_plain_progress_lines_without_a_terminal():
    stream = io.StringIO()
    progress = Progress(stream, total=1000, every=0)
    progress.update(ImportSummary(rows=2000, imported=1990, skipped=5, rejected=5), 500)
    progress.close()
    line = stream.getvalue()
    assert line.startswith("2000 rows read: 1990 imported, 5 skipped, 5 rejected; ")
    assert line.rstrip().endswith("rows/s, 50% of the file")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_progress_bar_with_rows_per_second():
    stream = Terminal()
    progress = Progress(stream, total=1000)
    progress.update(ImportSummary(rows=2000, imported=2000), 500)
    progress.write("row 3, Email: no member with email x@example.com")
    progress.close()
    shown = stream.getvalue()
    assert "500/1.00k" in shown
    assert "2000 rows" in shown
    assert "rows/s" in shown
    assert "row 3, Email: no member with email x@example.com\n" in shown


def test_standard_input(people, monkeypatch):
    with open(fixture("toggl_semicolon.csv"), "rb") as handle:
        data = handle.read()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    ProjectFactory(administration=people, name="Website")
    ContactFactory(administration=people, company_name="Acme B.V.")
    out, _ = run_import(people, "-")
    assert summary(out)["imported"] == "2"
    assert Event.objects.get(data__import__row=2).data["import"]["file"] == "-"


def test_an_unwritable_error_report_is_refused(people, tmp_path):
    with pytest.raises(CommandError, match="--errors-to: No such file or directory"):
        run_import(
            people, fixture("toggl_detailed.csv"), "--errors-to", str(tmp_path / "no" / "e.csv")
        )
    assert not TimeEntry.objects.exists()


# --- memory -----------------------------------------------------------------------------------


class GeneratedToggl(io.RawIOBase):
    """A Toggl export of `count` rows, made as it is read: no file, nothing held."""

    def __init__(self, count: int):
        self.lines = self._lines(count)
        self.pending = b""

    @staticmethod
    def _lines(count: int):
        yield TOGGL_HEADER.encode()
        for n in range(count):
            day, minute = 1 + n // 1000 % 28, n % 1000
            start = f"{minute // 60 % 24:02d}:{minute % 60:02d}:00"
            yield (
                f"Ann,ann@example.com,Acme B.V.,Website,,Entry {n} with some words of text,Yes,"
                f"2023-{1 + n // 28000 % 12:02d}-{day:02d},{start},,,00:30:00,\n"
            ).encode()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        parts, size = [self.pending], len(self.pending)
        while size < len(buffer):
            line = next(self.lines, None)
            if line is None:
                break
            parts.append(line)
            size += len(line)
        data = b"".join(parts)
        size = min(len(buffer), len(data))
        buffer[:size] = data[:size]
        self.pending = data[size:]
        return size


def test_memory_stays_flat_for_a_long_file(people):
    """The whole way from bytes to the check for entries already present, in a dry run (the
    writes hold one batch by construction, and SQLite writes too slowly for a quick test)."""
    ProjectFactory(administration=people, name="Website")
    ContactFactory(administration=people, company_name="Acme B.V.")
    rows = 20_000

    tracemalloc.start()
    try:
        result = import_time_entries(
            io.BufferedReader(GeneratedToggl(rows)),
            administration=people,
            dry_run=True,
            batch_size=500,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.rows == rows
    assert result.imported == rows
    # Holding the file's ImportRows alone would take 11.8 MB (590 bytes a row, with their
    # datetimes and strings), their checked values and keys as much again. One batch of 500 is
    # a few hundred KB; the whole run peaks near 1.5 MB.
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
