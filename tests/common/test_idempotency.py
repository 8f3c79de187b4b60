"""Idempotency-Key on the writes of both dialects (draft-ietf-httpapi-idempotency-key-header)."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections, transaction
from django.utils import timezone

from idempotency.models import IdempotencyKey
from notes.models import Event
from tests.conftest import Api
from tests.expensicat_support import assert_error, ec_api
from tests.factories import AdministrationFactory, TokenFactory, member
from timeentries import services
from timeentries.models import TimeEntry

ENTRY = {
    "time_entry": {
        "started_at": "2026-03-02T09:00:00Z",
        "ended_at": "2026-03-02T10:00:00Z",
        "description": "Design",
    }
}
EC_ENTRY = {
    "start_time": "2026-03-02T09:00:00Z",
    "end_time": "2026-03-02T10:00:00Z",
    "description": "Design",
}


def key(value: str = "abc-123") -> dict:
    return {"HTTP_IDEMPOTENCY_KEY": value}


def test_a_replayed_post_writes_one_entry_and_one_event(api):
    first = api.post("time_entries", ENTRY, **key())
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    events = Event.objects.count()
    again = api.post("time_entries", ENTRY, **key())
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert TimeEntry.objects.count() == 1
    assert Event.objects.count() == events
    assert Event.objects.filter(action="time_entry_created").count() == 1


def test_expensicat_replays_too_and_keys_are_per_user(owner, administration):
    ec = ec_api(owner)
    first = ec.post("time-entries", EC_ENTRY, **key())
    again = ec.post("time-entries", EC_ENTRY, **key())
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert TimeEntry.objects.count() == 1
    # Another person's same key is their own.
    other = ec_api(member(administration, role="owner"))
    assert "Idempotent-Replayed" not in other.post("time-entries", EC_ENTRY, **key())
    assert TimeEntry.objects.count() == 2


def test_patch_and_delete_are_replayed(api, owner, administration):
    created = api.post("time_entries", ENTRY).json()
    path = f"time_entries/{created['id']}"
    change = {"time_entry": {"description": "Changed"}}
    first = api.patch(path, change, **key("p1"))
    events = Event.objects.count()
    again = api.patch(path, change, **key("p1"))
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert Event.objects.count() == events
    assert api.delete(path, **key("d1")).status_code == 204
    replay = api.delete(path, **key("d1"))
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (204, "true")
    # Without the key the entry is simply gone.
    assert api.delete(path).status_code == 404


def test_an_error_answer_is_replayed_and_wrote_nothing(api):
    bad = {"time_entry": {"started_at": "2026-03-02T09:00:00Z"}}
    first = api.post("time_entries", bad, **key())
    assert first.status_code == 422
    again = api.post("time_entries", bad, **key())
    assert (again.status_code, again["Idempotent-Replayed"]) == (422, "true")
    assert again.content == first.content
    assert not TimeEntry.objects.exists()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "time_entries", {"time_entry": {**ENTRY["time_entry"], "description": "Other"}}),
        ("post", "projects", {"project": {"name": "P"}}),
        ("patch", "time_entries/1", ENTRY),
    ],
)
def test_the_same_key_for_another_request_is_a_422(
    make_api, administration, owner, method, path, body
):
    api = make_api(administration, owner, scopes=("time_entries", "settings"))
    assert api.post("time_entries", ENTRY, **key()).status_code == 201
    response = getattr(api, method)(path, body, **key())
    assert response.status_code == 422
    assert response.json()["error"] == {
        "Idempotency-Key": ["was already used for another request (method, path or body)"]
    }
    assert TimeEntry.objects.count() == 1


def test_expensicat_reuse_is_a_validation_error(owner):
    ec = ec_api(owner)
    ec.post("time-entries", EC_ENTRY, **key())
    response = ec.post("time-entries", {**EC_ENTRY, "description": "Else"}, **key())
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert list(error["details"]) == ["Idempotency-Key"]


@pytest.mark.parametrize("value", ["", "x" * 256, "tab\there", "ünïcode"])
def test_a_malformed_key_is_a_400(api, value):
    response = api.post("time_entries", ENTRY, HTTP_IDEMPOTENCY_KEY=value)
    assert response.status_code == 400
    assert response.json()["symbolic"] == {"Idempotency-Key": "invalid"}
    assert not TimeEntry.objects.exists()


def test_unauthorized_and_rate_limited_answers_are_not_stored(api, administration, owner, settings):
    no_scope = Api(administration, owner, TokenFactory(user=owner, scopes=("settings",)))
    assert no_scope.post("time_entries", ENTRY, **key()).status_code == 401
    assert not IdempotencyKey.objects.exists()
    # The same key then works for the real request.
    response = api.post("time_entries", ENTRY, **key())
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


def test_a_server_error_rolls_back_and_is_not_stored(api, monkeypatch):
    def broken(**kwargs):
        TimeEntry.objects.filter(pk=0).update(description="x")
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "time_entry_create", broken)
    api.client.raise_request_exception = False
    response = api.post("time_entries", ENTRY, **key())
    assert response.status_code == 500
    assert not IdempotencyKey.objects.exists()


def test_keys_expire_and_are_pruned(api, settings):
    first = api.post("time_entries", ENTRY, **key())
    assert first.status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    out = StringIO()
    call_command("prune_idempotency_keys", stdout=out)
    assert out.getvalue().strip() == "deleted 1 expired idempotency keys"
    assert not IdempotencyKey.objects.exists()
    # An expired key that is still stored counts as new as well.
    api.post(
        "time_entries", {"time_entry": {**ENTRY["time_entry"], "description": "B"}}, **key("k")
    )
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    response = api.post(
        "time_entries", {"time_entry": {**ENTRY["time_entry"], "description": "C"}}, **key("k")
    )
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 1000
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    call_command("prune_idempotency_keys", stdout=StringIO())
    assert IdempotencyKey.objects.count() == 1


def test_a_request_without_the_key_is_not_recorded(api):
    api.post("time_entries", ENTRY)
    api.get("time_entries", HTTP_IDEMPOTENCY_KEY="k")
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_duplicate_gets_409_and_the_first_one_wins():
    administration = AdministrationFactory(name="Race")
    person = member(administration, role="owner")
    token = TokenFactory(user=person)
    inside, release = threading.Event(), threading.Event()
    real_create = services.time_entry_create
    results: dict[str, int] = {}

    def slow_create(**kwargs):
        entry = real_create(**kwargs)
        inside.set()
        release.wait(10)
        return entry

    def first() -> None:
        try:
            response = Api(administration, person, token).post("time_entries", ENTRY, **key())
            results["first"] = response.status_code
        finally:
            connections.close_all()

    services.time_entry_create = slow_create
    try:
        thread = threading.Thread(target=first)
        thread.start()
        assert inside.wait(10)
        services.time_entry_create = real_create
        second = Api(administration, person, token).post("time_entries", ENTRY, **key())
        release.set()
        thread.join()
    finally:
        services.time_entry_create = real_create
        release.set()
    assert second.status_code == 409
    assert second.json()["symbolic"] == {"Idempotency-Key": "in_progress"}
    assert results["first"] == 201
    assert TimeEntry.objects.count() == 1
    # Once the first is done, the repeat is a replay.
    third = Api(administration, person, token).post("time_entries", ENTRY, **key())
    assert third["Idempotent-Replayed"] == "true"
    assert transaction.get_autocommit()
