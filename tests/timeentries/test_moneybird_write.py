"""Writes through the Moneybird time-entries API: how timestamps and durations are read and
rounded, and that bad input is a 400 or a 422 in Moneybird's shape, never a 500."""

import json
from datetime import UTC, datetime

import pytest

from notes.models import Event, Note
from tests.timeentries.moneybird_support import (
    assert_time_entry_shape,
    make_entry,
    not_found,
    unprocessable,
)
from timeentries import services
from timeentries.models import TimeEntry

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam (winter time)


def create(api, **attributes):
    body = {"description": "Work", **attributes}
    return api.post("time_entries", {"time_entry": body})


# --- timestamps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("started_at", "ended_at", "expected"),
    [
        # An offset is honoured; seconds are rounded down.
        (
            "2026-03-02T10:00:30+01:00",
            "2026-03-02T11:15:59+01:00",
            ("2026-03-02T09:00:00.000Z", "2026-03-02T10:15:00.000Z"),
        ),
        (
            "2026-03-02T10:00:00-05:00",
            "2026-03-02T10:30:00-05:00",
            ("2026-03-02T15:00:00.000Z", "2026-03-02T15:30:00.000Z"),
        ),
        (
            "2026-03-02T10:00:59.999Z",
            "2026-03-02T11:00:00.000Z",
            ("2026-03-02T10:00:00.000Z", "2026-03-02T11:00:00.000Z"),
        ),
        # The older document's notation.
        (
            "2021-01-08 10:00:00 UTC",
            "2021-01-08 11:00:00 UTC",
            ("2021-01-08T10:00:00.000Z", "2021-01-08T11:00:00.000Z"),
        ),
        # No offset: the administration's time zone, winter and summer.
        (
            "2026-03-02T10:00:00",
            "2026-03-02 12:30",
            ("2026-03-02T09:00:00.000Z", "2026-03-02T11:30:00.000Z"),
        ),
        (
            "2026-07-01T10:00:45",
            "2026-07-01T11:00:00",
            ("2026-07-01T08:00:00.000Z", "2026-07-01T09:00:00.000Z"),
        ),
        # Across the switch to summer time (29 March 2026, 02:00 -> 03:00).
        (
            "2026-03-29T01:30:00",
            "2026-03-29T03:30:00",
            ("2026-03-29T00:30:00.000Z", "2026-03-29T01:30:00.000Z"),
        ),
    ],
)
def test_create_reads_and_rounds_timestamps(api, started_at, ended_at, expected):
    response = create(api, started_at=started_at, ended_at=ended_at)
    assert response.status_code == 201, response.content
    body = response.json()
    assert_time_entry_shape(body)
    assert (body["started_at"], body["ended_at"]) == expected
    entry = TimeEntry.objects.get()
    assert (entry.started_at.second, entry.started_at.microsecond) == (0, 0)
    assert (entry.ended_at.second, entry.ended_at.microsecond) == (0, 0)


@pytest.mark.parametrize(
    ("started_at", "ended_at"),
    [
        ("2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z"),
        ("2026-03-02T10:00:00Z", "2026-03-02T10:00:59Z"),
        ("2026-03-02T10:00:30Z", "2026-03-02T10:00:59Z"),
    ],
)
def test_create_shorter_than_a_minute_after_rounding_is_422(api, started_at, ended_at):
    response = create(api, started_at=started_at, ended_at=ended_at)
    assert response.status_code == 422
    assert response.json() == unprocessable(
        ended_at=("too_short", "must be at least one minute after the start time")
    )
    assert not TimeEntry.objects.exists()


def test_create_one_minute_after_rounding_is_enough(api):
    response = create(api, started_at="2026-03-02T10:00:59Z", ended_at="2026-03-02T10:01:00Z")
    assert response.status_code == 201
    body = response.json()
    assert (body["started_at"], body["ended_at"]) == (
        "2026-03-02T10:00:00.000Z",
        "2026-03-02T10:01:00.000Z",
    )


@pytest.mark.parametrize(
    ("paused", "stored"), [(0, 0), (59, 0), (60, 60), (119, 60), (3599, 3540), ("120", 120)]
)
def test_paused_duration_is_rounded_down_to_minutes(api, paused, stored):
    response = create(
        api,
        started_at="2026-03-02T10:00:00Z",
        ended_at="2026-03-02T11:00:00Z",
        paused_duration=paused,
    )
    assert response.status_code == 201
    assert response.json()["paused_duration"] == stored
    assert TimeEntry.objects.get().paused_duration == stored


@pytest.mark.parametrize(
    ("paused", "code", "message"),
    [
        (3600, "less_than", "must be less than the duration of the entry"),
        (-60, "greater_than_or_equal_to", "must be greater than or equal to 0"),
    ],
)
def test_paused_duration_out_of_range_is_422(api, paused, code, message):
    response = create(
        api,
        started_at="2026-03-02T10:00:00Z",
        ended_at="2026-03-02T11:00:00Z",
        paused_duration=paused,
    )
    assert response.status_code == 422
    assert response.json() == unprocessable(paused_duration=(code, message))


def test_create_without_start_and_description_reports_both(api):
    response = api.post("time_entries", {"time_entry": {"ended_at": "2026-03-02T11:00:00Z"}})
    assert response.status_code == 422
    assert response.json() == unprocessable(
        started_at=("blank", "can't be blank"), description=("blank", "can't be blank")
    )


def test_create_defaults(api, owner):
    """user_id defaults to the token's user, billable to true, paused_duration to 0."""
    response = create(api, started_at="2026-03-02T10:00:00Z", ended_at="2026-03-02T11:00:00Z")
    assert response.status_code == 201
    body = response.json()
    assert (body["user_id"], body["billable"], body["paused_duration"]) == (str(owner.pk), True, 0)
    assert (body["contact"], body["project"], body["sales_invoice"]) == (None, None, None)


def test_create_for_a_colleague(api, owner, colleague):
    response = create(
        api,
        started_at="2026-03-02T10:00:00Z",
        ended_at="2026-03-02T11:00:00Z",
        user_id=str(colleague.pk),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user_id"] == body["user"]["id"] == str(colleague.pk)
    assert body["user"]["name"] == "Edwin Vlieg"
    # The event names who made the entry, not whom it is for.
    assert body["events"][0]["user_id"] == str(owner.pk)


def test_create_a_running_timer_stops_the_running_one(api, administration, owner):
    running = make_entry(administration, owner, T0, ended_at=None)
    response = create(api, started_at="2026-03-02T11:00:00Z")
    assert response.status_code == 201
    assert response.json()["ended_at"] is None
    running.refresh_from_db()
    assert running.ended_at is not None
    assert TimeEntry.objects.filter(ended_at__isnull=True).count() == 1


def test_two_timers_started_at_once_both_land_and_the_later_one_runs(
    api, administration, owner, monkeypatch, freeze
):
    # The second start did not see the first (it was not committed yet), so it stopped nothing;
    # the one-running-timer index refuses it, and it stops the first as any start does, then
    # lands (tests/timeentries/test_concurrent_writes.py does it with real concurrency).
    freeze(T0.replace(hour=12))
    running = make_entry(administration, owner, T0, ended_at=None)
    monkeypatch.setattr(services, "_stop_running_timer", lambda **kwargs: None)
    events = Event.objects.count()
    response = create(api, started_at="2026-03-02T11:00:00Z")
    assert response.status_code == 201, response.content
    started = TimeEntry.objects.get(pk=response.json()["id"])
    assert list(TimeEntry.objects.filter(ended_at__isnull=True)) == [started]
    running.refresh_from_db()
    assert running.ended_at == T0.replace(hour=12)
    # Its created event, and the stopped timer's updated event.
    assert Event.objects.count() == events + 2
    assert Event.objects.filter(entity_id=running.pk, action="time_entry_updated").count() == 1
    # A resume meets the same index, and wins the same way.
    stopped = make_entry(administration, owner, T0.replace(hour=7))
    response = api.patch(f"time_entries/{stopped.pk}/resume")
    assert response.status_code == 200, response.content
    assert TimeEntry.objects.filter(ended_at__isnull=True).count() == 1
    started.refresh_from_db()
    assert started.ended_at is not None


@pytest.mark.parametrize(
    ("billable", "stored"), [(True, True), (False, False), ("true", True), ("false", False)]
)
def test_billable_as_boolean_or_string(api, billable, stored):
    response = create(
        api, started_at="2026-03-02T10:00:00Z", ended_at="2026-03-02T11:00:00Z", billable=billable
    )
    assert response.status_code == 201
    assert response.json()["billable"] is stored


def test_update_reads_offsets_and_records_local_times(api, administration, owner):
    entry = make_entry(administration, owner, T0, description="Work")
    response = api.patch(
        f"time_entries/{entry.pk}",
        {"time_entry": {"started_at": "2026-03-02T09:30:45+01:00", "paused_duration": 90}},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["started_at"], body["ended_at"], body["paused_duration"]) == (
        "2026-03-02T08:30:00.000Z",
        "2026-03-02T10:00:00.000Z",
        60,
    )
    event = body["events"][-1]
    assert event["action"] == "time_entry_updated"
    assert event["data"]["started_at"] == [
        "2026-03-02T10:00:00.000+01:00",
        "2026-03-02T09:30:00.000+01:00",
    ]
    assert event["data"]["paused_duration"] == [0, 60]
    assert set(event["data"]) == {"started_at", "paused_duration", "updated_at"}


def test_update_to_less_than_a_minute_is_422_and_changes_nothing(api, administration, owner):
    entry = make_entry(administration, owner, T0)
    response = api.patch(
        f"time_entries/{entry.pk}", {"time_entry": {"ended_at": "2026-03-02T09:00:40Z"}}
    )
    assert response.status_code == 422
    assert response.json() == unprocessable(
        ended_at=("too_short", "must be at least one minute after the start time")
    )
    entry.refresh_from_db()
    assert entry.ended_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_update_end_before_start_is_422(api, administration, owner):
    entry = make_entry(administration, owner, T0)
    response = api.patch(
        f"time_entries/{entry.pk}", {"time_entry": {"started_at": "2026-03-02T12:00:00+01:00"}}
    )
    assert response.status_code == 422
    assert response.json() == unprocessable(
        ended_at=("ended_at_before_started_at", "cannot be before the start time")
    )


def test_update_without_changes_records_no_event(api, administration, owner):
    entry = make_entry(administration, owner, T0, description="Same")
    response = api.patch(f"time_entries/{entry.pk}", {"time_entry": {"description": "Same"}})
    assert response.status_code == 200
    assert [e["action"] for e in response.json()["events"]] == ["time_entry_created"]


def test_update_contact_and_project_records_their_ids(api, administration, owner, contact, project):
    entry = make_entry(administration, owner, T0)
    response = api.patch(
        f"time_entries/{entry.pk}",
        {"time_entry": {"contact_id": contact.pk, "project_id": str(project.pk)}},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["contact_id"], body["project_id"]) == (str(contact.pk), str(project.pk))
    assert body["contact"]["company_name"] == "Foobar Holding B.V."
    assert body["events"][-1]["data"]["contact_id"] == [None, str(contact.pk)]
    assert body["events"][-1]["data"]["project_id"] == [None, str(project.pk)]
    cleared = api.patch(f"time_entries/{entry.pk}", {"time_entry": {"contact_id": None}})
    assert (cleared.json()["contact_id"], cleared.json()["contact"]) == (None, None)
    assert cleared.json()["project_id"] == str(project.pk)


def test_event_data_times_are_local(api, administration, owner):
    summer = make_entry(administration, owner, datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
    response = api.patch(f"time_entries/{summer.pk}", {"time_entry": {"ended_at": None}})
    assert response.status_code == 200
    assert response.json()["events"][-1]["data"]["ended_at"] == [
        "2026-07-01T11:00:00.000+02:00",
        None,
    ]


# --- malformed requests ---------------------------------------------------------------------------


@pytest.fixture
def entry(administration, owner):
    return make_entry(administration, owner, T0, description="Untouched")


def unchanged(entry) -> bool:
    fresh = TimeEntry.objects.get(pk=entry.pk)
    return (
        fresh.description == "Untouched"
        and fresh.updated_at == entry.updated_at
        and not Event.objects.filter(entity_id=entry.pk).exclude(action="time_entry_created")
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "time_entries"),
        ("patch", "time_entries/{id}"),
        ("post", "time_entries/{id}/notes"),
    ],
)
@pytest.mark.parametrize("raw", ["{bad", '{"time_entry": {"description": "x",}}', "nul"])
def test_invalid_json_is_400(api, entry, method, path, raw):
    url = api.url(path.format(id=entry.pk))
    response = getattr(api.client, method)(url, raw, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"].startswith("Invalid request body: JSON parse error")
    assert unchanged(entry)
    assert TimeEntry.objects.count() == 1
    assert not Note.objects.exists()


MISSING_TIME_ENTRY = {
    "error": "param is missing or the value is empty: time_entry",
    "symbolic": {"time_entry": "missing"},
}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"description": "Unwrapped", "started_at": "2026-03-02T10:00:00Z"},
        {"time_entry": None},
        {"time_entry": "Work"},
        {"time_entry": ["Work"]},
        {"timeentry": {"description": "Work"}},
        [],
        [{"time_entry": {"description": "Work"}}],
        "time_entry",
        None,
    ],
)
@pytest.mark.parametrize("method", ["post", "patch"])
def test_missing_time_entry_wrapper_is_400(api, entry, body, method):
    path = "time_entries" if method == "post" else f"time_entries/{entry.pk}"
    url = api.url(path)
    response = getattr(api.client, method)(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json() == MISSING_TIME_ENTRY
    assert unchanged(entry)
    assert TimeEntry.objects.count() == 1


def test_empty_body_is_400(api, entry):
    response = api.client.post(api.url("time_entries"), "", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == MISSING_TIME_ENTRY
    response = api.client.patch(api.url(f"time_entries/{entry.pk}"))
    assert response.status_code == 400
    assert response.json() == MISSING_TIME_ENTRY


@pytest.mark.parametrize("body", [{}, {"note": None}, {"note": "Text"}, {"text": "x"}])
def test_missing_note_wrapper_is_400(api, entry, body):
    response = api.post(f"time_entries/{entry.pk}/notes", body)
    assert response.status_code == 400
    assert response.json() == {
        "error": "param is missing or the value is empty: note",
        "symbolic": {"note": "missing"},
    }
    assert not Note.objects.exists()


def test_form_encoded_body_is_rejected_not_crashed(api, entry):
    response = api.client.post(
        api.url("time_entries"),
        "time_entry[description]=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert set(response.json()) == {"error"}


VALID = {
    "started_at": "2026-03-02T10:00:00Z",
    "ended_at": "2026-03-02T11:00:00Z",
    "description": "Work",
}

WRONG_TYPES = [
    ("billable", "maybe", "invalid", "Must be a valid boolean."),
    ("billable", None, "null", "This field may not be null."),
    ("billable", [], "invalid", "Must be a valid boolean."),
    ("contact_id", "abc", "invalid", "is not a valid id"),
    ("contact_id", -1, "invalid", "is not a valid id"),
    ("contact_id", 1.5, "invalid", "is not a valid id"),
    ("contact_id", True, "invalid", "is not a valid id"),
    ("contact_id", 2**64, "invalid", "is not a valid id"),
    ("contact_id", "99999999999999999999", "invalid", "is not a valid id"),
    ("project_id", {"id": 1}, "invalid", "is not a valid id"),
    ("user_id", "\uff11\uff12\uff13", "invalid", "is not a valid id"),  # full-width digits
    ("started_at", 5, "invalid", "is not a valid date and time"),
    ("started_at", "yesterday", "invalid", "is not a valid date and time"),
    ("started_at", "2026-02-30T10:00:00Z", "invalid", "is not a valid date and time"),
    ("started_at", "0001-01-01T00:00:00+01:00", "invalid", "is not a valid date and time"),
    ("started_at", "9999-12-31T23:59:59-01:00", "invalid", "is not a valid date and time"),
    ("ended_at", ["2026-03-02T11:00:00Z"], "invalid", "is not a valid date and time"),
    ("ended_at", "2026-03-02T11:00:00+25:00", "invalid", "is not a valid date and time"),
    ("paused_duration", "abc", "invalid", "A valid integer is required."),
    ("paused_duration", 59.5, "invalid", "A valid integer is required."),
    ("paused_duration", 1e300, "invalid", "A valid integer is required."),
    ("description", {"text": "x"}, "invalid", "Not a valid string."),
]


@pytest.mark.parametrize(("field", "value", "code", "message"), WRONG_TYPES)
def test_create_with_wrong_types_is_422(api, entry, field, value, code, message):
    response = api.post("time_entries", {"time_entry": {**VALID, field: value}})
    assert response.status_code == 422, response.content
    assert response.json() == unprocessable(**{field: (code, message)})
    assert TimeEntry.objects.count() == 1


@pytest.mark.parametrize(("field", "value", "code", "message"), WRONG_TYPES)
def test_update_with_wrong_types_is_422(api, entry, field, value, code, message):
    response = api.patch(f"time_entries/{entry.pk}", {"time_entry": {field: value}})
    assert response.status_code == 422, response.content
    assert response.json() == unprocessable(**{field: (code, message)})
    assert unchanged(entry)


def test_several_wrong_types_are_reported_together(api):
    response = api.post(
        "time_entries",
        {"time_entry": {**VALID, "billable": "maybe", "contact_id": "abc", "started_at": 5}},
    )
    assert response.status_code == 422
    assert response.json() == unprocessable(
        started_at=("invalid", "is not a valid date and time"),
        contact_id=("invalid", "is not a valid id"),
        billable=("invalid", "Must be a valid boolean."),
    )


def test_update_of_an_unknown_attribute_is_ignored(api, entry):
    response = api.patch(
        f"time_entries/{entry.pk}", {"time_entry": {"administration_id": 1, "id": 5}}
    )
    assert response.status_code == 200
    assert response.json()["id"] == str(entry.pk)
    assert unchanged(entry)


@pytest.mark.parametrize(
    ("field", "value", "code", "message"),
    [
        ("todo", "maybe", "invalid", "Must be a valid boolean."),
        ("assignee_id", "abc", "invalid", "is not a valid id"),
        ("note", ["x"], "invalid", "Not a valid string."),
    ],
)
def test_note_with_wrong_types_is_422(api, entry, field, value, code, message):
    response = api.post(f"time_entries/{entry.pk}/notes", {"note": {"note": "Text", field: value}})
    assert response.status_code == 422
    assert response.json() == unprocessable(**{field: (code, message)})
    assert not Note.objects.exists()


@pytest.mark.parametrize("value", [123, "123"])
def test_note_assigned_to_an_unknown_user_is_404(api, entry, value):
    response = api.post(
        f"time_entries/{entry.pk}/notes", {"note": {"note": "Text", "assignee_id": value}}
    )
    assert response.status_code == 404
    assert response.json() == not_found("assignee_id")
    assert not Note.objects.exists()
