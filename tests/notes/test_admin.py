"""Notes are deleted in the admin through note_delete; events cannot be touched at all."""

import pytest

from notes.models import Event, Note
from tests.factories import NoteFactory, TimeEntryFactory

NOTES = "/admin/notes/note/"
EVENTS = "/admin/notes/event/"


@pytest.fixture
def entry(administration, owner):
    return TimeEntryFactory(administration=administration, user_id=owner.pk)


def test_note_delete_goes_through_the_service(admin_client, admin_user, entry, owner):
    note = NoteFactory(entity=entry, actor=owner, note="Call back")
    response = admin_client.post(f"{NOTES}{note.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Note.objects.exists()
    event = Event.objects.get(action="note_destroyed")
    assert (event.user, event.subject_type, event.entity_id, event.link_entity_id) == (
        admin_user,
        "TimeEntry",
        entry.pk,
        note.pk,
    )
    assert event.data == {"note": "Call back", "todo": False}


def test_bulk_note_delete_writes_one_event_per_note(admin_client, admin_user, entry, owner):
    notes = [NoteFactory(entity=entry, actor=owner) for _ in range(3)]
    response = admin_client.post(
        NOTES,
        {"action": "delete_selected", "_selected_action": [n.pk for n in notes], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Note.objects.exists()
    destroyed = Event.objects.filter(action="note_destroyed")
    assert sorted(e.link_entity_id for e in destroyed) == sorted(n.pk for n in notes)
    assert {e.user for e in destroyed} == {admin_user}


def test_notes_are_not_added_or_changed_here(admin_client, entry, owner):
    note = NoteFactory(entity=entry, actor=owner, note="Keep")
    assert admin_client.get(f"{NOTES}add/").status_code == 403
    assert admin_client.get(f"{NOTES}{note.pk}/change/").status_code == 200  # view only
    assert admin_client.post(f"{NOTES}{note.pk}/change/", {"note": "Edited"}).status_code == 403
    note.refresh_from_db()
    assert note.note == "Keep"


def test_events_cannot_be_added_changed_or_deleted(admin_client, entry):
    event = Event.objects.get(action="time_entry_created")
    before = list(Event.objects.values())

    assert admin_client.get(f"{EVENTS}add/").status_code == 403
    assert admin_client.post(f"{EVENTS}add/", {"action": "forged"}).status_code == 403
    page = admin_client.get(f"{EVENTS}{event.pk}/change/")
    assert page.status_code == 200  # view only
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.post(f"{EVENTS}{event.pk}/change/", {"action": "x"}).status_code == 403
    assert admin_client.get(f"{EVENTS}{event.pk}/delete/").status_code == 403
    assert admin_client.post(f"{EVENTS}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    changelist = admin_client.get(EVENTS)
    assert "delete_selected" not in changelist.content.decode()
    admin_client.post(
        EVENTS, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert list(Event.objects.values()) == before


def test_event_changelist_filters(admin_client, entry, owner):
    NoteFactory(entity=entry, actor=owner)
    response = admin_client.get(EVENTS, {"action": "note_created", "subject_type": "TimeEntry"})
    assert [e.action for e in response.context["cl"].result_list] == ["note_created"]
    response = admin_client.get(EVENTS, {"q": str(entry.pk)})
    assert response.context["cl"].result_count == 2
