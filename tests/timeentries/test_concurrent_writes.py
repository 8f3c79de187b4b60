"""Concurrent writes through a real multi-threaded server (Django's threaded WSGI server on a
free port, one database connection per request thread; on SQLite a file database, see
DATABASES' TEST NAME):
40 PATCHes of one entry at once and 10 timer starts at once give no 5xx, and every write lands
exactly once, with its event. On SQLite this needs WAL, a busy timeout and IMMEDIATE
transactions (config/settings.py); before them 13 of 40 PATCHes were 500s."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.core.servers.basehttp import ThreadedWSGIServer
from django.core.wsgi import get_wsgi_application
from django.db import connection, connections
from django.test.testcases import QuietWSGIRequestHandler

from notes.models import Event
from tests.factories import AdministrationFactory, TokenFactory, member
from tests.timeentries.moneybird_support import make_entry
from timeentries.models import TimeEntry

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Server(ThreadedWSGIServer):
    # Django's backlog of 10 resets some of 40 connections made at once before they are
    # accepted; a server behind a proxy has a larger one.
    request_queue_size = 128

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            # This thread's connection ends with it, so that the test database can be dropped.
            connections.close_all()


@pytest.fixture
def server_url():
    server = Server(("127.0.0.1", 0), QuietWSGIRequestHandler, allow_reuse_address=False)
    server.set_app(get_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def setup(server_url):
    administration = AdministrationFactory(name="Acme", time_zone="Europe/Amsterdam")
    owner = member(administration, role="owner", name="Ann")
    token = TokenFactory(user=owner)
    base = f"{server_url}/api/v2/{administration.pk}"
    headers = {"Authorization": f"Bearer {token.secret}"}
    return administration, owner, base, headers


def all_at_once(count: int, send) -> list[requests.Response]:
    """Run send(i) in `count` threads released together, each with its own HTTP session."""
    barrier = threading.Barrier(count)

    def one(i: int) -> requests.Response:
        with requests.Session() as session:
            barrier.wait()
            return send(session, i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_the_database_is_a_real_one():
    """The concurrency below means nothing on a shared in-memory SQLite connection."""
    if connection.vendor == "sqlite":
        assert "memory" not in str(connection.settings_dict["NAME"])
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"


def test_40_concurrent_patches_of_one_entry_all_land(setup):
    administration, owner, base, headers = setup
    entry = make_entry(administration, owner, START, description="start")
    events_before = Event.objects.filter(entity_id=entry.pk).count()

    def patch(session: requests.Session, i: int) -> requests.Response:
        body = {"time_entry": {"description": f"write {i}"}}
        return session.patch(f"{base}/time_entries/{entry.pk}.json", json=body, headers=headers)

    responses = all_at_once(40, patch)
    statuses = [r.status_code for r in responses]
    assert statuses == [200] * 40, [r.text[:200] for r in responses if r.status_code != 200]
    updated = Event.objects.filter(entity_id=entry.pk, action="time_entry_updated")
    assert Event.objects.filter(entity_id=entry.pk).count() == events_before + 40
    # Each write recorded its own change, once, and the last one is what the entry holds.
    written = sorted(event.data["description"][1] for event in updated)
    assert written == sorted(f"write {i}" for i in range(40))
    entry.refresh_from_db()
    last = updated.order_by("-id").first()
    assert entry.description == last.data["description"][1]
    # Each answer lists every write that committed before it (their events are read after the
    # entry's lock was granted), then its own: the writes took turns, so the answers hold 1 to
    # 40 update events, each ending with its own.
    seen = []
    for i, response in enumerate(responses):
        events = [e for e in response.json()["events"] if e["action"] == "time_entry_updated"]
        assert events[-1]["data"]["description"][1] == f"write {i}"
        seen.append(len(events))
    assert sorted(seen) == list(range(1, 41))


def test_10_concurrent_timer_starts_all_land_and_one_runs(setup):
    _, owner, base, headers = setup
    before = TimeEntry.objects.count()

    def start(session: requests.Session, i: int) -> requests.Response:
        started = (START + timedelta(minutes=i)).isoformat()
        body = {"time_entry": {"started_at": started, "description": f"timer {i}"}}
        return session.post(f"{base}/time_entries.json", json=body, headers=headers)

    responses = all_at_once(10, start)
    statuses = [r.status_code for r in responses]
    assert statuses == [201] * 10, [r.text[:200] for r in responses if r.status_code != 201]
    assert TimeEntry.objects.count() == before + 10
    assert TimeEntry.objects.filter(user=owner, ended_at__isnull=True).count() == 1
    created = Event.objects.filter(action="time_entry_created", subject_type="TimeEntry")
    assert created.count() == 10
    assert sorted(TimeEntry.objects.values_list("description", flat=True)) == sorted(
        f"timer {i}" for i in range(10)
    )


def test_concurrent_bulk_patches_in_opposite_orders_land_whole(setup):
    """Each bulk PATCH locks all its entries in one statement, in id order, whatever order the
    request lists them in: 8 at once over the same 20 entries never deadlock, and every batch
    lands whole, so the entries end with one batch's description."""
    administration, owner, base, headers = setup
    entries = [make_entry(administration, owner, START + timedelta(hours=n)) for n in range(20)]
    ids = [str(entry.pk) for entry in entries]

    def patch(session: requests.Session, i: int) -> requests.Response:
        body = {"ids": ids if i % 2 else ids[::-1], "time_entry": {"description": f"batch {i}"}}
        return session.patch(f"{base}/time_entries/bulk.json", json=body, headers=headers)

    responses = all_at_once(8, patch)
    assert [r.status_code for r in responses] == [200] * 8, [r.text[:200] for r in responses]
    for response in responses:
        assert [item["status"] for item in response.json()] == [200] * 20
    assert Event.objects.filter(action="time_entry_updated").count() == 8 * 20
    assert len(set(TimeEntry.objects.values_list("description", flat=True))) == 1


def test_concurrent_bulk_patches_into_one_slot_leave_one_there(setup):
    """With overlap prevention, 10 bulk PATCHes at once, each moving another entry of one
    person into the same hour: one lands, the other nine are told what they overlap."""
    from administrations.services import administration_update

    administration, owner, base, headers = setup
    administration_update(
        administration=administration, actor=None, changes={"prevent_overlapping_entries": True}
    )
    entries = [make_entry(administration, owner, START + timedelta(hours=n)) for n in range(10)]
    slot = {"started_at": "2026-03-01T09:00:00Z", "ended_at": "2026-03-01T10:00:00Z"}

    def patch(session: requests.Session, i: int) -> requests.Response:
        body = {"ids": [str(entries[i].pk)], "time_entry": slot}
        return session.patch(f"{base}/time_entries/bulk.json", json=body, headers=headers)

    responses = all_at_once(10, patch)
    assert [r.status_code for r in responses] == [200] * 10
    statuses = sorted(r.json()[0]["status"] for r in responses)
    assert statuses == [200] + [422] * 9
    assert TimeEntry.objects.filter(started_at=datetime(2026, 3, 1, 9, tzinfo=UTC)).count() == 1
