"""Helpers for the Moneybird time-entries API tests: building entries at local times, rendering
expected timestamps independently of the code under test, and checking the response shape of the
OpenAPI's `time_entry_response`."""

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from notes.models import Event
from tests.factories import TimeEntryFactory

AMS = ZoneInfo("Europe/Amsterdam")

ID_RE = re.compile(r"^\d+$")
# Moneybird's rendering of a timestamp: always UTC, always milliseconds.
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# Inside event data times are local, with the administration's offset.
LOCAL_TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$")

TIME_ENTRY_KEYS = {
    "id",
    "administration_id",
    "contact_id",
    "project_id",
    "sales_invoice_id",
    "user_id",
    "started_at",
    "ended_at",
    "description",
    "paused_duration",
    "billable",
    "created_at",
    "updated_at",
    "contact",
    "user",
    "project",
    "sales_invoice",
    "events",
    "notes",
}
CONTACT_KEYS = {"id", "firstname", "lastname", "company_name"}
USER_KEYS = {"id", "name", "created_at", "updated_at"}
PROJECT_KEYS = {"id", "name", "state", "budget"}
# The keys of sales_invoice_response that Uurwerk fills (see render_sales_invoice).
SALES_INVOICE_KEYS = {
    "id",
    "administration_id",
    "contact_id",
    "invoice_id",
    "state",
    "invoice_date",
    "due_date",
    "created_at",
    "updated_at",
}
EVENT_KEYS = {
    "administration_id",
    "user_id",
    "action",
    "link_entity_id",
    "link_entity_type",
    "data",
    "created_at",
    "updated_at",
}
NOTE_KEYS = {
    "id",
    "administration_id",
    "entity_id",
    "entity_type",
    "user_id",
    "assignee_id",
    "todo",
    "note",
    "completed_at",
    "completed_by_id",
    "todo_type",
    "data",
    "created_at",
    "updated_at",
}

NOT_FOUND = {"error": "record not found", "symbolic": {"id": "not_found"}}


def not_found(field: str) -> dict[str, Any]:
    return {"error": "record not found", "symbolic": {field: "not_found"}}


def unprocessable(**fields: tuple[str, str]) -> dict[str, Any]:
    """Moneybird's 422 body for one error per field: unprocessable(description=(code, msg))."""
    return {
        "error": {field: [message] for field, (code, message) in fields.items()},
        "details": {field: [{"error": code}] for field, (code, message) in fields.items()},
    }


# --- time -------------------------------------------------------------------------------------


def local_today() -> date:
    return timezone.now().astimezone(AMS).date()


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """An aware datetime at a wall-clock time in Amsterdam."""
    return datetime.combine(day, time(hour, minute), AMS)


def ts(value: datetime | None) -> str | None:
    """How the API must render `value`: 2021-01-08T10:00:00.000Z."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ts_local(value: datetime | None) -> str | None:
    """How event data must render `value`: 2021-01-08T11:00:00.000+01:00."""
    if value is None:
        return None
    return value.astimezone(AMS).isoformat(timespec="milliseconds")


# --- data -------------------------------------------------------------------------------------


def make_entry(administration, user, start: datetime, minutes: int = 60, **kwargs):
    """A finished entry by `user` (also the actor), built through the service."""
    kwargs.setdefault("ended_at", start + timedelta(minutes=minutes))
    return TimeEntryFactory(
        administration=administration, actor=user, user_id=user.pk, started_at=start, **kwargs
    )


def ids(response) -> list[str]:
    return [item["id"] for item in response.json()]


# --- expected bodies --------------------------------------------------------------------------


def expected_event(event: Event) -> dict[str, Any]:
    return {
        "administration_id": str(event.administration_id),
        "user_id": None if event.user_id is None else str(event.user_id),
        "action": event.action,
        "link_entity_id": None if event.link_entity_id is None else str(event.link_entity_id),
        "link_entity_type": event.link_entity_type,
        "data": event.data,
        "created_at": ts(event.created_at),
        "updated_at": ts(event.created_at),
    }


def expected_events(entry) -> list[dict[str, Any]]:
    events = Event.objects.filter(subject_type="TimeEntry", entity_id=entry.pk).order_by("id")
    return [expected_event(e) for e in events]


def expected_user(user) -> dict[str, Any]:
    return {
        "id": str(user.pk),
        "name": user.name,
        "created_at": ts(user.created_at),
        "updated_at": ts(user.updated_at),
    }


def expected_sales_invoice(invoice) -> dict[str, Any]:
    invoice.refresh_from_db()
    return {
        "id": str(invoice.pk),
        "administration_id": str(invoice.administration_id),
        "contact_id": str(invoice.contact_id),
        "invoice_id": invoice.invoice_id,
        "state": invoice.state,
        "invoice_date": None if invoice.invoice_date is None else str(invoice.invoice_date),
        "due_date": str(invoice.due_date),
        "created_at": ts(invoice.created_at),
        "updated_at": ts(invoice.updated_at),
    }


def expected_time_entry(
    entry, *, notes: list[dict[str, Any]] | None = None, sales_invoices: bool = True
) -> dict[str, Any]:
    """The whole body for `entry` as it is in the database now; without `sales_invoices` (the
    token's scope) there is no `sales_invoice` key."""
    entry.refresh_from_db()
    contact, project, invoice = entry.contact, entry.project, entry.sales_invoice
    body = {
        "id": str(entry.pk),
        "administration_id": str(entry.administration_id),
        "contact_id": None if contact is None else str(contact.pk),
        "project_id": None if project is None else str(project.pk),
        "sales_invoice_id": None if invoice is None else str(invoice.pk),
        "user_id": str(entry.user_id),
        "started_at": ts(entry.started_at),
        "ended_at": ts(entry.ended_at),
        "description": entry.description,
        "paused_duration": entry.paused_duration,
        "billable": entry.billable,
        "created_at": ts(entry.created_at),
        "updated_at": ts(entry.updated_at),
        "contact": None
        if contact is None
        else {
            "id": str(contact.pk),
            "firstname": contact.firstname or None,
            "lastname": contact.lastname or None,
            "company_name": contact.company_name or None,
        },
        "user": expected_user(entry.user),
        "project": None
        if project is None
        else {
            "id": str(project.pk),
            "name": project.name,
            "state": project.state,
            "budget": project.budget,
        },
        "sales_invoice": None if invoice is None else expected_sales_invoice(invoice),
        "events": expected_events(entry),
        "notes": notes or [],
    }
    if not sales_invoices:
        del body["sales_invoice"]
    return body


# --- shape ------------------------------------------------------------------------------------


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(ID_RE.match(value))


def _is_ts(value: Any) -> bool:
    return isinstance(value, str) and bool(TS_RE.match(value))


def assert_event_shape(event: dict[str, Any]) -> None:
    assert set(event) == EVENT_KEYS
    assert _is_id(event["administration_id"])
    assert event["user_id"] is None or _is_id(event["user_id"])
    assert isinstance(event["action"], str) and event["action"]
    assert event["link_entity_id"] is None or _is_id(event["link_entity_id"])
    assert event["link_entity_type"] is None or isinstance(event["link_entity_type"], str)
    assert isinstance(event["data"], dict)
    assert _is_ts(event["created_at"]) and _is_ts(event["updated_at"])


def assert_note_shape(note: dict[str, Any]) -> None:
    assert set(note) == NOTE_KEYS
    assert _is_id(note["id"]) and _is_id(note["entity_id"])
    assert _is_id(note["administration_id"])
    assert note["entity_type"] == "TimeEntry"
    for key in ("user_id", "assignee_id", "completed_by_id"):
        assert note[key] is None or _is_id(note[key]), key
    assert type(note["todo"]) is bool
    assert isinstance(note["note"], str) and note["note"]
    assert note["completed_at"] is None or _is_ts(note["completed_at"])
    assert note["todo_type"] is None or isinstance(note["todo_type"], str)
    assert isinstance(note["data"], dict)
    assert _is_ts(note["created_at"]) and _is_ts(note["updated_at"])


def assert_time_entry_shape(body: dict[str, Any]) -> None:
    """`body` has exactly the keys of the OpenAPI's time_entry_response, with their types;
    `sales_invoice` may be absent (a token without the sales_invoices scope)."""
    keys = set(body) | {"sales_invoice"}
    assert keys == TIME_ENTRY_KEYS, keys ^ TIME_ENTRY_KEYS
    assert _is_id(body["id"])
    assert _is_id(body["administration_id"])
    for key in ("contact_id", "project_id", "sales_invoice_id"):
        assert body[key] is None or _is_id(body[key]), key
    assert _is_id(body["user_id"])
    assert _is_ts(body["started_at"])
    assert body["ended_at"] is None or _is_ts(body["ended_at"])
    assert isinstance(body["description"], str) and body["description"]
    assert type(body["paused_duration"]) is int and body["paused_duration"] >= 0
    assert body["paused_duration"] % 60 == 0
    assert type(body["billable"]) is bool
    assert _is_ts(body["created_at"]) and _is_ts(body["updated_at"])

    contact = body["contact"]
    if body["contact_id"] is None:
        assert contact is None
    else:
        assert set(contact) == CONTACT_KEYS and contact["id"] == body["contact_id"]
        for key in ("firstname", "lastname", "company_name"):
            assert contact[key] is None or isinstance(contact[key], str), key

    user = body["user"]
    assert set(user) == USER_KEYS and user["id"] == body["user_id"]
    assert isinstance(user["name"], str)
    assert _is_ts(user["created_at"]) and _is_ts(user["updated_at"])

    project = body["project"]
    if body["project_id"] is None:
        assert project is None
    else:
        assert set(project) == PROJECT_KEYS and project["id"] == body["project_id"]
        assert isinstance(project["name"], str)
        assert project["state"] in ("active", "archived")
        assert project["budget"] is None or type(project["budget"]) is int

    if "sales_invoice" in body:
        invoice = body["sales_invoice"]
        if body["sales_invoice_id"] is None:
            assert invoice is None
        else:
            assert set(invoice) == SALES_INVOICE_KEYS and invoice["id"] == body["sales_invoice_id"]
            assert _is_id(invoice["administration_id"]) and _is_id(invoice["contact_id"])
            assert invoice["invoice_id"] is None or isinstance(invoice["invoice_id"], str)
            assert invoice["state"] in ("draft", "open", "paid", "late")
            assert _is_ts(invoice["created_at"]) and _is_ts(invoice["updated_at"])

    assert isinstance(body["events"], list) and body["events"]
    for event in body["events"]:
        assert_event_shape(event)
    assert body["events"][0]["action"] == "time_entry_created"
    assert isinstance(body["notes"], list)
    for note in body["notes"]:
        assert_note_shape(note)
        assert note["entity_id"] == body["id"]


# --- routes -----------------------------------------------------------------------------------


def routes(entry_id, note_id) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """(name, method, path, body) for every time-entries route, aimed at the given ids."""
    create = {
        "time_entry": {
            "started_at": "2026-03-02T10:00:00Z",
            "ended_at": "2026-03-02T11:00:00Z",
            "description": "Routed",
        }
    }
    return [
        ("list", "get", "time_entries", None),
        ("report", "get", "time_entries/report", None),
        ("create", "post", "time_entries", create),
        ("get", "get", f"time_entries/{entry_id}", None),
        ("update", "patch", f"time_entries/{entry_id}", {"time_entry": {"description": "Hijack"}}),
        ("stop", "patch", f"time_entries/{entry_id}/stop", None),
        ("resume", "patch", f"time_entries/{entry_id}/resume", None),
        ("note_create", "post", f"time_entries/{entry_id}/notes", {"note": {"note": "Hijack"}}),
        ("note_delete", "delete", f"time_entries/{entry_id}/notes/{note_id}", None),
        ("delete", "delete", f"time_entries/{entry_id}", None),
    ]


ROUTE_NAMES = [name for name, *_ in routes(1, 2)]


def call(api, method: str, path: str, body: dict[str, Any] | None = None):
    """Send one request with `api`'s client: `path` is relative to its administration, or a
    whole /api/v2/... path for another one."""
    url = path if path.startswith("/") else api.url(path)
    if method in ("post", "patch"):
        return getattr(api.client, method)(url, body, format="json")
    return getattr(api.client, method)(url)
