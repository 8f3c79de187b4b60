"""GET/POST /api/v2/{administration_id}/time_entries/synchronization: ids and versions, then the
records by id, in the shape Moneybird gives contacts."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import AdministrationFactory, TimeEntryFactory, member
from tests.timeentries.moneybird_support import make_entry
from timeentries import services

NOW = datetime(2026, 8, 21, 13, 48, 55, 543000, tzinfo=UTC)
VERSION = 1787320135  # NOW in epoch seconds


@pytest.fixture(autouse=True)
def frozen(freeze):
    freeze(NOW)


@pytest.fixture
def three(administration, owner):
    """Three finished entries: one from 2019 (outside the list's default period), two today."""
    return [
        make_entry(administration, owner, datetime(2019, 1, 2, 9, tzinfo=UTC)),
        make_entry(administration, owner, NOW - timedelta(hours=3)),
        make_entry(administration, owner, NOW - timedelta(hours=2)),
    ]


def test_versions_of_every_entry_by_id(api, administration, owner, three, freeze):
    running = make_entry(administration, owner, NOW - timedelta(hours=1), ended_at=None)
    TimeEntryFactory(administration=AdministrationFactory())  # another administration's
    response = api.get("time_entries/synchronization")
    assert response.status_code == 200
    # Every entry, not the list's default of this year's finished ones.
    expected = sorted([*three, running], key=lambda e: e.pk)
    assert response.json() == [{"id": str(e.pk), "version": VERSION} for e in expected]
    assert api.get("time_entries/synchronization.json").json() == response.json()

    # A change moves the version on; a deleted entry is simply absent.
    freeze(NOW + timedelta(seconds=65))
    services.time_entry_update(entry=three[1], actor=owner, changes={"description": "Renamed"})
    services.time_entry_delete(entry=three[2], actor=owner)
    assert api.get("time_entries/synchronization").json() == [
        {"id": str(three[0].pk), "version": VERSION},
        {"id": str(three[1].pk), "version": VERSION + 65},
        {"id": str(running.pk), "version": VERSION},
    ]
    assert api.get(f"time_entries/{three[1].pk}").json()["updated_at"] == "2026-08-21T13:50:00.543Z"


def test_versions_take_the_lists_filter(api, administration, owner, three):
    response = api.get("time_entries/synchronization", {"filter": "period:this_year"})
    assert [item["id"] for item in response.json()] == [str(three[1].pk), str(three[2].pk)]
    response = api.get("time_entries/synchronization", {"filter": "period:nonsense"})
    assert response.status_code == 400
    assert response.json()["symbolic"] == {"filter": "invalid"}


def test_fetch_by_ids_renders_each_as_its_get(api, administration, owner, three):
    foreign = TimeEntryFactory(administration=AdministrationFactory())
    gone = three[0]
    services.time_entry_delete(entry=gone, actor=owner)
    response = api.post(
        "time_entries/synchronization",
        {
            "ids": [
                str(three[2].pk),
                three[1].pk,
                str(three[2].pk),  # twice
                str(gone.pk),  # deleted
                str(foreign.pk),  # another administration's
                "abc",
                -1,
                None,
                True,
                {"id": three[1].pk},
            ]
        },
    )
    assert response.status_code == 200
    assert response.json() == [
        api.get(f"time_entries/{three[1].pk}").json(),
        api.get(f"time_entries/{three[2].pk}").json(),
    ]
    assert api.post("time_entries/synchronization.json", {"ids": [three[1].pk]}).json() == [
        api.get(f"time_entries/{three[1].pk}").json()
    ]


def test_fetch_leaves_out_the_invoice_without_the_sales_invoices_scope(
    make_api, administration, owner, three
):
    api = make_api(administration, owner, scopes=("time_entries",))
    (item,) = api.post("time_entries/synchronization", {"ids": [three[1].pk]}).json()
    assert "sales_invoice" not in item
    assert item == api.get(f"time_entries/{three[1].pk}").json()


def test_more_than_100_ids_is_400_not_a_silent_cut(api, three):
    ids = [str(three[1].pk)] * 100
    assert api.post("time_entries/synchronization", {"ids": ids}).status_code == 200
    response = api.post("time_entries/synchronization", {"ids": [*ids, str(three[2].pk)]})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Ids can hold at most 100 ids; ask for the rest in another request",
        "symbolic": {"ids": "max"},
    }


@pytest.mark.parametrize("body", [{}, {"ids": None}, {"ids": []}, {"ids": ""}, [], None])
def test_fetch_without_ids_is_400(api, body):
    url = api.url("time_entries/synchronization")
    response = api.client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "Ids is required", "symbolic": {"ids": "required"}}


@pytest.mark.parametrize("ids", ["123", 123, {"0": 123}])
def test_fetch_with_ids_that_are_not_a_list_is_400(api, ids):
    response = api.post("time_entries/synchronization", {"ids": ids})
    assert response.status_code == 400
    assert response.json() == {"error": "Ids is invalid", "symbolic": {"ids": "invalid"}}


def test_needs_the_time_entries_scope(make_api, administration, owner, three):
    api = make_api(administration, owner, scopes=("settings",))
    for response in (
        api.get("time_entries/synchronization"),
        api.post("time_entries/synchronization", {"ids": [three[1].pk]}),
    ):
        assert (response.status_code, response.json()) == (
            401,
            {"error": "No access to time_entries"},
        )


def test_another_administrations_credential_is_404(make_api, administration, three):
    stranger = member(AdministrationFactory(), role="owner")
    api = make_api(administration, stranger)
    for response in (
        api.get("time_entries/synchronization"),
        api.post("time_entries/synchronization", {"ids": [three[1].pk]}),
    ):
        assert response.status_code == 404
        assert response.json()["symbolic"] == {"administration_id": "not_found"}


def test_query_counts_do_not_grow_with_the_entries(
    api, administration, owner, django_assert_max_num_queries
):
    entries = [
        make_entry(administration, owner, NOW - timedelta(hours=2, minutes=i)) for i in range(100)
    ]
    with django_assert_max_num_queries(3):
        versions = api.get("time_entries/synchronization").json()
    assert len(versions) == 100
    with django_assert_max_num_queries(3):
        response = api.post("time_entries/synchronization", {"ids": [e.pk for e in entries]})
    assert len(response.json()) == 100
