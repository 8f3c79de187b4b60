"""The SQL a single-entry write runs, through HTTP in both dialects: after authentication a create
is one read (every related id checked in it, and the overlap setting under lock) and the insert
with its event; an update the lock (which reads the related ids given) and the update with its
event and the read of the entry's related rows, events and notes. On PostgreSQL each write is
one statement (a WITH clause), elsewhere a statement per row and the read before them. The
answer is rendered from what the write read and wrote, and is byte for byte what a GET answers
right after.

These tests run outside a test transaction (transaction=True), as a request does: the service's
transaction is then the outermost, so a SAVEPOINT here would be one nested on the hot path."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.expensicat_support import ec_api
from tests.factories import ContactFactory, ProjectFactory, SalesInvoiceFactory, member
from tests.timeentries.moneybird_support import local, local_today, make_entry
from timeentries.models import TimeEntry

pytestmark = pytest.mark.django_db(transaction=True)

MB_BODY = {
    "started_at": "2024-01-02T10:00:00Z",
    "ended_at": "2024-01-02T11:30:00Z",
    "description": "Design",
}
EC_BODY = {
    "start_time": "2024-01-02T10:00:00Z",
    "end_time": "2024-01-02T11:30:00Z",
    "description": "Design",
}


# How the outermost transaction starts and ends, which Django logs unevenly (BEGIN on SQLite
# only, BEGIN IMMEDIATE as settings configure it; PostgreSQL's driver opens the transaction
# itself): left out of the counts, as the twin in bench/ leaves its own out. A SAVEPOINT counts.
TRANSACTION_CONTROL = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"}


def run(call):
    """The response and the statements the request ran."""
    with CaptureQueriesContext(connection) as queries:
        response = call()
    statements = [q["sql"] for q in queries.captured_queries]
    return response, [sql for sql in statements if sql not in TRANSACTION_CONTROL]


def kind(sql: str) -> str:
    words = sql.split()
    if words[0] == "INSERT":
        return f"INSERT {words[2].strip(chr(34))}"
    if words[0] == "UPDATE":
        return f"UPDATE {words[1].strip(chr(34))}"
    return words[0]


def with_parts(sql: str) -> list[str]:
    """The statements of `WITH w0 AS (a), w1 AS (b) c`: [a, b, c] (quoted strings skipped)."""
    parts, depth, quoted, start = [], 0, False, None
    body = sql[len("WITH ") :]
    for at, char in enumerate(body):
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
            if depth == 1:
                start = at + 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                parts.append(body[start:at])
                rest = body[at + 1 :].lstrip()
                if not rest.startswith(","):
                    return [*parts, rest]
    raise AssertionError(f"not a WITH statement: {sql}")


def kinds(statements: list[str]) -> list[str]:
    """SELECT, or the verb and table of a write; a WITH statement its parts joined by " + ":
    what to compare across databases."""
    out = []
    for sql in statements:
        if sql.startswith("WITH "):
            assert re.match(r"WITH w0 AS \(", sql), sql
            out.append(" + ".join(kind(part) for part in with_parts(sql)))
        else:
            out.append(kind(sql))
    return out


def auth_statements(call) -> int:
    """What authenticating (and resolving the administration) costs: a request of the same
    kind whose body the view rejects before it reads anything."""
    response, statements = run(call)
    assert response.status_code in (400, 422), response.content
    return len(statements)


POSTGRES = connection.vendor == "postgresql"


def assert_locks(statement: str, lock: str = "FOR NO KEY UPDATE") -> None:
    if POSTGRES:
        assert re.search(rf"{lock}( OF .*)?$", statement), statement


def together(*statements: str) -> list[str]:
    """One statement on PostgreSQL (a WITH clause, timeentries.writes), one each elsewhere."""
    return [" + ".join(statements)] if POSTGRES else list(statements)


UPDATE = together("UPDATE timeentries_timeentry", "INSERT notes_event")
# An API's write also reads the entry as it answers with it: in the write on PostgreSQL (for an
# update after the lock was granted, so a concurrent writer's event is among them), after it
# elsewhere.
INSERT_READ = together("INSERT timeentries_timeentry", "INSERT notes_event", "SELECT")
UPDATE_READ = together("UPDATE timeentries_timeentry", "INSERT notes_event", "SELECT")
# A write that starts a timer runs in a savepoint: the one-running-timer index may refuse it
# (a timer started at the same time), and that write then stops it and tries again, instead
# of breaking the transaction.
STARTS_INSERT = ["SAVEPOINT", *INSERT_READ, "RELEASE"]


@pytest.fixture
def related(administration):
    contact = ContactFactory(administration=administration, company_name="Foobar Holding B.V.")
    project = ProjectFactory(administration=administration, name="Website", contact_id=contact.pk)
    return contact, project


# --- Moneybird ------------------------------------------------------------------------------


def test_moneybird_create_is_one_read_the_insert_and_its_event(api, colleague, related):
    contact, project = related
    auth = auth_statements(lambda: api.post("time_entries", {}))
    body = {
        **MB_BODY,
        "user_id": str(colleague.pk),
        "contact_id": str(contact.pk),
        "project_id": str(project.pk),
    }
    response, statements = run(lambda: api.post("time_entries", {"time_entry": body}))
    assert response.status_code == 201, response.content
    # The one read also takes prevent_overlapping_entries under a share lock of the
    # administration (services._overlaps_guarded), so turning it on cannot slip past the write.
    assert kinds(statements[auth:]) == ["SELECT", *INSERT_READ]
    assert_locks(statements[auth], "FOR KEY SHARE")
    created = response.json()
    assert created["user"]["id"] == str(colleague.pk)
    assert created["contact"]["id"] == str(contact.pk)
    assert created["project"]["id"] == str(project.pk)
    assert [e["action"] for e in created["events"]] == ["time_entry_created"]
    assert created["notes"] == []
    assert response.content == api.get(f"time_entries/{created['id']}").content


def test_moneybird_create_of_a_timer_reads_nothing_more_unless_it_stops_one(api):
    auth = auth_statements(lambda: api.post("time_entries", {}))
    timer = {"started_at": "2024-01-02T10:00:00Z", "description": "Running"}
    response, statements = run(lambda: api.post("time_entries", {"time_entry": timer}))
    assert response.status_code == 201, response.content
    assert kinds(statements[auth:]) == ["SELECT", *STARTS_INSERT]
    first = response.json()["id"]

    later = {**timer, "started_at": "2024-01-02T11:00:00Z"}
    response, statements = run(lambda: api.post("time_entries", {"time_entry": later}))
    assert response.status_code == 201, response.content
    # Stopping the first timer: its lock, its update and its event.
    assert kinds(statements[auth:]) == ["SELECT", "SELECT", *UPDATE, *STARTS_INSERT]
    assert_locks(statements[auth + 1])
    assert TimeEntry.objects.get(pk=first).ended_at is not None
    assert response.content == api.get(f"time_entries/{response.json()['id']}").content


def test_moneybird_create_linking_an_invoice_adds_only_its_event(api, administration, related):
    contact, _ = related
    invoice = SalesInvoiceFactory(administration=administration, contact_id=contact.pk)
    auth = auth_statements(lambda: api.post("time_entries", {}))
    body = {**MB_BODY, "contact_id": str(contact.pk), "sales_invoice_id": str(invoice.pk)}
    response, statements = run(lambda: api.post("time_entries", {"time_entry": body}))
    assert response.status_code == 201, response.content
    # On PostgreSQL the invoice's event is a second row of the events' insert.
    events = ["INSERT notes_event"] * (1 if POSTGRES else 2)
    assert kinds(statements[auth:]) == [
        "SELECT",
        *together("INSERT timeentries_timeentry", *events, "SELECT"),
    ]
    assert [e["action"] for e in response.json()["events"]] == [
        "time_entry_created",
        "time_entry_sales_invoice_created",
    ]
    assert response.content == api.get(f"time_entries/{response.json()['id']}").content


def test_moneybird_create_checks_every_related_id_in_the_one_read(api, foreign):
    auth = auth_statements(lambda: api.post("time_entries", {}))
    # A known user, another administration's contact and an unknown project: the first that
    # is not found is named, as when they were looked up one by one.
    body = {**MB_BODY, "contact_id": str(foreign.contact.pk), "project_id": "1"}
    response, statements = run(lambda: api.post("time_entries", {"time_entry": body}))
    assert response.status_code == 404
    assert response.json() == {"error": "record not found", "symbolic": {"contact_id": "not_found"}}
    assert kinds(statements[auth:]) == ["SELECT"]
    assert not TimeEntry.objects.filter(description="Design").exists()


def test_moneybird_update_is_the_lock_and_the_update_with_its_event_and_read(
    api, administration, owner, colleague, related
):
    contact, project = related
    entry = make_entry(administration, owner, local(local_today(), 9))
    api.post(f"time_entries/{entry.pk}/notes", {"note": {"note": "Call back"}})
    auth = auth_statements(lambda: api.post("time_entries", {}))
    for changes in (
        {"description": "Renamed"},
        {
            "user_id": str(colleague.pk),
            "contact_id": str(contact.pk),
            "project_id": str(project.pk),
            "billable": False,
        },
        {"contact_id": None, "project_id": str(project.pk)},
    ):
        response, statements = run(
            lambda changes=changes: api.patch(f"time_entries/{entry.pk}", {"time_entry": changes})
        )
        assert response.status_code == 200, response.content
        assert kinds(statements[auth:]) == ["SELECT", *UPDATE_READ]
        assert_locks(statements[auth])
        assert response.content == api.get(f"time_entries/{entry.pk}").content
    body = response.json()
    assert [e["action"] for e in body["events"]] == [
        "time_entry_created",
        "note_created",
        *["time_entry_updated"] * 3,
    ]
    assert [n["note"] for n in body["notes"]] == ["Call back"]
    assert body["user_id"] == str(colleague.pk) and body["contact"] is None


def test_moneybird_update_without_changes_writes_nothing(api, administration, owner):
    entry = make_entry(administration, owner, local(local_today(), 9), description="Same")
    auth = auth_statements(lambda: api.post("time_entries", {}))
    response, statements = run(
        lambda: api.patch(f"time_entries/{entry.pk}", {"time_entry": {"description": "Same"}})
    )
    assert response.status_code == 200, response.content
    assert kinds(statements[auth:]) == ["SELECT", "SELECT"]
    assert response.content == api.get(f"time_entries/{entry.pk}").content


def test_moneybird_update_of_an_unknown_entry_is_404_whatever_the_body(api, foreign):
    for body in ({}, {"time_entry": {"paused_duration": "long"}}, {"time_entry": {}}):
        response = api.patch(f"time_entries/{foreign.entry.pk}", body)
        assert response.status_code == 404, (body, response.content)
        assert response.json() == {"error": "record not found", "symbolic": {"id": "not_found"}}


def test_moneybird_stop_is_the_lock_and_the_update_and_resume_reads_the_running_timer(
    api, administration, owner, freeze
):
    freeze(local(local_today(), 12))
    entry = make_entry(administration, owner, local(local_today(), 9), ended_at=None)
    auth = auth_statements(lambda: api.post("time_entries", {}))
    # Stopping reads the entry it answers with in its write; resuming also looks for the
    # person's running timer first, which it would stop.
    stop = ["SELECT", *UPDATE_READ]
    resume = ["SELECT", "SELECT", "SAVEPOINT", *UPDATE_READ, "RELEASE"]
    # A timer stopped again, or resumed while it runs, is the lock and the read of the answer.
    unchanged = ["SELECT", "SELECT"]
    steps = [
        ("stop", stop),
        ("resume", resume),
        ("resume", unchanged),
        ("stop", stop),
        ("stop", unchanged),
    ]
    for action, expected in steps:
        response, statements = run(
            lambda action=action: api.patch(f"time_entries/{entry.pk}/{action}")
        )
        assert response.status_code == 200, response.content
        assert kinds(statements[auth:]) == expected, action
        assert_locks(statements[auth])
        assert response.content == api.get(f"time_entries/{entry.pk}").content
        assert response["ETag"] == api.get(f"time_entries/{entry.pk}")["ETag"]
    assert response.json()["ended_at"] is not None


# --- Expensicat -----------------------------------------------------------------------------


def test_expensicat_create_is_one_read_the_insert_and_its_event(owner, related):
    _, project = related
    ec = ec_api(owner)
    auth = auth_statements(lambda: ec.post("time-entries", {}))
    body = {**EC_BODY, "project_id": str(project.pk)}
    response, statements = run(lambda: ec.post("time-entries", body))
    assert response.status_code == 201, response.content
    assert kinds(statements[auth:]) == ["SELECT", *INSERT_READ]
    data = response.json()["data"]
    assert data["project"]["customer"]["name"] == "Foobar Holding B.V."
    assert response.content == ec.get(f"time-entries/{data['id']}").content


@pytest.mark.parametrize("role", ["member", "admin"])
def test_expensicat_update_is_the_lock_and_the_update_with_its_event_and_read(
    administration, owner, related, role
):
    _, project = related
    person = member(administration, role=role)
    # A member changes their own entries; an admin anyone's.
    entry = make_entry(
        administration, person if role == "member" else owner, local(local_today(), 9)
    )
    ec = ec_api(person)
    auth = auth_statements(lambda: ec.post("time-entries", {}))
    changes = {"description": "Renamed", "project_id": str(project.pk)}
    response, statements = run(lambda: ec.patch(f"time-entries/{entry.pk}", changes))
    assert response.status_code == 200, response.content
    # The role is read inside the lock's query, not before it.
    assert kinds(statements[auth:]) == ["SELECT", *UPDATE_READ]
    assert_locks(statements[auth])
    assert response.json()["data"]["project"]["customer"]["name"] == "Foobar Holding B.V."
    assert response.content == ec.get(f"time-entries/{entry.pk}").content


def test_expensicat_member_cannot_update_anothers_entry(administration, owner):
    entry = make_entry(administration, owner, local(local_today(), 9))
    ec = ec_api(member(administration, role="member"))
    for body in ({"description": "Mine now"}, {"description": 5}):
        response = ec.patch(f"time-entries/{entry.pk}", body)
        assert response.status_code == 404, response.content
    entry.refresh_from_db()
    assert entry.description != "Mine now"
