"""Bulk writes of time entries in both dialects: up to 100 items, one result per item in request
order, each item on its own unless atomic=true, every written item audited."""

from datetime import UTC, datetime, timedelta

import pytest

from notes.models import Event
from tests.expensicat_support import ec_api
from tests.factories import member
from tests.timeentries.moneybird_support import make_entry
from timeentries.models import TimeEntry

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BAD = {3, 50, 97}


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def item(n: int, **extra) -> dict:
    start = T0 + timedelta(hours=n)
    return {
        "started_at": iso(start),
        "ended_at": iso(start + timedelta(minutes=30)),
        "description": f"Item {n}",
        **extra,
    }


def created_events() -> int:
    return Event.objects.filter(action="time_entry_created").count()


def test_a_bulk_of_100_with_3_bad_items_creates_97_and_names_the_3(api, project):
    items = [item(n, project_id=str(project.pk)) for n in range(100)]
    items[3]["description"] = ""  # 422
    items[50]["project_id"] = "12345"  # 404
    items[97]["ended_at"] = items[97]["started_at"]  # 422
    response = api.post("time_entries/bulk", {"time_entries": items})
    assert response.status_code == 200, response.content
    results = response.json()
    assert [r["index"] for r in results] == list(range(100))
    assert {r["index"] for r in results if r["status"] != 201} == BAD
    assert results[3] == {
        "index": 3,
        "id": None,
        "status": 422,
        "error": {
            "error": {"description": ["can't be blank"]},
            "details": {"description": [{"error": "blank"}]},
        },
    }
    assert results[50]["status"] == 404
    assert results[50]["error"] == {
        "error": "record not found",
        "symbolic": {"project_id": "not_found"},
    }
    assert results[97]["status"] == 422
    assert TimeEntry.objects.count() == 97
    assert created_events() == 97
    for result in results:
        if result["status"] == 201:
            assert set(result) == {"index", "id", "status", "data"}
            assert result["data"]["id"] == result["id"]
            assert result["data"]["description"] == f"Item {result['index']}"
    # An item's data is what a GET of the entry answers.
    sample = results[10]
    assert api.get(f"time_entries/{sample['id']}").json() == sample["data"]


def test_atomic_with_one_bad_item_writes_nothing(api):
    items = [item(n) for n in range(5)]
    items[2]["description"] = " "
    response = api.post("time_entries/bulk?atomic=true", {"time_entries": items})
    results = response.json()
    assert [r["status"] for r in results] == [424, 424, 422, 424, 424]
    assert results[0]["error"] == {
        "error": "Not written: item 2 failed and atomic=true asked for all or nothing",
        "symbolic": {"atomic": "rolled_back"},
    }
    assert not TimeEntry.objects.exists()
    assert created_events() == 0


def test_atomic_rolls_back_items_written_one_by_one(api, administration, owner):
    # A timer goes through the single write; the later bad one undoes it and the batch.
    items = [item(0), {**item(1), "ended_at": None}, {**item(2), "user_id": "999"}]
    response = api.post("time_entries/bulk", {"time_entries": items, "atomic": True})
    assert [r["status"] for r in response.json()] == [424, 424, 404]
    assert not TimeEntry.objects.exists()
    assert created_events() == 0


def test_timers_and_items_for_colleagues_are_created_as_single_ones(api, owner, colleague):
    items = [{**item(0), "ended_at": None}, item(1, user_id=str(colleague.pk)), item(2)]
    response = api.post("time_entries/bulk", {"time_entries": items})
    results = response.json()
    assert [r["status"] for r in results] == [201, 201, 201]
    assert results[0]["data"]["ended_at"] is None
    assert results[1]["data"]["user_id"] == str(colleague.pk)
    assert created_events() == 3


@pytest.mark.parametrize(
    "body",
    [
        {"time_entries": [item(n) for n in range(101)]},
        {"time_entries": []},
        {"time_entries": "nope"},
        {},
    ],
)
def test_more_than_100_or_no_items_is_a_400(api, body):
    response = api.post("time_entries/bulk", body)
    assert response.status_code == 400
    assert not TimeEntry.objects.exists()


def test_an_item_that_is_not_an_object_fails_alone(api):
    response = api.post("time_entries/bulk", {"time_entries": [item(0), "x", item(1)]})
    assert [r["status"] for r in response.json()] == [201, 422, 201]


def test_bulk_patch_changes_each_entry_and_reports_the_unknown(api, administration, owner, foreign):
    first = make_entry(administration, owner, T0, 60)
    second = make_entry(administration, owner, T0 + timedelta(hours=2), 60)
    ids = [str(first.pk), str(foreign.entry.pk), "abc", str(second.pk)]
    response = api.patch(
        "time_entries/bulk", {"ids": ids, "time_entry": {"description": "Moved", "billable": False}}
    )
    assert response.status_code == 200
    results = response.json()
    assert [r["status"] for r in results] == [200, 404, 404, 200]
    assert results[1]["error"] == {"error": "record not found", "symbolic": {"id": "not_found"}}
    assert results[0]["data"] == api.get(f"time_entries/{first.pk}").json()
    assert set(
        TimeEntry.objects.filter(administration=administration).values_list(
            "description", flat=True
        )
    ) == {"Moved"}
    assert Event.objects.filter(action="time_entry_updated").count() == 2
    foreign.entry.refresh_from_db()
    assert foreign.entry.description == "Foreign work"


def test_bulk_patch_with_bad_changes_is_one_422(api, administration, owner):
    entry = make_entry(administration, owner, T0, 60)
    response = api.patch(
        "time_entries/bulk", {"ids": [str(entry.pk)], "time_entry": {"billable": "x"}}
    )
    assert response.status_code == 422


def test_bulk_delete_deletes_and_atomic_keeps_all(api, administration, owner):
    entries = [make_entry(administration, owner, T0 + timedelta(hours=n), 30) for n in range(3)]
    ids = ",".join(str(e.pk) for e in entries)
    response = api.delete(f"time_entries/bulk?ids={ids},1&atomic=true")
    assert [r["status"] for r in response.json()] == [424, 424, 424, 404]
    assert TimeEntry.objects.count() == 3
    response = api.delete(f"time_entries/bulk?ids={ids},1")
    results = response.json()
    assert [r["status"] for r in results] == [204, 204, 204, 404]
    assert results[0] == {"index": 0, "id": str(entries[0].pk), "status": 204, "data": None}
    assert not TimeEntry.objects.exists()
    assert Event.objects.filter(action="time_entry_destroyed").count() == 3


def test_bulk_is_not_taken_for_an_id(api):
    assert api.get("time_entries/bulk").status_code == 405
    assert api.get("time_entries/bulk.json").status_code == 405


def test_another_administrations_bulk_is_a_404(api, foreign):
    response = api.client.post(
        f"/api/v2/{foreign.administration.pk}/time_entries/bulk",
        {"time_entries": [item(0)]},
        format="json",
    )
    assert response.status_code == 404


def test_bulk_with_overlap_prevention_refuses_the_overlapping_items(api, administration):
    from administrations.services import administration_update

    administration_update(
        administration=administration, actor=None, changes={"prevent_overlapping_entries": True}
    )
    items = [item(0), item(0), item(1)]
    response = api.post("time_entries/bulk", {"time_entries": items})
    results = response.json()
    assert [r["status"] for r in results] == [201, 422, 201]
    assert results[1]["error"]["error"] == {
        "started_at": [f"overlaps time entry {results[0]['id']}"]
    }


def test_a_bulk_request_can_be_replayed(api):
    body = {"time_entries": [item(0), item(1)]}
    first = api.post("time_entries/bulk", body, HTTP_IDEMPOTENCY_KEY="bulk-1")
    again = api.post("time_entries/bulk", body, HTTP_IDEMPOTENCY_KEY="bulk-1")
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert TimeEntry.objects.count() == 2


# --- Expensicat --------------------------------------------------------------------------------


def ec_item(n: int, **extra) -> dict:
    start = T0 + timedelta(hours=n)
    return {
        "start_time": iso(start),
        "end_time": iso(start + timedelta(minutes=30)),
        "description": f"Item {n}",
        **extra,
    }


def test_expensicat_bulk_create_update_and_delete(owner, administration):
    ec = ec_api(owner)
    items = [ec_item(0), ec_item(1, description=""), ec_item(2, project_id="777")]
    response = ec.post("time-entries/bulk", {"items": items})
    assert response.status_code == 200, response.content
    results = response.json()["data"]
    assert [r["status"] for r in results] == [201, 422, 404]
    assert results[1]["error"] == {
        "error": {
            "code": "VALIDATION_ERROR",
            "message": "Validation failed",
            "details": {"description": ["can't be blank"]},
        }
    }
    assert results[0]["data"] == ec.get(f"time-entries/{results[0]['id']}").json()["data"]
    created = results[0]["id"]
    response = ec.patch(
        "time-entries/bulk",
        {"ids": [created, "999"], "changes": {"start_time": iso(T0 - timedelta(hours=1))}},
    )
    results = response.json()["data"]
    assert [r["status"] for r in results] == [200, 404]
    assert results[0]["data"]["start_time"].startswith("2026-03-02T07:00:00")
    # An end before the start is reported in this dialect's names.
    response = ec.patch(
        "time-entries/bulk",
        {"ids": [created], "changes": {"start_time": iso(T0 + timedelta(hours=5))}},
    )
    assert response.json()["data"][0]["error"]["error"]["details"] == {
        "end_time": ["cannot be before the start time"]
    }
    response = ec.delete(f"time-entries/bulk?ids={created}")
    assert [r["status"] for r in response.json()["data"]] == [204]
    assert not TimeEntry.objects.exists()


def test_expensicat_atomic_and_limits(owner):
    ec = ec_api(owner)
    response = ec.post(
        "time-entries/bulk", {"items": [ec_item(0), ec_item(1, description="")], "atomic": True}
    )
    assert [r["status"] for r in response.json()["data"]] == [424, 422]
    assert response.json()["data"][0]["error"]["error"]["code"] == "ROLLED_BACK"
    assert not TimeEntry.objects.exists()
    response = ec.post("time-entries/bulk", {"items": [ec_item(n) for n in range(101)]})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"
    assert ec.get("time-entries/bulk").status_code == 405


def test_a_bad_atomic_flag_is_a_400_wherever_it_is_given(owner):
    """Also in the body when the query string gives one too (the query string's wins)."""
    ec = ec_api(owner)
    for path, body in [
        ("time-entries/bulk?atomic=maybe", {"items": [ec_item(0)]}),
        ("time-entries/bulk", {"items": [ec_item(0)], "atomic": "maybe"}),
        ("time-entries/bulk?atomic=false", {"items": [ec_item(0)], "atomic": "maybe"}),
    ]:
        response = ec.post(path, body)
        assert response.status_code == 400, response.content
        assert response.json()["error"]["details"] == {"atomic": ["atomic must be true or false"]}
    assert not TimeEntry.objects.exists()
    response = ec.post("time-entries/bulk?atomic=false", {"items": [ec_item(0)], "atomic": True})
    assert [r["status"] for r in response.json()["data"]] == [201]


def test_expensicat_members_change_only_their_own_entries(administration, owner):
    someone = member(administration, role="member")
    theirs = make_entry(administration, owner, T0, 30)
    mine = make_entry(administration, someone, T0, 30)
    ec = ec_api(someone)
    response = ec.delete(f"time-entries/bulk?ids={theirs.pk},{mine.pk}")
    assert [r["status"] for r in response.json()["data"]] == [404, 204]
    assert list(TimeEntry.objects.all()) == [theirs]


def test_finished_entries_cost_the_same_statements_for_5_or_60_items(api, project, colleague):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements(count: int, offset: int) -> list[str]:
        items = [
            item(offset + n, project_id=str(project.pk), user_id=str(colleague.pk))
            for n in range(count)
        ]
        with CaptureQueriesContext(connection) as queries:
            response = api.post("time_entries/bulk", {"time_entries": items})
        assert [r["status"] for r in response.json()] == [201] * count
        return [q["sql"].split()[0] for q in queries.captured_queries]

    few, many = statements(5, 0), statements(60, 100)
    assert few == many
    assert TimeEntry.objects.count() == 65
    assert created_events() == 65
