"""Bulk PATCH and DELETE of time entries in both dialects run the same statements for 5 items
as for 100 (one locking read, one update or delete, one insert of the events), and audit each
item exactly as its single write does."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from administrations.services import administration_update
from notes.models import Event, Note
from tests.expensicat_support import ec_api
from tests.factories import SalesInvoiceFactory, member
from tests.timeentries.moneybird_support import AMS
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


def bulk_patched(api, n: int, changes: dict, *, offset: int = 0) -> list[str]:
    """The statements of one bulk PATCH of `changes` to `n` new entries, all answered 200."""
    ids = created(api, n, offset=offset)
    response, found = statements(
        lambda: api.patch("time_entries/bulk", {"ids": ids, "time_entry": changes})
    )
    assert [r["status"] for r in response.json()] == [200] * n, response.content
    return found


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

    few, many = bulk_patched(api, 5, changes), bulk_patched(api, 100, changes, offset=10)
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

    few, many = bulk_patched(api, 5, changes), bulk_patched(api, 100, changes, offset=10)
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


# --- each item as its single write ----------------------------------------------------------


def events_of(entry_id: str) -> list[tuple[str, dict, str | None, int | None]]:
    return [
        (e.action, e.data, e.link_entity_type, e.link_entity_id)
        for e in Event.objects.filter(entity_id=int(entry_id)).order_by("created_at", "id")
    ]


def without_updated_at(events):
    """Events as compared across twins: updated_at is [the entry's, now], which differ."""
    return [
        (action, {k: v for k, v in data.items() if k != "updated_at"}, *link)
        for action, data, *link in events
    ]


def twins(api, count: int) -> tuple[list[str], list[str]]:
    """Two sets of alike entries: one for the bulk write, one for single writes. One pair has
    an end that is not on a whole minute (as entries written before rounding may), so that an
    update rounds it: a value that differs per entry in the one UPDATE."""
    bulk, single = created(api, count), created(api, count)
    TimeEntry.objects.filter(pk__in=[int(bulk[1]), int(single[1])]).update(
        ended_at=T0 + timedelta(hours=1, minutes=30, seconds=42)
    )
    return bulk, single


def test_a_bulk_patch_records_per_entry_what_single_patches_record(
    api, administration, project, contact
):
    invoice = SalesInvoiceFactory(administration=administration, contact_id=contact.pk)
    bulk, single = twins(api, 4)
    changes = {
        "started_at": "2026-03-01T07:00:30Z",
        "description": "  Moved  ",
        "project_id": str(project.pk),
        "contact_id": str(contact.pk),
        "sales_invoice_id": str(invoice.pk),
        "billable": False,
    }
    response = api.patch("time_entries/bulk", {"ids": bulk, "time_entry": changes})
    results = response.json()
    assert [r["status"] for r in results] == [200] * 4, results
    for pk in single:
        assert api.patch(f"time_entries/{pk}", {"time_entry": changes}).status_code == 200
    for mine, theirs, result in zip(bulk, single, results, strict=True):
        assert without_updated_at(events_of(mine)) == without_updated_at(events_of(theirs))
        actions = [action for action, *_ in events_of(mine)]
        assert actions[-2:] == ["time_entry_updated", "time_entry_sales_invoice_created"]
        got = api.get(f"time_entries/{mine}").json()
        assert result["data"] == got
        updated = next(e for e in got["events"] if e["action"] == "time_entry_updated")
        # [before, after]: the entry's new updated_at, in the administration's zone.
        assert (
            updated["data"]["updated_at"][1][:19]
            == (datetime.fromisoformat(got["updated_at"]).astimezone(AMS).isoformat()[:19])
        )
        expected = api.get(f"time_entries/{theirs}").json()
        for key in ("started_at", "ended_at", "description", "billable", "project", "contact"):
            assert got[key] == expected[key]
    # The unrounded end was rounded in the same statement as the others' ends were kept.
    assert results[1]["data"]["ended_at"] == "2026-03-02T09:30:00.000Z"
    assert results[0]["data"]["ended_at"] == "2026-03-02T08:30:00.000Z"


def test_a_bulk_patch_without_a_change_records_nothing(api):
    ids = created(api, 3)
    body = {"ids": ids, "time_entry": {"description": "Item 1"}}
    results = api.patch("time_entries/bulk", body).json()
    assert [r["status"] for r in results] == [200] * 3
    assert Event.objects.filter(action="time_entry_updated").count() == 2  # Item 0 and Item 2


def test_a_bulk_delete_records_per_entry_what_single_deletes_record(api):
    bulk, single = twins(api, 3)
    response = api.delete(f"time_entries/bulk?ids={','.join(bulk)}")
    assert [r["status"] for r in response.json()] == [204] * 3
    for pk in single:
        assert api.delete(f"time_entries/{pk}").status_code == 204
    for mine, theirs in zip(bulk, single, strict=True):
        assert events_of(mine) == events_of(theirs)
        assert events_of(mine)[-1][0] == "time_entry_destroyed"
    assert not TimeEntry.objects.exists()


def test_a_repeated_id_is_updated_once_and_deleted_once(api):
    ids = created(api, 2)
    body = {"ids": [ids[0], ids[1], ids[0]], "time_entry": {"description": "Again"}}
    results = api.patch("time_entries/bulk", body).json()
    assert [r["status"] for r in results] == [200, 200, 200]
    assert results[2]["data"] == results[0]["data"]
    assert Event.objects.filter(action="time_entry_updated").count() == 2
    results = api.delete(f"time_entries/bulk?ids={ids[0]},{ids[0]},{ids[1]}").json()
    assert [r["status"] for r in results] == [204, 404, 204]
    assert Event.objects.filter(action="time_entry_destroyed").count() == 2


def test_items_in_a_locked_period_fail_alone_or_atomically(api, administration):
    ids = created(api, 3)
    TimeEntry.objects.filter(pk=int(ids[1])).update(
        started_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
        ended_at=datetime(2026, 1, 5, 10, tzinfo=UTC),
    )
    administration_update(
        administration=administration,
        actor=None,
        changes={"period_locked_until": date(2026, 1, 31)},
    )
    body = {"ids": ids, "time_entry": {"description": "Late"}, "atomic": True}
    results = api.patch("time_entries/bulk", body).json()
    assert [r["status"] for r in results] == [424, 422, 424]
    assert results[1]["error"]["error"] == {"base": ["The period until 2026-01-31 is locked"]}
    assert results[0]["error"]["symbolic"] == {"atomic": "rolled_back"}
    assert not Event.objects.filter(action="time_entry_updated").exists()
    assert not TimeEntry.objects.filter(description="Late").exists()
    results = api.delete(f"time_entries/bulk?ids={','.join(ids)}&atomic=true").json()
    assert [r["status"] for r in results] == [424, 422, 424]
    assert TimeEntry.objects.count() == 3
    del body["atomic"]
    results = api.patch("time_entries/bulk", body).json()
    assert [r["status"] for r in results] == [200, 422, 200]
    results = api.delete(f"time_entries/bulk?ids={','.join(ids)}").json()
    assert [r["status"] for r in results] == [204, 422, 204]
    assert list(TimeEntry.objects.values_list("pk", flat=True)) == [int(ids[1])]


def test_an_unknown_related_id_fails_every_item_that_gets_that_far(api, foreign):
    ids = created(api, 2)
    body = {"ids": [ids[0], "1", ids[1]], "time_entry": {"project_id": str(foreign.project.pk)}}
    results = api.patch("time_entries/bulk", body).json()
    assert [r["status"] for r in results] == [404, 404, 404]
    assert results[0]["error"]["symbolic"] == {"project_id": "not_found"}
    assert results[1]["error"]["symbolic"] == {"id": "not_found"}
    # A rule of the entry's own comes first, as in the single update.
    body = {"ids": ids, "time_entry": {"project_id": "1", "description": ""}}
    results = api.patch("time_entries/bulk", body).json()
    assert [r["status"] for r in results] == [422, 422]


# --- overlap prevention among the batch's own items ------------------------------------------


@pytest.fixture
def guarded(administration):
    administration_update(
        administration=administration, actor=None, changes={"prevent_overlapping_entries": True}
    )


@pytest.mark.usefixtures("guarded")
def test_each_item_is_checked_against_the_entries_as_the_items_before_it_left_them(api):
    # 08:00-08:30, 09:00-09:30, 10:00-10:30; each moved to start at 07:00.
    first, second, third = created(api, 3)
    body = {"ids": [second, first, third], "time_entry": {"started_at": "2026-03-02T07:00:00Z"}}
    results = api.patch("time_entries/bulk", body).json()
    # The second (07:00-09:30) overlaps the first where it still is; the first (07:00-08:30)
    # then fits; the third (07:00-10:30) overlaps the first where it went.
    assert [r["status"] for r in results] == [422, 200, 422]
    assert results[0]["error"]["error"] == {"started_at": [f"overlaps time entry {first}"]}
    assert results[2]["error"]["error"] == {"started_at": [f"overlaps time entry {first}"]}
    assert results[1]["data"]["started_at"] == "2026-03-02T07:00:00.000Z"


@pytest.mark.usefixtures("guarded")
def test_a_batch_moved_to_another_person_is_checked_against_theirs(api, administration, colleague):
    ids = created(api, 3)
    theirs = created(api, 1, offset=1, user_id=str(colleague.pk))[0]  # 09:00-09:30
    body = {"ids": ids, "time_entry": {"user_id": str(colleague.pk)}}
    results = api.patch("time_entries/bulk", body).json()
    assert [r["status"] for r in results] == [200, 422, 200]
    assert results[1]["error"]["error"] == {"started_at": [f"overlaps time entry {theirs}"]}
    # Entries that only touch are fine; a description change moves nothing and is not checked.
    body = {"ids": [ids[1], theirs], "time_entry": {"description": "Same time"}}
    assert [r["status"] for r in api.patch("time_entries/bulk", body).json()] == [200, 200]


@pytest.mark.usefixtures("guarded")
def test_a_running_timer_counts_up_to_now(api, owner):
    from django.utils import timezone

    now = timezone.now().replace(second=0, microsecond=0)
    timer = api.post(
        "time_entries",
        {"time_entry": {"started_at": iso(now - timedelta(hours=2)), "description": "Timer"}},
    ).json()["id"]
    start = now - timedelta(hours=5)
    entry = created(api, 1)[0]
    TimeEntry.objects.filter(pk=int(entry)).update(
        started_at=start, ended_at=start + timedelta(minutes=30)
    )
    body = {"ids": [entry], "time_entry": {"ended_at": iso(now - timedelta(hours=1))}}
    results = api.patch("time_entries/bulk", body).json()
    assert results[0]["error"]["error"] == {"started_at": [f"overlaps time entry {timer}"]}
    # Up to where the timer started: they only touch.
    body = {"ids": [entry], "time_entry": {"ended_at": iso(now - timedelta(hours=2))}}
    assert api.patch("time_entries/bulk", body).json()[0]["status"] == 200


# --- running timers, roles -------------------------------------------------------------------


def test_changes_that_start_timers_stop_the_one_started_before(api):
    ids = created(api, 2)
    results = api.patch("time_entries/bulk", {"ids": ids, "time_entry": {"ended_at": None}}).json()
    assert [r["status"] for r in results] == [200, 200]
    first, second = (TimeEntry.objects.get(pk=int(pk)) for pk in ids)
    assert first.ended_at is not None and second.ended_at is None


def test_expensicat_members_bulk_patch_only_their_own_entries(api, administration, owner):
    someone = member(administration, role="member")
    theirs = created(api, 1)[0]
    mine = created(api, 1, offset=1, user_id=str(someone.pk))[0]
    ec = ec_api(someone)
    body = {"ids": [theirs, mine], "changes": {"description": "Mine"}}
    results = ec.patch("time-entries/bulk", body).json()["data"]
    assert [r["status"] for r in results] == [404, 200]
    assert results[0]["error"]["error"]["code"] == "NOT_FOUND"
    body = {"ids": [theirs, mine], "changes": {"start_time": "2026-03-02T10:00:00Z"}}
    results = ec.patch("time-entries/bulk", body).json()["data"]
    assert [r["status"] for r in results] == [404, 422]
    assert results[1]["error"]["error"]["details"] == {
        "end_time": ["cannot be before the start time"]
    }
