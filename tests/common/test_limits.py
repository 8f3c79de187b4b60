"""The limits of README "Limits": a description (and a note) of at most 10,000 characters, a
request body of at most 1 MiB; each refused in the dialect's own error shape, with nothing
changed, and the OpenAPI says so."""

from datetime import UTC, datetime

import pytest

from common.exceptions import ValidationFailed
from common.limits import DESCRIPTION_MAX_LENGTH, REQUEST_BODY_MAX_BYTES
from notes.models import Event, Note
from notes.services import note_create
from tests.expensicat_support import assert_error, ec_api
from tests.timeentries.moneybird_support import make_entry, unprocessable
from timeentries.models import TimeEntry
from timeentries.services import time_entry_create, time_entry_update

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOO_LONG = ("too_long", "is too long (maximum is 10000 characters)")


def entry_body(description: str) -> dict:
    return {
        "time_entry": {
            "started_at": "2026-03-02T09:00:00Z",
            "ended_at": "2026-03-02T10:00:00Z",
            "description": description,
        }
    }


def state():
    return (
        sorted(TimeEntry.objects.values_list("pk", "description")),
        sorted(Note.objects.values_list("pk", "note")),
        Event.objects.count(),
    )


# --- description ------------------------------------------------------------------------------


def test_moneybird_create_takes_a_description_of_exactly_the_limit(api):
    response = api.post("time_entries", entry_body("x" * DESCRIPTION_MAX_LENGTH))
    assert response.status_code == 201, response.content
    assert len(response.json()["description"]) == DESCRIPTION_MAX_LENGTH


def test_moneybird_create_refuses_a_description_over_the_limit(api):
    response = api.post("time_entries", entry_body("x" * (DESCRIPTION_MAX_LENGTH + 1)))
    assert response.status_code == 422, response.content
    assert response.json() == unprocessable(description=TOO_LONG)
    assert not TimeEntry.objects.exists()


def test_moneybird_update_refuses_a_description_over_the_limit(api, owner, administration):
    entry = make_entry(administration, owner, START, description="Design")
    before = state()
    response = api.patch(
        f"time_entries/{entry.pk}",
        {"time_entry": {"description": "y" * (DESCRIPTION_MAX_LENGTH + 1)}},
    )
    assert response.status_code == 422, response.content
    assert response.json() == unprocessable(description=TOO_LONG)
    assert state() == before


@pytest.mark.parametrize("method", ["post", "patch"])
def test_expensicat_refuses_a_description_over_the_limit(method, owner, administration):
    ec = ec_api(owner)
    entry = make_entry(administration, owner, START, description="Design")
    before = state()
    long = "z" * (DESCRIPTION_MAX_LENGTH + 1)
    if method == "post":
        body = {"start_time": "2026-03-03T09:00:00Z", "end_time": "2026-03-03T10:00:00Z"}
        response = ec.post("time-entries", {**body, "description": long})
    else:
        response = ec.patch(f"time-entries/{entry.pk}", {"description": long})
    error = assert_error(response, 422, "VALIDATION_ERROR", field="description")
    assert error["details"] == {"description": [TOO_LONG[1]]}
    assert state() == before


def test_the_service_refuses_it_too_so_admin_and_commands_obey(administration, owner):
    """Stripped text counts: surrounding blanks don't make a description too long, more
    characters than the limit inside do."""
    long = "d" * (DESCRIPTION_MAX_LENGTH + 1)
    with pytest.raises(ValidationFailed) as refused:
        time_entry_create(
            administration=administration,
            actor=owner,
            started_at=START,
            ended_at=START.replace(hour=10),
            description=long,
        )
    assert refused.value.errors["description"][0].code == "too_long"
    entry = time_entry_create(
        administration=administration,
        actor=owner,
        started_at=START,
        ended_at=START.replace(hour=10),
        description="  " + "d" * DESCRIPTION_MAX_LENGTH + "  ",
    )
    with pytest.raises(ValidationFailed):
        time_entry_update(entry=entry, actor=owner, changes={"description": long})
    entry.refresh_from_db()
    assert len(entry.description) == DESCRIPTION_MAX_LENGTH


# --- notes ----------------------------------------------------------------------------------------


def test_a_note_over_the_limit_is_refused(api, owner, administration):
    entry = make_entry(administration, owner, START, description="Design")
    before = state()
    response = api.post(
        f"time_entries/{entry.pk}/notes", {"note": {"note": "n" * (DESCRIPTION_MAX_LENGTH + 1)}}
    )
    assert response.status_code == 422, response.content
    assert response.json() == unprocessable(note=TOO_LONG)
    assert state() == before
    with pytest.raises(ValidationFailed):
        note_create(
            administration=administration,
            actor=owner,
            entity=entry,
            note="n" * (DESCRIPTION_MAX_LENGTH + 1),
        )
    response = api.post(
        f"time_entries/{entry.pk}/notes", {"note": {"note": "n" * DESCRIPTION_MAX_LENGTH}}
    )
    assert response.status_code == 201, response.content


# --- request body -----------------------------------------------------------------------------


def oversized_body() -> str:
    # Valid JSON, so only its size can be the reason for refusing it.
    return '{"time_entry": {"description": "' + "x" * REQUEST_BODY_MAX_BYTES + '"}}'


def test_moneybird_refuses_a_body_over_one_mebibyte_with_413(api):
    before = state()
    response = api.client.post(
        api.url("time_entries.json"), oversized_body(), content_type="application/json"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": f"The request body is larger than {REQUEST_BODY_MAX_BYTES} bytes",
        "symbolic": {"request": "payload_too_large"},
    }
    assert state() == before


def test_expensicat_refuses_a_body_over_one_mebibyte_with_413(owner):
    ec = ec_api(owner)
    before = state()
    response = ec.client.post(
        ec.url("time-entries"), oversized_body(), content_type="application/json"
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert state() == before


def test_a_body_of_exactly_one_mebibyte_is_read(api):
    """At the limit the body is parsed (and refused for what it says, not for its size)."""
    head, tail = '{"time_entry": {"description": "', '"}}'
    body = head + "x" * (REQUEST_BODY_MAX_BYTES - len(head) - len(tail)) + tail
    assert len(body.encode()) == REQUEST_BODY_MAX_BYTES
    response = api.client.post(api.url("time_entries"), body, content_type="application/json")
    assert response.status_code == 422, response.content[:200]
    assert response.json()["details"]["description"] == [{"error": "too_long"}]


def test_a_body_over_the_limit_outside_the_api_is_413_too(client):
    response = client.post(
        "/auth/login", "x" * (REQUEST_BODY_MAX_BYTES + 1), content_type="text/plain"
    )
    assert response.status_code == 413


# --- the OpenAPI says it --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "component", "field"),
    [
        ("moneybird", "MoneybirdTimeEntryInputRequest", "description"),
        ("moneybird", "MoneybirdNoteInputRequest", "note"),
        ("expensicat", "ExpensicatTimeEntryCreateInputRequest", "description"),
        ("expensicat", "PatchedExpensicatTimeEntryUpdateInputRequest", "description"),
    ],
)
def test_the_openapi_shows_the_limits(client, dialect, component, field):
    schema = client.get(f"/api/schema/{dialect}/", HTTP_ACCEPT="application/json").json()
    prop = schema["components"]["schemas"][component]["properties"][field]
    assert prop["maxLength"] == DESCRIPTION_MAX_LENGTH
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "patch", "put"):
                assert "413" in operation["responses"], (method, path)
