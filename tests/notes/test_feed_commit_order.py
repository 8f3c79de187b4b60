"""The change feed never skips an event that commits late: ids are given before commit, so a
reader following ids would pass over an event whose transaction commits after a later one's."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from administrations.models import Administration
from notes.models import Event
from notes.services import events_record_bulk
from tests.factories import TimeEntryFactory
from tests.notes.test_feed_moneybird import feed, follow, next_url
from timeentries import services as time_entry_services

pytestmark = pytest.mark.django_db(transaction=True)

# Bounds a wait for the other thread, so a broken test fails instead of hanging; no test
# asserts how long anything takes.
WAIT_LIMIT_SECONDS = 60


def test_an_event_with_a_lower_id_committed_later_comes_after_the_cursor(
    api, administration, owner
):
    entry = TimeEntryFactory(administration=administration, actor=owner)
    served = feed(api).json()
    resume = next_url(feed(api, {"per_page": len(served)}))
    # A transaction that made its event's id before the ones already served, and commits now.
    lowest = min(int(item["id"]) for item in served)
    with transaction.atomic():
        late = Event(
            id=lowest - 1,
            administration=administration,
            user=owner,
            action="time_entry_updated",
            subject_type=entry.entity_type,
            entity_id=entry.pk,
            data={"billable": [True, False]},
        )
        late.save(force_insert=True)
    page = follow(api, resume).json()
    assert [(item["id"], item["action"]) for item in page] == [(str(late.pk), "time_entry_updated")]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite writers take turns: no two write at once"
)
def test_a_later_commit_waits_for_an_earlier_transaction_still_open(api, administration, owner):
    resume = next_url(feed(api, {"per_page": 100}))
    written, release = threading.Event(), threading.Event()
    outcome: dict = {}
    started = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def slow_writer() -> None:
        """Writes an entry and its event on a connection of its own, then holds the
        transaction open until told to commit."""
        try:
            with transaction.atomic():
                entry = time_entry_services.time_entry_create(
                    administration=Administration.objects.get(pk=administration.pk),
                    actor=owner,
                    user_id=owner.pk,
                    started_at=started,
                    ended_at=started + timedelta(hours=1),
                    description="Slow",
                )
                outcome["slow"] = entry.pk
                written.set()
                outcome["released"] = release.wait(WAIT_LIMIT_SECONDS)
        except Exception as exc:  # reported by the test below
            outcome["error"] = exc
        finally:
            written.set()
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert written.wait(WAIT_LIMIT_SECONDS) and "error" not in outcome
        fast = TimeEntryFactory(administration=administration, actor=owner, description="Fast")
        assert Event.objects.filter(entity_id=fast.pk).exists()  # committed
        # The fast entry's event has committed, but a transaction that began writing before it
        # is still open: the feed holds it back (an id > cursor feed would serve it now and
        # pass over the slow one's lower id for good).
        withheld = follow(api, resume, settle=False)
        assert withheld.status_code == 200
        assert withheld.json() == []
        assert withheld.headers.get("Link") is None
    finally:
        release.set()
        thread.join(WAIT_LIMIT_SECONDS)
    assert outcome.get("released") and "error" not in outcome

    slow_event = Event.objects.get(entity_id=outcome["slow"])
    fast_event = Event.objects.get(entity_id=fast.pk)
    assert slow_event.pk < fast_event.pk
    assert slow_event.xact < fast_event.xact
    # Now both are served, in commit-safe order, from the cursor the client already held.
    page = follow(api, resume).json()
    assert [(item["entity_id"], item["action"]) for item in page] == [
        (str(outcome["slow"]), "time_entry_created"),
        (str(fast.pk), "time_entry_created"),
    ]


def test_events_recorded_in_bulk_come_after_the_cursor_in_id_order(api, administration, owner):
    entries = [TimeEntryFactory(administration=administration, actor=owner) for _ in range(3)]
    resume = next_url(feed(api, {"per_page": 100}))
    with transaction.atomic():
        count = events_record_bulk(
            administration=administration,
            actor=owner,
            action="time_entry_updated",
            entries=[(entry, {"n": n}) for n, entry in enumerate(entries)],
        )
    assert count == 3
    page = follow(api, resume).json()
    assert [(item["entity_id"], item["data"]) for item in page] == [
        (str(entry.pk), {"n": n}) for n, entry in enumerate(entries)
    ]
    assert [item["id"] for item in page] == sorted(item["id"] for item in page)


def test_each_event_records_where_it_stands_in_commit_order(administration, owner):
    with transaction.atomic():
        first = TimeEntryFactory(administration=administration, actor=owner)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_xact_id()::text::bigint")
                (transaction_id,) = cursor.fetchone()
    second = TimeEntryFactory(administration=administration, actor=owner)
    before = Event.objects.get(entity_id=first.pk).xact
    after = Event.objects.get(entity_id=second.pk).xact
    assert before < after
    if connection.vendor == "postgresql":
        assert before == transaction_id
    else:  # the administration's next number
        assert after == before + 1
        assert before == Event.objects.filter(administration=administration).count() - 1
