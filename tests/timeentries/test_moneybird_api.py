"""The Moneybird time-entries API at the HTTP layer: every request/response example of the
reference (the older document and the newer OpenAPI, which wins where they differ), with whole
bodies asserted. Time is frozen at the OpenAPI examples' instant so timestamps are literal."""

from datetime import UTC, datetime, timedelta

import pytest

from notes.models import Event, Note
from tests.factories import NoteFactory, member
from tests.timeentries.moneybird_support import (
    NOT_FOUND,
    assert_note_shape,
    assert_time_entry_shape,
    call,
    expected_time_entry,
    expected_user,
    make_entry,
    not_found,
    routes,
    unprocessable,
)
from timeentries.models import TimeEntry

# The OpenAPI examples were recorded at this instant (15:48 in Amsterdam, summer time).
NOW = datetime(2026, 8, 21, 13, 48, 55, 543000, tzinfo=UTC)
START = datetime(2026, 8, 21, 13, 48, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def frozen(freeze):
    freeze(NOW)


@pytest.fixture
def three_entries(administration, owner, contact, project):
    """The data behind the OpenAPI's list examples: the owner's billable hour for a contact and
    project, a colleague's non-billable hour, another colleague's billable hour."""
    first = make_entry(
        administration,
        owner,
        START,
        description="Designing the website",
        contact_id=contact.pk,
        project_id=project.pk,
    )
    second = make_entry(
        administration,
        member(administration, name="Edwin Vlieg"),
        START,
        description="Designing the website",
        billable=False,
    )
    third = make_entry(
        administration,
        member(administration, name="Edwin Vlieg"),
        START,
        description="Designing the website",
    )
    return first, second, third


def created_event(entry, user) -> dict:
    """The time_entry_created event of an entry made while the clock stood at NOW."""
    return {
        "administration_id": str(entry.administration_id),
        "user_id": str(user.pk),
        "action": "time_entry_created",
        "link_entity_id": None,
        "link_entity_type": None,
        "data": {},
        "created_at": "2026-08-21T13:48:55.543Z",
        "updated_at": "2026-08-21T13:48:55.543Z",
    }


# --- list ---------------------------------------------------------------------------------------


def test_list_returns_all_time_entries_of_the_administration(
    api, administration, owner, contact, project, three_entries
):
    first, second, third = three_entries
    response = api.get("time_entries.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["X-Total-Count"] == "3"
    body = response.json()
    for item in body:
        assert_time_entry_shape(item)
    # Newest start first; entries that start together stay in creation order, as in Moneybird's
    # examples.
    assert body == [expected_time_entry(e) for e in (first, second, third)]
    assert body[0] == {
        "id": str(first.pk),
        "administration_id": str(administration.pk),
        "contact_id": str(contact.pk),
        "project_id": str(project.pk),
        "sales_invoice_id": None,
        "user_id": str(owner.pk),
        "started_at": "2026-08-21T13:48:00.000Z",
        "ended_at": "2026-08-21T14:48:00.000Z",
        "description": "Designing the website",
        "paused_duration": 0,
        "billable": True,
        "created_at": "2026-08-21T13:48:55.543Z",
        "updated_at": "2026-08-21T13:48:55.543Z",
        "contact": {
            "id": str(contact.pk),
            "firstname": None,
            "lastname": None,
            "company_name": "Foobar Holding B.V.",
        },
        "user": expected_user(owner),
        "project": {"id": str(project.pk), "name": "Project 1", "state": "active", "budget": 10},
        "sales_invoice": None,
        "events": [created_event(first, owner)],
        "notes": [],
    }
    assert body[1]["billable"] is False
    assert body[1]["user"]["name"] == "Edwin Vlieg"


def test_list_filtered_on_period(api, administration, owner, three_entries):
    make_entry(administration, owner, START - timedelta(days=31), description="Last July")
    response = api.get("time_entries.json", {"filter": "period:this_month"})
    assert response.status_code == 200
    assert response.json() == [expected_time_entry(e) for e in three_entries]


def test_list_filtered_on_search_query(api, administration, colleague, three_entries):
    custom = make_entry(administration, colleague, START, description="Custom description")
    response = api.get("time_entries.json", {"query": "Custom"})
    assert response.status_code == 200
    assert response.json() == [expected_time_entry(custom)]
    assert response["X-Total-Count"] == "1"


def test_list_filtered_on_state(api, three_entries):
    response = api.get("time_entries.json", {"filter": "state:non_billable"})
    assert response.status_code == 200
    assert response.json() == [expected_time_entry(three_entries[1])]


def test_list_paginated_page_1_and_page_2(api, three_entries):
    first, second, _ = three_entries
    page1 = api.get("time_entries.json", {"per_page": 1})
    page2 = api.get("time_entries.json", {"page": 2, "per_page": 1})
    assert (page1.status_code, page2.status_code) == (200, 200)
    assert page1.json() == [expected_time_entry(first)]
    assert page2.json() == [expected_time_entry(second)]
    assert page1["X-Total-Count"] == page2["X-Total-Count"] == "3"


def test_list_too_many_per_page(api, three_entries):
    response = api.get("time_entries.json", {"per_page": 101})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    # The OpenAPI's message, with the symbolic part the older document promises.
    assert response.json() == {
        "error": "per_page does not have a valid value",
        "symbolic": {"per_page": "max"},
    }


@pytest.mark.parametrize("key", ["contact_id", "user_id"])
def test_list_filter_on_unknown_id(api, three_entries, key):
    response = api.get("time_entries.json", {"filter": f"{key}:123"})
    assert response.status_code == 404
    assert response.json() == {"error": "record not found", "symbolic": {key: "not_found"}}


# --- get --------------------------------------------------------------------------------------


def test_get_by_id(api, administration, owner, contact, project, three_entries):
    first = three_entries[0]
    response = api.get(f"time_entries/{first.pk}.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert_time_entry_shape(body)
    assert body == {
        "id": str(first.pk),
        "administration_id": str(administration.pk),
        "contact_id": str(contact.pk),
        "project_id": str(project.pk),
        "sales_invoice_id": None,
        "user_id": str(owner.pk),
        "started_at": "2026-08-21T13:48:00.000Z",
        "ended_at": "2026-08-21T14:48:00.000Z",
        "description": "Designing the website",
        "paused_duration": 0,
        "billable": True,
        "created_at": "2026-08-21T13:48:55.543Z",
        "updated_at": "2026-08-21T13:48:55.543Z",
        "contact": {
            "id": str(contact.pk),
            "firstname": None,
            "lastname": None,
            "company_name": "Foobar Holding B.V.",
        },
        "user": expected_user(owner),
        "project": {"id": str(project.pk), "name": "Project 1", "state": "active", "budget": 10},
        "sales_invoice": None,
        "events": [created_event(first, owner)],
        "notes": [],
    }


@pytest.mark.parametrize("suffix", ["", ".json"])
def test_get_unknown_id_is_404(api, three_entries, suffix):
    response = api.get(f"time_entries/34123123{suffix}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND


# --- create -----------------------------------------------------------------------------------


def test_create_with_the_older_documents_body(api, administration, owner, contact, project):
    response = api.post(
        "time_entries",
        {
            "time_entry": {
                "started_at": "2021-01-08 10:00:00 UTC",
                "ended_at": "2021-01-08 11:00:00 UTC",
                "description": "Test",
                "contact_id": contact.pk,
                "project_id": project.pk,
                "user_id": owner.pk,
                "billable": False,
            }
        },
    )
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert_time_entry_shape(body)
    entry = TimeEntry.objects.get()
    assert body == {
        "id": str(entry.pk),
        "administration_id": str(administration.pk),
        "contact_id": str(contact.pk),
        "project_id": str(project.pk),
        "sales_invoice_id": None,
        "user_id": str(owner.pk),
        "started_at": "2021-01-08T10:00:00.000Z",
        "ended_at": "2021-01-08T11:00:00.000Z",
        "description": "Test",
        "paused_duration": 0,
        "billable": False,
        "created_at": "2026-08-21T13:48:55.543Z",
        "updated_at": "2026-08-21T13:48:55.543Z",
        "contact": {
            "id": str(contact.pk),
            "firstname": None,
            "lastname": None,
            "company_name": "Foobar Holding B.V.",
        },
        "user": expected_user(owner),
        "project": {"id": str(project.pk), "name": "Project 1", "state": "active", "budget": 10},
        "sales_invoice": None,
        "events": [created_event(entry, owner)],
        "notes": [],
    }
    assert (entry.user, entry.contact, entry.project, entry.billable) == (
        owner,
        contact,
        project,
        False,
    )


def test_create_with_the_openapi_body_and_string_ids(api, owner, contact, project):
    response = api.post(
        "time_entries.json",
        {
            "time_entry": {
                "started_at": "2026-08-21T13:48:00.000Z",
                "ended_at": "2026-08-21T14:48:00.000Z",
                "description": "Test",
                "contact_id": str(contact.pk),
                "project_id": str(project.pk),
                "user_id": str(owner.pk),
                "billable": False,
            }
        },
    )
    assert response.status_code == 201
    entry = TimeEntry.objects.get()
    assert response.json() == expected_time_entry(entry)
    assert response.json()["started_at"] == "2026-08-21T13:48:00.000Z"
    assert response.json()["ended_at"] == "2026-08-21T14:48:00.000Z"
    assert [e.action for e in Event.objects.filter(entity_id=entry.pk)] == ["time_entry_created"]


def test_create_with_invalid_details_is_422_and_writes_nothing(api, owner):
    response = api.post(
        "time_entries",
        {
            "time_entry": {
                "started_at": "2021-01-08 10:00:00 UTC",
                "ended_at": "2021-01-08 09:00:00 UTC",
                "user_id": owner.pk,
                "billable": False,
            }
        },
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {
            "ended_at": ["cannot be before the start time"],
            "description": ["can't be blank"],
        },
        "details": {
            "ended_at": [{"error": "ended_at_before_started_at"}],
            "description": [{"error": "blank"}],
        },
    }
    assert not TimeEntry.objects.exists()
    assert not Event.objects.filter(action="time_entry_created").exists()


# --- update -----------------------------------------------------------------------------------


def test_update_description(api, freeze, administration, owner, contact, project):
    entry = make_entry(
        administration,
        owner,
        START,
        description="Designing the website",
        contact_id=contact.pk,
        project_id=project.pk,
    )
    later = NOW + timedelta(milliseconds=186)
    freeze(later)
    response = api.patch(
        f"time_entries/{entry.pk}.json", {"time_entry": {"description": "Updated description"}}
    )
    assert response.status_code == 200
    body = response.json()
    assert_time_entry_shape(body)
    assert body == {
        "id": str(entry.pk),
        "administration_id": str(administration.pk),
        "contact_id": str(contact.pk),
        "project_id": str(project.pk),
        "sales_invoice_id": None,
        "user_id": str(owner.pk),
        "started_at": "2026-08-21T13:48:00.000Z",
        "ended_at": "2026-08-21T14:48:00.000Z",
        "description": "Updated description",
        "paused_duration": 0,
        "billable": True,
        "created_at": "2026-08-21T13:48:55.543Z",
        "updated_at": "2026-08-21T13:48:55.729Z",
        "contact": {
            "id": str(contact.pk),
            "firstname": None,
            "lastname": None,
            "company_name": "Foobar Holding B.V.",
        },
        "user": expected_user(owner),
        "project": {"id": str(project.pk), "name": "Project 1", "state": "active", "budget": 10},
        "sales_invoice": None,
        "events": [
            created_event(entry, owner),
            {
                "administration_id": str(administration.pk),
                "user_id": str(owner.pk),
                "action": "time_entry_updated",
                "link_entity_id": None,
                "link_entity_type": None,
                "data": {
                    "description": ["Designing the website", "Updated description"],
                    "updated_at": [
                        "2026-08-21T15:48:55.543+02:00",
                        "2026-08-21T15:48:55.729+02:00",
                    ],
                },
                "created_at": "2026-08-21T13:48:55.729Z",
                "updated_at": "2026-08-21T13:48:55.729Z",
            },
        ],
        "notes": [],
    }
    entry.refresh_from_db()
    assert entry.description == "Updated description"


def test_update_only_touches_the_given_attributes(api, administration, owner, contact):
    entry = make_entry(
        administration, owner, START, contact_id=contact.pk, billable=False, paused_duration=120
    )
    response = api.patch(f"time_entries/{entry.pk}", {"time_entry": {"ended_at": None}})
    assert response.status_code == 200
    body = response.json()
    assert (body["ended_at"], body["contact_id"], body["billable"], body["paused_duration"]) == (
        None,
        str(contact.pk),
        False,
        120,
    )


def test_update_with_blank_description_is_422_and_changes_nothing(api, administration, owner):
    entry = make_entry(administration, owner, START, description="Designing the website")
    response = api.patch(f"time_entries/{entry.pk}", {"time_entry": {"description": "  "}})
    assert response.status_code == 422
    assert response.json() == unprocessable(description=("blank", "can't be blank"))
    entry.refresh_from_db()
    assert entry.description == "Designing the website"
    assert not Event.objects.filter(action="time_entry_updated").exists()


def test_update_unknown_id_is_404(api):
    response = api.patch("time_entries/34123123", {"time_entry": {"description": "x"}})
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# --- delete -----------------------------------------------------------------------------------


def test_delete_then_get_is_404(api, administration, owner):
    entry = make_entry(administration, owner, START)
    NoteFactory(entity=entry, actor=owner)
    response = api.client.delete(
        api.url(f"time_entries/{entry.pk}.json"), "{}", content_type="application/json"
    )
    assert response.status_code == 204
    assert response.content == b""
    assert not TimeEntry.objects.filter(pk=entry.pk).exists()
    assert not Note.objects.exists()
    destroyed = Event.objects.get(entity_id=entry.pk, action="time_entry_destroyed")
    assert destroyed.user == owner
    again = api.get(f"time_entries/{entry.pk}")
    assert again.status_code == 404
    assert again.json() == NOT_FOUND
    assert api.delete(f"time_entries/{entry.pk}").status_code == 404


# --- stop and resume --------------------------------------------------------------------------


def test_stop_an_active_time_entry(api, freeze, administration, owner):
    entry = make_entry(
        administration, owner, START - HOUR, ended_at=None, description="Designing the website"
    )
    freeze(NOW + timedelta(milliseconds=17))
    response = api.patch(f"time_entries/{entry.pk}/stop.json")
    assert response.status_code == 200
    body = response.json()
    assert_time_entry_shape(body)
    assert body == {
        "id": str(entry.pk),
        "administration_id": str(administration.pk),
        "contact_id": None,
        "project_id": None,
        "sales_invoice_id": None,
        "user_id": str(owner.pk),
        "started_at": "2026-08-21T12:48:00.000Z",
        "ended_at": "2026-08-21T13:48:00.000Z",
        "description": "Designing the website",
        "paused_duration": 0,
        "billable": True,
        "created_at": "2026-08-21T13:48:55.543Z",
        "updated_at": "2026-08-21T13:48:55.560Z",
        "contact": None,
        "user": expected_user(owner),
        "project": None,
        "sales_invoice": None,
        "events": [
            created_event(entry, owner),
            {
                "administration_id": str(administration.pk),
                "user_id": str(owner.pk),
                "action": "time_entry_updated",
                "link_entity_id": None,
                "link_entity_type": None,
                "data": {
                    "ended_at": [None, "2026-08-21T15:48:00.000+02:00"],
                    "updated_at": [
                        "2026-08-21T15:48:55.543+02:00",
                        "2026-08-21T15:48:55.560+02:00",
                    ],
                },
                "created_at": "2026-08-21T13:48:55.560Z",
                "updated_at": "2026-08-21T13:48:55.560Z",
            },
        ],
        "notes": [],
    }


def test_stop_a_stopped_entry_returns_it_unchanged(api, administration, owner):
    entry = make_entry(administration, owner, START - HOUR)
    before = expected_time_entry(entry)
    response = api.patch(f"time_entries/{entry.pk}/stop")
    assert response.status_code == 200
    assert response.json() == before
    assert Event.objects.filter(entity_id=entry.pk).count() == 1


def test_stop_a_timer_that_started_less_than_a_minute_ago_counts_one_minute(
    api, administration, owner
):
    entry = make_entry(administration, owner, START, ended_at=None)
    response = api.patch(f"time_entries/{entry.pk}/stop")
    assert response.status_code == 200
    assert (response.json()["started_at"], response.json()["ended_at"]) == (
        "2026-08-21T13:48:00.000Z",
        "2026-08-21T13:49:00.000Z",
    )


def test_resume_a_stopped_timer(api, freeze, administration, owner):
    entry = make_entry(
        administration,
        owner,
        datetime(2026, 8, 21, 12, 48, tzinfo=UTC),
        description="Designing the website",
    )
    freeze(NOW + timedelta(milliseconds=20))
    response = api.patch(f"time_entries/{entry.pk}/resume.json")
    assert response.status_code == 200
    body = response.json()
    assert_time_entry_shape(body)
    assert body == {
        "id": str(entry.pk),
        "administration_id": str(administration.pk),
        "contact_id": None,
        "project_id": None,
        "sales_invoice_id": None,
        "user_id": str(owner.pk),
        "started_at": "2026-08-21T12:48:00.000Z",
        "ended_at": None,
        "description": "Designing the website",
        "paused_duration": 0,
        "billable": True,
        "created_at": "2026-08-21T13:48:55.543Z",
        "updated_at": "2026-08-21T13:48:55.563Z",
        "contact": None,
        "user": expected_user(owner),
        "project": None,
        "sales_invoice": None,
        "events": [
            created_event(entry, owner),
            {
                "administration_id": str(administration.pk),
                "user_id": str(owner.pk),
                "action": "time_entry_updated",
                "link_entity_id": None,
                "link_entity_type": None,
                "data": {
                    "ended_at": ["2026-08-21T15:48:00.000+02:00", None],
                    "updated_at": [
                        "2026-08-21T15:48:55.543+02:00",
                        "2026-08-21T15:48:55.563+02:00",
                    ],
                },
                "created_at": "2026-08-21T13:48:55.563Z",
                "updated_at": "2026-08-21T13:48:55.563Z",
            },
        ],
        "notes": [],
    }


def test_resume_stops_the_running_timer_of_the_same_person(api, administration, owner, colleague):
    stopped = make_entry(administration, owner, START - 2 * HOUR)
    running = make_entry(administration, owner, START - HOUR, ended_at=None)
    someone_else = make_entry(administration, colleague, START - HOUR, ended_at=None)
    response = api.patch(f"time_entries/{stopped.pk}/resume")
    assert response.status_code == 200
    assert response.json()["ended_at"] is None
    running.refresh_from_db()
    someone_else.refresh_from_db()
    assert running.ended_at == START
    assert someone_else.ended_at is None


def test_resume_a_timer_that_did_not_start_today_is_422(api, administration, owner):
    # 23:30 on the 20th in Amsterdam: yesterday, however little time ago.
    yesterday = datetime(2026, 8, 20, 21, 30, tzinfo=UTC)
    entry = make_entry(administration, owner, yesterday)
    response = api.patch(f"time_entries/{entry.pk}/resume")
    assert response.status_code == 422
    assert response.json() == {
        "error": {"base": ["Cannot resume timer"]},
        "details": {"base": [{"error": "cannot_resume_timer"}]},
    }
    entry.refresh_from_db()
    assert entry.ended_at == yesterday + HOUR
    assert Event.objects.filter(entity_id=entry.pk).count() == 1


def test_resume_a_timer_that_started_just_after_local_midnight(api, administration, owner):
    # 00:10 in Amsterdam is 22:10 UTC the day before: today, locally.
    entry = make_entry(administration, owner, datetime(2026, 8, 20, 22, 10, tzinfo=UTC))
    response = api.patch(f"time_entries/{entry.pk}/resume")
    assert response.status_code == 200
    assert response.json()["ended_at"] is None


@pytest.mark.parametrize("action", ["stop", "resume"])
def test_stop_and_resume_unknown_id_is_404(api, action):
    response = api.patch(f"time_entries/34123123/{action}.json")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# --- notes ------------------------------------------------------------------------------------


def test_create_a_note(api, administration, owner, colleague):
    entry = make_entry(administration, owner, START)
    response = api.post(
        f"time_entries/{entry.pk}/notes.json",
        {"note": {"note": "Text of the note", "assignee_id": colleague.pk, "todo": True}},
    )
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    note = Note.objects.get()
    body = response.json()
    assert_note_shape(body)
    assert body == {
        "id": str(note.pk),
        "administration_id": str(administration.pk),
        "entity_id": str(entry.pk),
        "entity_type": "TimeEntry",
        "user_id": str(owner.pk),
        "assignee_id": str(colleague.pk),
        "todo": True,
        "note": "Text of the note",
        "completed_at": None,
        "completed_by_id": None,
        "todo_type": None,
        "data": {},
        "created_at": "2026-08-21T13:48:55.543Z",
        "updated_at": "2026-08-21T13:48:55.543Z",
    }
    # The entry now carries the note, and an event that links to it.
    shown = api.get(f"time_entries/{entry.pk}").json()
    assert_time_entry_shape(shown)
    assert shown["notes"] == [body]
    assert shown["events"][-1] == {
        "administration_id": str(administration.pk),
        "user_id": str(owner.pk),
        "action": "note_created",
        "link_entity_id": str(note.pk),
        "link_entity_type": "Note",
        "data": {"note": "Text of the note", "todo": True},
        "created_at": "2026-08-21T13:48:55.543Z",
        "updated_at": "2026-08-21T13:48:55.543Z",
    }


def test_create_a_plain_note(api, administration, owner):
    entry = make_entry(administration, owner, START)
    response = api.post(f"time_entries/{entry.pk}/notes", {"note": {"note": "Just a note"}})
    assert response.status_code == 201
    body = response.json()
    assert (body["todo"], body["assignee_id"], body["note"]) == (False, None, "Just a note")


@pytest.mark.parametrize("text", ["", "   ", None])
def test_create_a_blank_note_is_422(api, administration, owner, text):
    entry = make_entry(administration, owner, START)
    response = api.post(f"time_entries/{entry.pk}/notes", {"note": {"note": text}})
    assert response.status_code == 422
    assert response.json() == unprocessable(note=("blank", "can't be blank"))
    assert not Note.objects.exists()
    assert not Event.objects.filter(action="note_created").exists()


def test_create_a_note_for_an_unknown_entry_is_404(api):
    response = api.post("time_entries/34123123/notes", {"note": {"note": "x"}})
    assert response.status_code == 404
    assert response.json() == not_found("time_entry_id")


def test_destroy_a_note(api, administration, owner):
    entry = make_entry(administration, owner, START)
    note = NoteFactory(entity=entry, actor=owner)
    response = api.client.delete(
        api.url(f"time_entries/{entry.pk}/notes/{note.pk}.json"),
        "{}",
        content_type="application/json",
    )
    assert response.status_code == 204
    assert response.content == b""
    assert not Note.objects.exists()
    shown = api.get(f"time_entries/{entry.pk}").json()
    assert shown["notes"] == []
    assert [e["action"] for e in shown["events"]] == [
        "time_entry_created",
        "note_created",
        "note_destroyed",
    ]
    again = api.delete(f"time_entries/{entry.pk}/notes/{note.pk}")
    assert again.status_code == 404
    assert again.json() == NOT_FOUND


def test_destroy_a_note_through_another_entry_is_404(api, administration, owner):
    entry = make_entry(administration, owner, START)
    other = make_entry(administration, owner, START - 2 * HOUR)
    note = NoteFactory(entity=entry, actor=owner)
    response = api.delete(f"time_entries/{other.pk}/notes/{note.pk}")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert Note.objects.filter(pk=note.pk).exists()


# --- routes -----------------------------------------------------------------------------------


STATUS = {
    "list": 200,
    "report": 200,
    "create": 201,
    "get": 200,
    "update": 200,
    "stop": 200,
    "resume": 200,
    "note_create": 201,
    "note_delete": 204,
    "delete": 204,
}


@pytest.mark.parametrize("suffix", ["", ".json"])
def test_every_route_works_with_and_without_json_suffix(api, administration, owner, suffix):
    entry = make_entry(administration, owner, START - HOUR)
    note = NoteFactory(entity=entry, actor=owner)
    for name, method, path, body in routes(entry.pk, note.pk):
        response = call(api, method, path + suffix, body)
        assert response.status_code == STATUS[name], (name, response.content)
        if STATUS[name] == 204:
            assert response.content == b""
        else:
            assert response["Content-Type"] == "application/json"
            assert isinstance(response.json(), list if name == "list" else dict)
    assert not TimeEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize("path", ["time_entries.xml", "time_entries.json.json", "time_entries/"])
def test_other_suffixes_are_json_404s(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == not_found("path")
