"""export_time_entries: our CSV and Moneybird's JSON, the API's filter grammar, and the round
trip: an export imported into an empty administration reproduces the entries."""

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from django.core.management import CommandError

from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    ProjectFactory,
    TimeEntryFactory,
    member,
)
from tests.timeentries.import_support import AMS, counts, entries, run, run_import, summary
from timeentries.models import TimeEntry

pytestmark = pytest.mark.django_db


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=AMS)


@pytest.fixture
def filled(administration):
    """An administration with entries of every shape: two people, a company and a person
    contact, a project, pauses, non-billable work, non-ASCII and multi-line descriptions, an
    entry from another year and a running timer."""
    ann = member(administration, email="ann.export@example.com", name="Ann")
    zoe = member(administration, email="zoe.export@example.com", name="Zoë Ünal")
    website = ProjectFactory(administration=administration, name="Website")
    acme = ContactFactory(administration=administration, company_name="Acme B.V.")
    person = ContactFactory(
        administration=administration, company_name="", firstname="Jürgen", lastname="Müller"
    )

    def entry(user, start, end, description, **extra):
        return TimeEntryFactory(
            administration=administration,
            user_id=user.pk,
            started_at=start,
            ended_at=end,
            description=description,
            **extra,
        )

    entry(ann, at(1, 9), at(1, 10, 5), "Design", project_id=website.pk, contact_id=acme.pk)
    entry(zoe, at(1, 13), at(1, 15), "Überarbeitung, Teil 2\nmit Zeilenumbruch",
          contact_id=person.pk, billable=False, paused_duration=900)  # fmt: skip
    entry(ann, at(4, 23, 30), at(5, 0, 30), 'Night "shift"; late', project_id=website.pk)
    entry(ann, at(2, 9, month=1) - timedelta(days=400), at(2, 10, month=1) - timedelta(days=400),
          "Long ago")  # fmt: skip
    TimeEntryFactory(
        administration=administration,
        user_id=zoe.pk,
        started_at=at(6, 9),
        ended_at=None,
        description="Running",
    )
    return administration


def export(administration, *args: str) -> str:
    out, _ = run("export_time_entries", str(administration.pk), *args)
    return out


def test_csv_has_our_columns_in_utc(filled):
    rows = list(csv.reader(io.StringIO(export(filled, "--period", "202403..202403"))))

    assert rows[0] == [
        "id", "user_email", "started_at", "ended_at", "paused_duration", "description",
        "project", "contact", "billable",
    ]  # fmt: skip
    ids = dict(TimeEntry.objects.filter(administration=filled).values_list("description", "pk"))
    assert rows[1:] == [
        [str(ids["Design"]), "ann.export@example.com", "2024-03-01T08:00:00Z",
         "2024-03-01T09:05:00Z", "0", "Design", "Website", "Acme B.V.", "true"],
        [str(ids["Überarbeitung, Teil 2\nmit Zeilenumbruch"]), "zoe.export@example.com",
         "2024-03-01T12:00:00Z", "2024-03-01T14:00:00Z", "900",
         "Überarbeitung, Teil 2\nmit Zeilenumbruch", "", "Jürgen Müller", "false"],
        [str(ids['Night "shift"; late']), "ann.export@example.com", "2024-03-04T22:30:00Z",
         "2024-03-04T23:30:00Z", "0", 'Night "shift"; late', "Website", "", "true"],
    ]  # fmt: skip


def test_json_is_the_api_rendering_with_the_users_email(filled, api):
    items = json.loads(export(filled, "--format", "json", "--period", "202403..202403"))

    listed = api.get("time_entries", {"filter": "period:202403..202403"}).json()
    by_id = {item["id"]: item for item in listed}
    assert [item["description"] for item in items] == [
        "Design",
        "Überarbeitung, Teil 2\nmit Zeilenumbruch",
        'Night "shift"; late',
    ]
    for item in items:
        email = item["user"].pop("email")
        assert email.endswith(".export@example.com")
        assert item == by_id[item["id"]]


def test_without_a_filter_every_stopped_entry_is_exported(filled):
    rows = list(csv.DictReader(io.StringIO(export(filled))))
    assert [row["description"] for row in rows] == [
        "Long ago",
        "Design",
        "Überarbeitung, Teil 2\nmit Zeilenumbruch",
        'Night "shift"; late',
    ]


def test_the_filter_grammar_is_the_apis(filled, tmp_path):
    website = filled.projects.get(name="Website")
    rows = list(csv.DictReader(io.StringIO(export(filled, "--filter", f"project_id:{website.pk}"))))
    assert [row["description"] for row in rows] == ["Design", 'Night "shift"; late']

    rows = list(csv.DictReader(io.StringIO(export(filled, "--filter", "state:non_billable"))))
    assert [row["description"] for row in rows] == ["Überarbeitung, Teil 2\nmit Zeilenumbruch"]

    rows = list(
        csv.DictReader(
            io.StringIO(
                export(filled, "--filter", "include_active:true", "--period", "202403..202403")
            )
        )
    )
    assert rows[-1]["description"] == "Running"
    assert rows[-1]["ended_at"] == ""

    with pytest.raises(CommandError, match="Invalid value 'someday' for filter 'period'"):
        export(filled, "--period", "someday")
    with pytest.raises(CommandError, match="Unknown filter key 'colour'"):
        export(filled, "--filter", "colour:red")
    with pytest.raises(CommandError, match="either in --filter or with --period"):
        export(filled, "--filter", "period:this_year", "--period", "this_month")
    with pytest.raises(CommandError, match="project_id"):
        export(filled, "--filter", "project_id:1")


def test_output_goes_to_a_file(filled, tmp_path):
    path = tmp_path / "out.csv"
    out, err = run("export_time_entries", str(filled.pk), "--output", str(path))
    assert out == ""
    assert err.strip() == "exported 4 time entries"
    assert path.read_text(encoding="utf-8").startswith("id,user_email,started_at,")


@pytest.mark.parametrize("format", ["csv", "json"])
def test_an_export_imported_into_an_empty_administration_reproduces_it(filled, tmp_path, format):
    path = tmp_path / f"export.{format}"
    run("export_time_entries", str(filled.pk), "--format", format, "--output", str(path))
    empty = AdministrationFactory(name="Empty", time_zone="Europe/Amsterdam")

    out, err = run_import(empty, str(path), "--create-missing")

    assert summary(out)["imported"] == "4", err
    assert summary(out)["rejected"] == "0"
    assert entries(empty) == [e for e in entries(filled) if e[4] != "Running"]
    # And once more: nothing new.
    before = counts()
    out, _ = run_import(empty, str(path), "--create-missing")
    assert summary(out)["skipped"] == "4 (already present)"
    assert counts() == before


def test_an_empty_export_is_an_empty_array(administration):
    assert json.loads(export(administration, "--format", "json")) == []
    assert export(administration) == (
        "id,user_email,started_at,ended_at,paused_duration,description,project,contact,billable\n"
    )
