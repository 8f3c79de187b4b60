"""Bulk PATCH and DELETE of time entries in both dialects run the same statements for 5 items
as for 100 (one locking read, one update or delete, one insert of the events), and audit each
item exactly as its single write does."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from administrations.services import administration_update
from notes.models import Event, Note
from tests.expensicat_support import ec_api
from tests.timeentries.test_write_statements import TRANSACTION_CONTROL, kinds
from timeentries.models import TimeEntry

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def mb_items(count: int, offset: int = 0, **extra) -> list[dict]:
    return [
        {
            "started_at": iso(T0 + timedelta(hours=offset + n)),
            "ended_at": iso(T0 + timedelta(hours=offset + n, minutes=30)),
            "description": f"Item {offset + n}",
            **extra,
        }
        for n in range(count)
    ]


def created(api, count: int, offset: int = 0, **extra) -> list[str]:
    """Ids of `count` new finished entries, made in one bulk create."""
    response = api.post("time_entries/bulk", {"time_entries": mb_items(count, offset, **extra)})
    results = response.json()
    assert [r["status"] for r in results] == [201] * count, results
    return [r["id"] for r in results]


def statements(call) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    sql = [q["sql"] for q in queries.captured_queries]
    # PostgreSQL writes the events with COPY (common.db.insert_rows), SQLite with an INSERT.
    sql = [f"INSERT INTO {s.split()[1]}" if s.startswith("COPY ") else s for s in sql]
    return response, kinds([s for s in sql if s not in TRANSACTION_CONTROL])


def count_kind(found: list[str], kind: str) -> int:
    return sum(1 for k in found if k == kind)


# --- statement counts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"description": "Renamed", "billable": False},
        # A new start for every entry: each keeps its own end, so its values differ.
        {"started_at": "2026-03-01T07:00:00Z", "project_id": "project"},
    ],
)
def test_moneybird_bulk_patch_costs_the_same_for_5_or_100_items(api, project, changes):
    changes = {k: str(project.pk) if v == "project" else v for k, v in changes.items()}

    def patch(ids: list[str]) -> list[str]:
        response, found = statements(
            lambda: api.patch("time_entries/bulk", {"ids": ids, "time_entry": changes})
        )
        assert [r["status"] for r in response.json()] == [200] * len(ids), response.content
        return found

    few, many = patch(created(api, 5)), patch(created(api, 100, offset=10))
    assert few == many
    assert count_kind(many, "UPDATE timeentries_timeentry") == 1
    assert count_kind(many, "INSERT notes_event") == 1
    assert Event.objects.filter(action="time_entry_updated").count() == 105


def test_moneybird_bulk_patch_under_overlap_prevention_costs_the_same(
    api, administration, colleague
):
    administration_update(
        administration=administration, actor=None, changes={"prevent_overlapping_entries": True}
    )
    # Another person: every item is checked against that person's entries and the batch's.
    changes = {"user_id": str(colleague.pk)}

    def patch(ids: list[str]) -> list[str]:
        response, found = statements(
            lambda: api.patch("time_entries/bulk", {"ids": ids, "time_entry": changes})
        )
        assert [r["status"] for r in response.json()] == [200] * len(ids), response.content
        return found

    few, many = patch(created(api, 5)), patch(created(api, 100, offset=10))
    assert few == many


def test_moneybird_bulk_delete_costs_the_same_for_5_or_100_items(api):
    def delete(ids: list[str]) -> list[str]:
        api.post(f"time_entries/{ids[0]}/notes", {"note": {"note": "Call back"}})
        response, found = statements(lambda: api.delete(f"time_entries/bulk?ids={','.join(ids)}"))
        assert [r["status"] for r in response.json()] == [204] * len(ids), response.content
        return found

    few, many = delete(created(api, 5)), delete(created(api, 100, offset=10))
    assert few == many
    assert count_kind(many, "INSERT notes_event") == 1
    assert count_kind(many, "DELETE") == 2  # the notes, then the entries
    assert not TimeEntry.objects.exists() and not Note.objects.exists()
    assert Event.objects.filter(action="time_entry_destroyed").count() == 105


def test_expensicat_bulk_patch_and_delete_cost_the_same_for_5_or_100_items(api, owner):
    ec = ec_api(owner)

    def patch(ids: list[str]) -> list[str]:
        body = {"ids": ids, "changes": {"description": "Renamed", "billable": False}}
        response, found = statements(lambda: ec.patch("time-entries/bulk", body))
        assert [r["status"] for r in response.json()["data"]] == [200] * len(ids)
        return found

    def delete(ids: list[str]) -> list[str]:
        response, found = statements(lambda: ec.delete(f"time-entries/bulk?ids={','.join(ids)}"))
        assert [r["status"] for r in response.json()["data"]] == [204] * len(ids)
        return found

    few, many = created(api, 5), created(api, 100, offset=10)
    assert patch(few) == patch(many)
    assert delete(few) == delete(many)
    assert not TimeEntry.objects.exists()
