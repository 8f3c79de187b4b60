"""Expensicat's /api/v1/time-entries over HTTP: the document's fields and types, cursor paging
under concurrent inserts, the filters and who sees what, writes through the services, scopes,
tenant isolation and the query count of a page."""

import base64
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from administrations import services as admin_services
from notes.models import Event
from tests.expensicat_support import (
    assert_error,
    assert_list_shape,
    assert_time_entry_shape,
    ec_api,
    walk,
)
from tests.factories import ContactFactory, ProjectFactory, member
from tests.timeentries.moneybird_support import AMS, local, local_today, make_entry
from timeentries.models import TimeEntry


def ts(value: datetime | None) -> str | None:
    """How the API must render `value`: UTC, milliseconds, Z."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def snapshot():
    """Everything a time-entry write could touch."""
    return (
        sorted(
            TimeEntry.objects.values_list(
                "pk", "description", "started_at", "ended_at", "project_id", "updated_at"
            )
        ),
        Event.objects.count(),
    )


@pytest.fixture
def ec(owner):
    return ec_api(owner)


@pytest.fixture
def billed_project(administration):
    customer = ContactFactory(administration=administration, company_name="Foobar Holding B.V.")
    return ProjectFactory(
        administration=administration,
        name="Website",
        contact_id=customer.pk,
        hourly_rate="95.50",
        currency="EUR",
    )


def expected_entry(entry: TimeEntry, *, duration: int) -> dict:
    entry.refresh_from_db()
    project = entry.project
    customer = project.contact if project else None
    return {
        "id": str(entry.pk),
        "organization_id": str(entry.administration_id),
        "user_id": str(entry.user_id),
        "project_id": None if project is None else str(project.pk),
        "start_time": ts(entry.started_at),
        "end_time": ts(entry.ended_at),
        "duration": duration,
        "description": entry.description,
        "billable": entry.billable,
        "invoice_id": None,
        "created_at": ts(entry.created_at),
        "updated_at": ts(entry.updated_at),
        "user": {
            "id": str(entry.user.pk),
            "full_name": entry.user.name,
            "email": entry.user.email,
            "avatar_url": None,
        },
        "project": None
        if project is None
        else {
            "id": str(project.pk),
            "name": project.name,
            "customer_id": None if customer is None else str(customer.pk),
            "hourly_rate": None if project.hourly_rate is None else float(project.hourly_rate),
            "currency": project.currency,
            "customer": None
            if customer is None
            else {"id": str(customer.pk), "name": customer.company_name},
        },
        "invoice": None,
    }


# --- shape ----------------------------------------------------------------------------------


def test_list_renders_every_field_of_the_document(ec, administration, owner, billed_project):
    day = local_today() - timedelta(days=1)
    with_project = make_entry(
        administration,
        owner,
        local(day, 9),
        minutes=90,
        description="Design",
        project_id=billed_project.pk,
        paused_duration=600,
    )
    plain = make_entry(administration, owner, local(day, 8), minutes=30, description="Mail")

    response = ec.get("time-entries")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert_list_shape(body)
    for item in body["data"]:
        assert_time_entry_shape(item)
    assert body == {
        "data": [
            expected_entry(with_project, duration=90 * 60 - 600),
            expected_entry(plain, duration=30 * 60),
        ],
        "meta": {"count": 2, "next_cursor": None},
    }
    # The document's types: hourly_rate is a number inside a time entry; ids are strings.
    assert body["data"][0]["project"]["hourly_rate"] == 95.5
    assert type(body["data"][0]["organization_id"]) is str


def test_running_entry_counts_up_to_now(ec, administration, owner, freeze):
    now = datetime(2025, 3, 3, 12, 0, 30, tzinfo=UTC)
    freeze(now)
    started = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
    running = make_entry(administration, owner, started, ended_at=None, paused_duration=300)

    body = ec.get(f"time-entries/{running.pk}").json()["data"]

    assert_time_entry_shape(body)
    assert body["end_time"] is None
    assert body["duration"] == 2 * 3600 + 30 - 300
    assert body == expected_entry(running, duration=2 * 3600 + 30 - 300)


def test_get_one(ec, administration, owner, billed_project):
    entry = make_entry(administration, owner, local(local_today(), 8), project_id=billed_project.pk)
    response = ec.get(f"time-entries/{entry.pk}")
    assert response.status_code == 200
    assert response.json() == {"data": expected_entry(entry, duration=3600)}


@pytest.mark.parametrize("pk", ["34123123", "abc", "0", "99999999999999999999", "-1", "1.5"])
def test_unknown_id_is_404(ec, pk):
    for method in ("get", "patch", "delete"):
        response = ec.call(method, f"time-entries/{pk}", {"description": "x"})
        assert_error(response, 404, "NOT_FOUND")


def test_an_invoiced_entry_renders_its_invoice(ec, administration, owner, billed_project):
    invoice_services = pytest.importorskip("invoices.services")
    invoice = invoice_services.sales_invoice_create(
        administration=administration,
        actor=owner,
        contact_id=billed_project.contact_id,
        invoice_id="2025-0007",
        state="open",
        invoice_date=date(2025, 3, 1),
        due_date=date(2025, 3, 31),
    )
    entry = make_entry(administration, owner, local(local_today(), 8), sales_invoice_id=invoice.pk)
    for response in (ec.get("time-entries"), ec.get(f"time-entries/{entry.pk}")):
        body = response.json()["data"]
        body = body[0] if isinstance(body, list) else body
        assert_time_entry_shape(body)
        assert body["invoice_id"] == str(invoice.pk)
        assert body["invoice"] == {
            "id": str(invoice.pk),
            "number": "2025-0007",
            "status": "open",
            "date": "2025-03-01",
            "due_date": "2025-03-31",
        }


# --- paging ---------------------------------------------------------------------------------


def make_many(administration, user, count: int, *, ties: int = 3) -> list[TimeEntry]:
    """`count` entries; every `ties` of them share a start time, so the id must break ties."""
    base = local(local_today() - timedelta(days=1), 8)
    return [
        make_entry(administration, user, base - timedelta(hours=i // ties), minutes=10)
        for i in range(count)
    ]


def api_order(entries) -> list[str]:
    """The documented order: newest start first, then id."""
    return [str(e.pk) for e in sorted(entries, key=lambda e: (-e.started_at.timestamp(), e.pk))]


def test_cursor_walk_returns_every_entry_exactly_once(ec, administration, owner):
    entries = make_many(administration, owner, 45)

    pages = walk(ec, "time-entries", {"limit": 20})

    assert [len(page) for page in pages] == [20, 20, 5]
    assert [pk for page in pages for pk in page] == api_order(entries)


def test_default_limit_is_20(ec, administration, owner):
    make_many(administration, owner, 21)
    body = ec.get("time-entries").json()
    assert body["meta"]["count"] == 20 and len(body["data"]) == 20
    assert body["meta"]["next_cursor"]


@pytest.mark.parametrize("limit", ["1", "100"])
def test_limit_bounds_are_accepted(ec, administration, owner, limit):
    make_many(administration, owner, 2)
    response = ec.get("time-entries", {"limit": limit})
    assert response.status_code == 200
    assert response.json()["meta"]["count"] == min(int(limit), 2)


def test_inserts_between_pages_neither_duplicate_nor_skip(ec, administration, owner):
    entries = make_many(administration, owner, 45)
    first = ec.get("time-entries", {"limit": 20}).json()
    cursor = first["meta"]["next_cursor"]
    last_seen = TimeEntry.objects.get(pk=first["data"][-1]["id"])

    # Newer than everything (OFFSET paging would now repeat the 20th entry), at the very start
    # time of the last row seen (a tie the id must break), and older than the cursor.
    newest = make_entry(administration, owner, local(local_today(), 9))
    tie = make_entry(administration, owner, last_seen.started_at)
    older = make_entry(administration, owner, last_seen.started_at - timedelta(minutes=30))

    pages = [[item["id"] for item in first["data"]]]
    pages += walk(ec, "time-entries", {"limit": 20, "cursor": cursor})
    seen = [pk for page in pages for pk in page]

    assert len(seen) == len(set(seen)), "an entry came twice"
    assert set(api_order(entries)) <= set(seen), "an existing entry was skipped"
    assert str(newest.pk) not in seen  # it sorts before the cursor: the next fetch of page 1
    assert str(tie.pk) in seen and str(older.pk) in seen
    assert seen == [pk for pk in api_order([*entries, tie, older])]


def test_cursor_keeps_the_filters_it_is_used_with(ec, administration, owner):
    entries = make_many(administration, owner, 10)
    for entry in entries[:6]:
        TimeEntry.objects.filter(pk=entry.pk).update(description=f"alpha {entry.pk}")
    pages = walk(ec, "time-entries", {"limit": 4, "q": "ALPHA"})
    assert [len(p) for p in pages] == [4, 2]
    assert [pk for page in pages for pk in page] == api_order(entries[:6])


def _b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1", "1.5", " 5", "99999999999999999999"])
def test_invalid_limit_is_400(ec, limit):
    assert_error(ec.get("time-entries", {"limit": limit}), 400, "BAD_REQUEST", field="limit")


@pytest.mark.parametrize(
    "cursor",
    [
        "abc",
        "!!!",
        "x" * 600,
        _b64({"started_at": "2025-01-01T00:00:00+00:00"}),
        _b64(["2025-01-01T00:00:00+00:00"]),
        _b64(["2025-01-01T00:00:00", "1"]),  # no offset
        _b64(["yesterday", "1"]),
        _b64(["2025-01-01T00:00:00+00:00", "abc"]),
        _b64(["2025-01-01T00:00:00+00:00", 5]),
        _b64(["2025-01-01T00:00:00+00:00", "0"]),
        _b64(["2025-01-01T00:00:00+00:00", "99999999999999999999"]),
        _b64([[[[[]]]], "1"]),
        _b64(["0001-01-01T00:00:00+01:00", "1"]),  # before datetime's minimum in UTC
        _b64(["9999-12-31T23:59:00-01:00", "1"]),
        _b64(["2025-01-01T00:00:00+00:00", "1", "2"]),
    ],
)
def test_invalid_cursor_is_400(ec, cursor):
    assert_error(ec.get("time-entries", {"cursor": cursor}), 400, "BAD_REQUEST", field="cursor")


def test_query_count_does_not_grow_with_the_page(ec, administration, owner, colleague):
    projects = [
        ProjectFactory(
            administration=administration,
            contact_id=ContactFactory(administration=administration).pk,
            hourly_rate="10",
        )
        for _ in range(3)
    ]
    for i, entry in enumerate(make_many(administration, owner, 30)):
        changes = {"project": projects[i % 3], "user": colleague if i % 2 else owner}
        TimeEntry.objects.filter(pk=entry.pk).update(**changes)

    counts = {}
    for limit in (2, 30):
        with CaptureQueriesContext(connection) as queries:
            response = ec.get("time-entries", {"limit": limit})
        assert response.status_code == 200 and response.json()["meta"]["count"] == limit
        counts[limit] = len(queries)
    assert counts[2] == counts[30]
    # Token, organization (2), role, the page itself.
    assert counts[30] <= 5


@pytest.mark.parametrize("role", ["owner", "member"])
def test_a_token_bound_to_the_organization_brings_it_and_the_role(administration, owner, role):
    user = owner if role == "owner" else member(administration)
    make_many(administration, owner, 3)
    api = ec_api(user, administration=administration)
    with CaptureQueriesContext(connection) as queries:
        response = api.get("time-entries", {"limit": 10})
    # The token with its organization and the caller's role, then the page.
    assert len(queries) == 2
    # An owner sees the organization's entries; a member only their own (none).
    assert response.json()["meta"]["count"] == (3 if role == "owner" else 0)


# --- filters --------------------------------------------------------------------------------


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["data"]]


def test_dates_are_inclusive_local_days(ec, administration, owner):
    # 00:30 in Amsterdam on 2 March is still 1 March in UTC; 23:30 on 3 March is 22:30 UTC.
    before = make_entry(administration, owner, datetime(2025, 3, 1, 23, 30, tzinfo=AMS), 20)
    first = make_entry(administration, owner, datetime(2025, 3, 2, 0, 30, tzinfo=AMS))
    last = make_entry(administration, owner, datetime(2025, 3, 3, 23, 30, tzinfo=AMS), 20)
    after = make_entry(administration, owner, datetime(2025, 3, 4, 0, 10, tzinfo=AMS))

    both = {"start_date": "2025-03-02", "end_date": "2025-03-03"}
    assert ids(ec.get("time-entries", both)) == [str(last.pk), str(first.pk)]
    assert ids(ec.get("time-entries", {"start_date": "2025-03-03"})) == [
        str(after.pk),
        str(last.pk),
    ]
    assert ids(ec.get("time-entries", {"end_date": "2025-03-01"})) == [str(before.pk)]
    same_day = {"start_date": "2025-03-04", "end_date": "2025-03-04"}
    assert ids(ec.get("time-entries", same_day)) == [str(after.pk)]


def test_q_searches_the_description(ec, administration, owner):
    hit = make_entry(administration, owner, local(local_today(), 8), description="Fix LOGIN bug")
    make_entry(administration, owner, local(local_today(), 7), description="Meeting")
    assert ids(ec.get("time-entries", {"q": "login"})) == [str(hit.pk)]
    assert ids(ec.get("time-entries", {"q": "nothing like it"})) == []


def test_project_filter(ec, administration, owner, project, foreign):
    hit = make_entry(administration, owner, local(local_today(), 8), project_id=project.pk)
    make_entry(administration, owner, local(local_today(), 7))
    assert ids(ec.get("time-entries", {"project_id": str(project.pk)})) == [str(hit.pk)]
    # Another organization's project matches nothing here.
    assert ids(ec.get("time-entries", {"project_id": str(foreign.project.pk)})) == []


def test_user_filter_for_an_owner(ec, administration, owner, colleague):
    mine = make_entry(administration, owner, local(local_today(), 8))
    theirs = make_entry(administration, colleague, local(local_today(), 7))
    assert ids(ec.get("time-entries")) == [str(mine.pk), str(theirs.pk)]
    assert ids(ec.get("time-entries", {"user_id": "me"})) == [str(mine.pk)]
    assert ids(ec.get("time-entries", {"user_id": str(colleague.pk)})) == [str(theirs.pk)]
    assert ids(ec.get("time-entries", {"user_id": "123456"})) == []


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("start_date", "2025-13-01"),
        ("start_date", "yesterday"),
        ("start_date", "03/01/2025"),
        ("end_date", "2025-02-30"),
        ("end_date", "9999-12-31"),
        ("start_date", "0001-01-01"),
        ("project_id", "abc"),
        ("project_id", "0"),
        ("project_id", "99999999999999999999"),
        ("user_id", "you"),
        ("user_id", "-5"),
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(ec, param, value):
    response = ec.get("time-entries", {param: value})
    error = assert_error(response, 400, "BAD_REQUEST", field=param)
    assert param in error["message"]


def test_end_date_before_start_date_is_400(ec):
    response = ec.get("time-entries", {"start_date": "2025-03-02", "end_date": "2025-03-01"})
    assert_error(response, 400, "BAD_REQUEST", field="end_date")


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_see_the_whole_organization(administration, owner, colleague, role):
    boss = member(administration, role=role)
    entries = [
        make_entry(administration, user, local(local_today(), hour))
        for user, hour in ((owner, 9), (colleague, 8))
    ]
    assert ids(ec_api(boss).get("time-entries")) == [str(e.pk) for e in entries]


def test_a_member_sees_only_their_own(administration, owner, colleague):
    mine = make_entry(administration, colleague, local(local_today(), 8))
    theirs = make_entry(administration, owner, local(local_today(), 9))
    ec = ec_api(colleague)
    before = snapshot()

    assert ids(ec.get("time-entries")) == [str(mine.pk)]
    assert ids(ec.get("time-entries", {"user_id": "me"})) == [str(mine.pk)]
    assert ids(ec.get("time-entries", {"user_id": str(colleague.pk)})) == [str(mine.pk)]
    assert_error(ec.get("time-entries", {"user_id": str(owner.pk)}), 403, "FORBIDDEN")
    # Someone else's entry does not exist for them, whatever the method.
    for method in ("get", "patch", "delete"):
        response = ec.call(method, f"time-entries/{theirs.pk}", {"description": "Mine now"})
        assert_error(response, 404, "NOT_FOUND")
    assert snapshot() == before
    assert ec.get(f"time-entries/{mine.pk}").status_code == 200


# --- create ---------------------------------------------------------------------------------


def test_create(ec, administration, owner, billed_project):
    response = ec.post(
        "time-entries",
        {
            "start_time": "2025-03-03T09:00:45Z",
            "end_time": "2025-03-03T10:30:59+00:00",
            "description": "Workshop",
            "project_id": str(billed_project.pk),
            "billable": False,
        },
    )

    assert response.status_code == 201, response.content
    entry = TimeEntry.objects.get()
    assert response.json() == {"data": expected_entry(entry, duration=90 * 60)}
    # The services' rules: whole minutes, the caller as the user, an audit event.
    assert entry.started_at == datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    assert entry.ended_at == datetime(2025, 3, 3, 10, 30, tzinfo=UTC)
    assert entry.user == owner and entry.billable is False
    assert Event.objects.filter(action="time_entry_created", entity_id=entry.pk).count() == 1


def test_create_without_end_time_runs_and_a_naive_time_is_local(ec, freeze):
    freeze(datetime(2025, 3, 3, 12, 0, tzinfo=UTC))
    response = ec.post(
        "time-entries", {"start_time": "2025-03-03T12:00:00", "description": "Timer"}
    )
    assert response.status_code == 201
    body = response.json()["data"]
    assert_time_entry_shape(body)
    # 12:00 in Amsterdam is 11:00 UTC: an hour ago.
    assert body["start_time"] == "2025-03-03T11:00:00.000Z"
    assert body["end_time"] is None and body["duration"] == 3600
    assert body["billable"] is True and body["project"] is None


def test_create_with_missing_fields_is_422_naming_them(ec):
    before = snapshot()
    response = ec.post("time-entries", {"billable": True})
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert set(error["details"]) == {"start_time", "description"}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"start_time": "tomorrow", "description": "x"}, {"start_time"}),
        ({"start_time": 1700000000, "description": "x"}, {"start_time"}),
        ({"start_time": "2025-03-03T10:00:00Z", "description": "  "}, {"description"}),
        ({"start_time": "2025-03-03T10:00:00Z", "description": None}, {"description"}),
        (
            {"start_time": "2025-03-03T10:00:00Z", "end_time": "2025-03-03T09:00:00Z"},
            {"description"},
        ),
        (
            {
                "start_time": "2025-03-03T10:00:00Z",
                "end_time": "2025-03-03T09:00:00Z",
                "description": "",
            },
            {"end_time", "description"},
        ),
        # The one-minute rule, after rounding down to whole minutes.
        (
            {
                "start_time": "2025-03-03T10:00:10Z",
                "end_time": "2025-03-03T10:00:50Z",
                "description": "x",
            },
            {"end_time"},
        ),
        ({"start_time": "2025-03-03T10:00:00Z", "description": "x", "billable": "maybe"}, None),
        ({"start_time": "2025-03-03T10:00:00Z", "description": "x", "project_id": "abc"}, None),
    ],
)
def test_create_validation_is_422_with_details(ec, body, fields):
    before = snapshot()
    error = assert_error(ec.post("time-entries", body), 422, "VALIDATION_ERROR")
    expected = fields or {k for k in ("billable", "project_id") if k in body}
    assert set(error["details"]) == expected
    assert snapshot() == before


def test_create_with_another_organizations_project_is_404(ec, foreign):
    before = snapshot()
    body = {
        "start_time": "2025-03-03T10:00:00Z",
        "end_time": "2025-03-03T11:00:00Z",
        "description": "Hijack",
        "project_id": str(foreign.project.pk),
    }
    error = assert_error(ec.post("time-entries", body), 404, "NOT_FOUND", field="project_id")
    assert "project_id" in error["message"]
    assert snapshot() == before


def test_create_in_a_locked_period_is_422(ec, administration):
    admin_services.administration_update(
        administration=administration,
        actor=None,
        changes={"period_locked_until": date(2025, 1, 31)},
    )
    before = snapshot()
    body = {"start_time": "2025-01-10T10:00:00Z", "description": "Late"}
    assert_error(ec.post("time-entries", body), 422, "VALIDATION_ERROR", field="base")
    assert snapshot() == before


# --- update and delete ----------------------------------------------------------------------


@pytest.fixture
def entry(administration, owner):
    return make_entry(administration, owner, datetime(2025, 3, 3, 9, 0, tzinfo=UTC), 60)


def test_update(ec, entry, billed_project):
    response = ec.patch(
        f"time-entries/{entry.pk}",
        {
            "description": "Renamed",
            "end_time": "2025-03-03T11:15:30Z",
            "project_id": str(billed_project.pk),
            "billable": False,
        },
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"data": expected_entry(entry, duration=2 * 3600 + 15 * 60)}
    assert entry.description == "Renamed" and entry.project == billed_project
    assert entry.ended_at == datetime(2025, 3, 3, 11, 15, tzinfo=UTC)


def test_update_only_touches_what_is_sent(ec, entry, project):
    TimeEntry.objects.filter(pk=entry.pk).update(project=project)
    response = ec.patch(f"time-entries/{entry.pk}", {"description": "Only this"})
    assert response.status_code == 200
    entry.refresh_from_db()
    assert entry.project == project and entry.ended_at is not None
    assert response.json()["data"]["project_id"] == str(project.pk)


def test_update_end_time_null_makes_it_run_and_project_null_clears(ec, entry, project, freeze):
    freeze(datetime(2025, 3, 3, 12, 0, tzinfo=UTC))
    TimeEntry.objects.filter(pk=entry.pk).update(project=project)
    response = ec.patch(f"time-entries/{entry.pk}", {"end_time": None, "project_id": None})
    assert response.status_code == 200
    body = response.json()["data"]
    assert body["end_time"] is None and body["duration"] == 3 * 3600
    assert body["project_id"] is None and body["project"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"end_time": "2025-03-03T08:00:00Z"}, "end_time"),
        ({"start_time": "2025-03-03T10:00:00Z"}, "end_time"),
        ({"start_time": "2025-03-03T10:00:10Z", "end_time": "2025-03-03T10:00:50Z"}, "end_time"),
        ({"start_time": None}, "start_time"),
        ({"start_time": "soon"}, "start_time"),
        ({"description": ""}, "description"),
        ({"billable": None}, "billable"),
    ],
)
def test_update_validation_is_422_and_changes_nothing(ec, entry, body, field):
    before = snapshot()
    response = ec.patch(f"time-entries/{entry.pk}", body)
    error = assert_error(response, 422, "VALIDATION_ERROR", field=field)
    assert set(error["details"]) == {field}
    assert snapshot() == before


def test_update_with_another_organizations_project_is_404(ec, entry, foreign):
    before = snapshot()
    response = ec.patch(f"time-entries/{entry.pk}", {"project_id": str(foreign.project.pk)})
    assert_error(response, 404, "NOT_FOUND", field="project_id")
    assert snapshot() == before


def test_delete(ec, entry):
    response = ec.delete(f"time-entries/{entry.pk}")
    assert response.status_code == 204
    assert response.content == b""
    assert not TimeEntry.objects.filter(pk=entry.pk).exists()
    assert Event.objects.filter(action="time_entry_destroyed", entity_id=entry.pk).exists()
    assert_error(ec.get(f"time-entries/{entry.pk}"), 404, "NOT_FOUND")
    assert_error(ec.delete(f"time-entries/{entry.pk}"), 404, "NOT_FOUND")


# --- bodies that are not JSON objects -------------------------------------------------------


@pytest.mark.parametrize("raw", ["{bad", '{"start_time": ', "[]", '"text"', "null", "12"])
def test_bad_json_is_400(ec, entry, raw):
    before = snapshot()
    for method, path in (("post", "time-entries"), ("patch", f"time-entries/{entry.pk}")):
        response = getattr(ec.client, method)(ec.url(path), raw, content_type="application/json")
        assert_error(response, 400, "BAD_REQUEST")
    assert snapshot() == before


def test_form_encoded_body_is_415(ec):
    response = ec.client.post(ec.url("time-entries"), {"description": "x"})
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_unsupported_method_is_405(ec, entry):
    assert_error(ec.client.put(ec.url(f"time-entries/{entry.pk}")), 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize(
    "params",
    [
        {"q": "nul\u0000byte"},
        {"q": "%_\\'\""},
        {"start_date": "2025-03-01\u0000"},
        {"user_id": "\u0661\u0662"},  # digits, but not ASCII ones
        {"project_id": "\u0661"},
        {"limit": "\u0665"},
    ],
)
def test_odd_query_parameters_are_never_a_500(ec, entry, params):
    response = ec.get("time-entries", params)
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert_error(response, 400, "BAD_REQUEST", field=next(iter(params)))


@pytest.mark.parametrize("header", ["\u0661", "1\u00002", "١٢٣"])
def test_odd_organization_headers_are_404(owner, entry, header):
    response = ec_api(owner, organization=header).get("time-entries")
    assert_error(response, 404, "NOT_FOUND", field="X-Organization-Id")


@pytest.mark.parametrize(
    "body",
    [
        {"start_time": "2025-03-03T10:00:00+99:00", "description": "x"},
        {"start_time": "9999-12-31T23:59:00-12:00", "description": "x"},
        {"start_time": "0001-01-01T00:00:00+01:00", "description": "x"},
        {"start_time": "2025-03-03T10:00:00Z", "description": "x" * 100_000},
        {"start_time": "2025-03-03T10:00:00Z", "description": "\u0000\ud7ff😀"},
        {"start_time": ["2025"], "description": {"a": 1}},
        {"start_time": "2025-03-03T10:00:00Z", "description": "x", "project_id": 2**70},
        {"start_time": "2025-03-03T10:00:00Z", "description": "x", "project_id": True},
        {"start_time": "2025-03-03T10:00:00Z", "description": "x", "user_id": "1"},
    ],
)
def test_odd_input_is_never_a_500(ec, body):
    response = ec.post("time-entries", body)
    assert response.status_code < 500, response.content
    assert response["Content-Type"] == "application/json"


# --- credentials and scopes -----------------------------------------------------------------


def test_no_token_is_401(ec, entry):
    ec.client.credentials()
    response = ec.get("time-entries")
    assert_error(response, 401, "UNAUTHORIZED")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_bad_token_is_401(ec, entry):
    ec.client.credentials(HTTP_AUTHORIZATION="Bearer nonsense")
    assert_error(ec.get("time-entries"), 401, "UNAUTHORIZED")
    before = snapshot()
    assert_error(ec.delete(f"time-entries/{entry.pk}"), 401, "UNAUTHORIZED")
    assert snapshot() == before


def test_a_token_without_entries_write_cannot_write(owner, entry):
    reader = ec_api(owner, scopes=("entries:read",))
    before = snapshot()
    create = {"start_time": "2025-03-03T12:00:00Z", "description": "Sneaky"}
    for method, path, body in (
        ("post", "time-entries", create),
        ("patch", f"time-entries/{entry.pk}", {"description": "Sneaky"}),
        ("delete", f"time-entries/{entry.pk}", None),
    ):
        error = assert_error(reader.call(method, path, body), 403, "FORBIDDEN")
        assert error["details"] == {"scope": ["entries:write"]}
    assert snapshot() == before
    assert reader.get("time-entries").status_code == 200
    assert reader.get(f"time-entries/{entry.pk}").status_code == 200


def test_a_token_without_entries_read_cannot_read(owner, entry):
    other = ec_api(owner, scopes=("team:read",))
    assert_error(other.get("time-entries"), 403, "FORBIDDEN")
    assert_error(other.get(f"time-entries/{entry.pk}"), 403, "FORBIDDEN")


def test_a_write_only_token_can_write(owner, entry):
    writer = ec_api(owner, scopes=("entries:write",))
    response = writer.patch(f"time-entries/{entry.pk}", {"description": "Written"})
    assert response.status_code == 200
    assert response.json()["data"]["description"] == "Written"


# --- tenants --------------------------------------------------------------------------------


def routes(entry_id) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", f"time-entries/{entry_id}", None),
        ("patch", f"time-entries/{entry_id}", {"description": "Hijack"}),
        ("delete", f"time-entries/{entry_id}", None),
    ]


@pytest.mark.parametrize("index", range(3))
def test_another_organizations_entry_is_404_and_unchanged(ec, entry, foreign, index):
    method, path, body = routes(foreign.entry.pk)[index]
    before = snapshot()
    assert_error(ec.call(method, path, body), 404, "NOT_FOUND", field="id")
    assert snapshot() == before


@pytest.mark.parametrize("index", range(3))
def test_naming_another_organization_in_the_header_is_404(owner, entry, foreign, index):
    ec = ec_api(owner, organization=foreign.administration)
    method, path, body = routes(foreign.entry.pk)[index]
    before = snapshot()
    assert_error(ec.call(method, path, body), 404, "NOT_FOUND", field="X-Organization-Id")
    assert_error(ec.get("time-entries"), 404, "NOT_FOUND")
    body = {"start_time": "2025-03-03T10:00:00Z", "description": "Hijack"}
    assert_error(ec.post("time-entries", body), 404, "NOT_FOUND")
    assert snapshot() == before


def test_foreign_entries_never_show_in_the_list(ec, entry, foreign):
    assert ids(ec.get("time-entries", {"limit": 100})) == [str(entry.pk)]
    assert ids(ec.get("time-entries", {"user_id": str(foreign.owner.pk)})) == []


def test_a_member_of_both_organizations_chooses_with_the_header(owner, entry, foreign):
    admin_services.member_add(
        administration=foreign.administration, actor=None, email=owner.email, role="member"
    )
    assert_error(ec_api(owner).get("time-entries"), 400, "BAD_REQUEST", field="X-Organization-Id")
    here = ec_api(owner, organization=entry.administration)
    there = ec_api(owner, organization=foreign.administration)
    assert ids(here.get("time-entries")) == [str(entry.pk)]
    # A member there: only their own entries, of which they have none.
    assert ids(there.get("time-entries")) == []
    assert_error(there.get(f"time-entries/{entry.pk}"), 404, "NOT_FOUND")


def test_a_null_character_in_a_parameter_is_a_400(ec):
    assert_error(ec.get("time-entries", {"cursor": "\x00"}), 400, "BAD_REQUEST", field="cursor")
