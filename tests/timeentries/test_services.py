from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError

from common.exceptions import NotFound, ValidationFailed
from notes.models import Event
from notes.services import events_insert
from tests.factories import AdministrationFactory, ContactFactory, TimeEntryFactory, member
from timeentries import services, writes
from timeentries.models import TimeEntry

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def test_create_rounds_down_and_records_event(administration, owner):
    entry = services.time_entry_create(
        administration=administration,
        actor=owner,
        started_at=T0 + timedelta(seconds=59, microseconds=5),
        ended_at=T0 + timedelta(minutes=30, seconds=42),
        paused_duration=119,
        description="  Design  ",
    )
    assert entry.started_at == T0
    assert entry.ended_at == T0 + timedelta(minutes=30)
    assert entry.paused_duration == 60
    assert entry.description == "Design"
    assert entry.user == owner
    event = Event.objects.get(entity_id=entry.pk)
    assert (event.action, event.subject_type, event.user, event.data) == (
        "time_entry_created",
        "TimeEntry",
        owner,
        {},
    )


def test_create_under_one_minute_after_rounding_is_rejected(administration, owner):
    with pytest.raises(ValidationFailed) as exc:
        services.time_entry_create(
            administration=administration,
            actor=owner,
            started_at=T0 + timedelta(seconds=30),
            ended_at=T0 + timedelta(seconds=59),
            description="x",
        )
    assert [e.code for e in exc.value.errors["ended_at"]] == ["too_short"]
    assert not TimeEntry.objects.exists()
    assert not Event.objects.filter(action="time_entry_created").exists()


def test_foreign_contact_is_not_found(administration, owner):
    other = AdministrationFactory()
    foreign = ContactFactory(administration=other)
    with pytest.raises(NotFound) as exc:
        services.time_entry_create(
            administration=administration,
            actor=owner,
            started_at=T0,
            ended_at=T0 + timedelta(hours=1),
            description="x",
            contact_id=foreign.pk,
        )
    assert exc.value.field == "contact_id"


def test_user_must_be_member(administration, owner):
    outsider = member(AdministrationFactory())
    with pytest.raises(NotFound) as exc:
        TimeEntryFactory(administration=administration, user_id=outsider.pk)
    assert exc.value.field == "user_id"


def test_update_records_old_and_new_values_in_local_time(administration, owner):
    entry = TimeEntryFactory(
        administration=administration, actor=owner, started_at=T0, ended_at=T0 + timedelta(hours=1)
    )
    services.time_entry_update(
        entry=entry,
        actor=owner,
        changes={"description": "New", "ended_at": T0 + timedelta(hours=2)},
    )
    event = Event.objects.filter(entity_id=entry.pk, action="time_entry_updated").get()
    assert event.data["description"] == [entry.description, "New"]
    # Amsterdam is UTC+1 in March before the switch to summer time.
    assert event.data["ended_at"] == [
        "2026-03-02T11:00:00.000+01:00",
        "2026-03-02T12:00:00.000+01:00",
    ]
    assert set(event.data) == {"description", "ended_at", "updated_at"}


def test_update_without_changes_records_nothing(administration, owner):
    entry = TimeEntryFactory(administration=administration, actor=owner)
    services.time_entry_update(entry=entry, actor=owner, changes={"description": entry.description})
    assert Event.objects.filter(action="time_entry_updated").count() == 0


def test_failed_event_write_rolls_back_the_change(administration, owner, monkeypatch):
    entry = TimeEntryFactory(administration=administration, actor=owner)

    def broken_save(self, *args, **kwargs):
        raise IntegrityError("event table unavailable")

    def broken_insert(events):
        # An event the database refuses (action is NOT NULL), inserted as the update inserts
        # its events: in the update's own statement on PostgreSQL, after it elsewhere.
        for event in events:
            event.action = None
        return events_insert(events)

    monkeypatch.setattr(Event, "save", broken_save)
    monkeypatch.setattr(writes, "events_insert", broken_insert)
    with pytest.raises(IntegrityError):
        services.time_entry_update(entry=entry, actor=owner, changes={"description": "changed"})
    entry.refresh_from_db()
    assert entry.description != "changed"
    with pytest.raises(IntegrityError):
        services.time_entry_delete(entry=entry, actor=owner)
    assert TimeEntry.objects.filter(pk=entry.pk).exists()


def test_starting_a_timer_stops_the_running_one(administration, owner):
    first = TimeEntryFactory(
        administration=administration, actor=owner, started_at=T0, ended_at=None
    )
    second = TimeEntryFactory(
        administration=administration,
        actor=owner,
        started_at=T0 + timedelta(hours=1),
        ended_at=None,
    )
    first.refresh_from_db()
    assert first.ended_at is not None
    assert second.ended_at is None
    stop = Event.objects.get(entity_id=first.pk, action="time_entry_updated")
    assert stop.data["ended_at"][0] is None


def test_one_running_timer_per_user_is_a_database_invariant(administration, owner):
    TimeEntryFactory(administration=administration, actor=owner, ended_at=None)
    with pytest.raises(IntegrityError):
        TimeEntry.objects.create(
            administration=administration, user=owner, started_at=T0, description="sneaky"
        )


def test_delete_keeps_an_event_with_what_was_deleted(administration, owner):
    entry = TimeEntryFactory(administration=administration, actor=owner, description="Gone")
    entry_id = entry.pk
    services.time_entry_delete(entry=entry, actor=owner)
    assert not TimeEntry.objects.filter(pk=entry_id).exists()
    event = Event.objects.get(entity_id=entry_id, action="time_entry_destroyed")
    assert event.data["description"] == "Gone"


def test_events_are_append_only(administration, owner):
    TimeEntryFactory(administration=administration, actor=owner)
    event = Event.objects.first()
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        Event.objects.update(action="x")
