"""GET /api/v2/{administration_id}/events: the change feed, through HTTP.

Transactional: the feed serves only events of transactions that have ended, so the events a
test makes must really commit (inside pytest-django's usual test transaction they never would)."""

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from administrations import services as admin_services
from notes.models import Event
from tests.conftest import Api
from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    NoteFactory,
    ProjectFactory,
    SalesInvoiceFactory,
    TimeEntryFactory,
    TokenFactory,
    member,
)
from tests.notes.feed_support import settled

pytestmark = pytest.mark.django_db(transaction=True)

ENTRY = {
    "started_at": "2026-03-02T09:00:00Z",
    "ended_at": "2026-03-02T11:00:00Z",
    "description": "Design review",
}


def feed(api, params=None, **extra):
    """GET the feed once every event committed so far may be served."""
    settled()
    return api.get("events", params, **extra)


def next_url(response) -> str | None:
    link = response.headers.get("Link")
    if link is None:
        return None
    url, rel = link.split(";")
    assert rel.strip() == 'rel="next"'
    return url.strip()[1:-1]


def follow(api, url: str, *, settle: bool = True):
    if settle:
        settled()
    parts = urlsplit(url)
    return api.client.get(parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()})


def items_of(api, params=None):
    """Every item of the feed (with `params`), following Link rel="next" to the end."""
    response = feed(api, params)
    assert response.status_code == 200
    items = list(response.json())
    while (url := next_url(response)) is not None:
        response = follow(api, url)
        assert response.status_code == 200
        items.extend(response.json())
    return items


def summary(items):
    return [(i["entity_type"], i["action"]) for i in items]


def test_create_update_delete_shows_three_events_and_the_tombstone(api, administration, owner):
    created = api.post("time_entries", {"time_entry": ENTRY})
    assert created.status_code == 201
    entry_id = created.json()["id"]
    assert api.patch(f"time_entries/{entry_id}", {"time_entry": {"billable": False}}).status_code
    current = api.get(f"time_entries/{entry_id}").json()

    response = feed(api, {"entity_type": "TimeEntry"})
    assert response.status_code == 200
    body = response.json()
    events = list(Event.objects.filter(entity_id=int(entry_id)).order_by("id"))
    assert body == [
        {
            "id": str(events[0].pk),
            "administration_id": str(administration.pk),
            "entity_type": "TimeEntry",
            "entity_id": entry_id,
            "action": "time_entry_created",
            "user_id": str(owner.pk),
            "data": {},
            "created_at": body[0]["created_at"],
            # The record as it is now, not as it was then: exactly its GET.
            "entity": current,
        },
        {
            "id": str(events[1].pk),
            "administration_id": str(administration.pk),
            "entity_type": "TimeEntry",
            "entity_id": entry_id,
            "action": "time_entry_updated",
            "user_id": str(owner.pk),
            "data": {"billable": [True, False], "updated_at": events[1].data["updated_at"]},
            "created_at": body[1]["created_at"],
            "entity": current,
        },
    ]
    assert current["billable"] is False

    assert api.delete(f"time_entries/{entry_id}").status_code == 204
    body = feed(api, {"entity_type": "TimeEntry"}).json()
    assert summary(body) == [
        ("TimeEntry", "time_entry_created"),
        ("TimeEntry", "time_entry_updated"),
        ("TimeEntry", "time_entry_destroyed"),
    ]
    # Once destroyed, every event of the record shows it as gone; the last one is the tombstone,
    # and its data keeps what the entry was.
    assert [item["entity"] for item in body] == [None, None, None]
    assert body[2]["data"]["description"] == "Design review"
    assert body[2]["entity_id"] == entry_id


def test_each_entity_is_its_current_get(api, administration, owner):
    contact = ContactFactory(administration=administration)
    project = ProjectFactory(administration=administration)
    entry = TimeEntryFactory(administration=administration, actor=owner)
    NoteFactory(entity=entry, actor=owner)
    items = items_of(api)
    by_type = {}
    for item in items:
        by_type.setdefault(item["entity_type"], []).append(item)
    assert by_type["Contact"][0]["entity"] == api.get(f"contacts/{contact.pk}").json()
    assert by_type["Project"][0]["entity"] == api.get(f"projects/{project.pk}").json()
    entry_get = api.get(f"time_entries/{entry.pk}").json()
    # note_created is an event of the entry (the note hangs off it), which now shows the note.
    assert summary(by_type["TimeEntry"]) == [
        ("TimeEntry", "time_entry_created"),
        ("TimeEntry", "note_created"),
    ]
    assert [i["entity"] for i in by_type["TimeEntry"]] == [entry_get, entry_get]
    assert len(entry_get["notes"]) == 1
    (listed,) = [u for u in api.get("users").json() if u["id"] == str(owner.pk)]
    assert by_type["User"][0]["entity"] == listed
    administrations = api.client.get("/api/v2/administrations").json()
    assert by_type["Administration"][0]["entity"] in administrations
    assert summary(items)[0] == ("Administration", "administration_added")


def test_a_sales_invoice_has_no_get_here_so_its_entity_is_null(api, administration):
    SalesInvoiceFactory(administration=administration)
    (item,) = [i for i in items_of(api) if i["entity_type"] == "SalesInvoice"]
    assert (item["action"], item["entity"]) == ("sales_invoice_created", None)


def test_a_contact_change_nests_its_data_as_the_contact_events_do(api, administration, owner):
    contact = ContactFactory(administration=administration, city="Gent")
    admin_services.contact_update(contact=contact, actor=owner, changes={"city": "Brugge"})
    items = [i for i in items_of(api, {"entity_type": "Contact"})]
    assert summary(items) == [("Contact", "contact_created"), ("Contact", "contact_changed")]
    in_contact = api.get(f"contacts/{contact.pk}").json()["events"]
    assert items[1]["data"] == in_contact[1]["data"]
    assert items[1]["data"]["changes"]["city"] == ["Gent", "Brugge"]


def test_pages_follow_the_opaque_cursor_to_the_end(api, administration, owner):
    for _ in range(5):
        TimeEntryFactory(administration=administration, actor=owner)
    everything = items_of(api, {"per_page": 100})
    assert len(everything) > 5
    # Commit order, which for these one-by-one writes is also creation order.
    assert [i["id"] for i in everything] == sorted(i["id"] for i in everything)

    seen, pages = [], 0
    response = feed(api, {"per_page": 2, "entity_type": "TimeEntry"})
    while True:
        pages += 1
        assert len(response.json()) <= 2
        seen.extend(response.json())
        url = next_url(response)
        if url is None:
            break
        assert "entity_type=TimeEntry" in url and "per_page=2" in url
        response = follow(api, url)
    # Three pages of events, then an empty one without Link: up to date.
    assert (pages, response.json()) == (4, [])
    assert [i["entity_id"] for i in seen] == [
        i["entity_id"] for i in everything if i["entity_type"] == "TimeEntry"
    ]

    # The client asks the last URL again later and gets only what happened since.
    last = TimeEntryFactory(administration=administration, actor=owner)
    again = follow(api, url_of_last_page(api, seen))
    assert [(i["entity_id"], i["action"]) for i in again.json()] == [
        (str(last.pk), "time_entry_created")
    ]


def url_of_last_page(api, seen):
    """The URL the client was left with: the Link of the page that ended with seen[-1]."""
    response = feed(api, {"per_page": 1, "entity_type": "TimeEntry"})
    while response.json()[0]["id"] != seen[-1]["id"]:
        response = follow(api, next_url(response))
    return next_url(response)


def test_the_cursor_is_opaque_and_json_suffix_works(api, administration, owner):
    response = feed(api, {"per_page": 1})
    cursor = parse_qs(urlsplit(next_url(response)).query)["after"][0]
    assert not cursor.isdigit()
    assert api.client.get(api.url("events.json"), {"after": cursor}).status_code == 200


def _b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        "%%%",
        "é",
        "x" * 200,
        _b64({"xact": "1", "id": "2"}),
        _b64(["1"]),
        _b64(["1", "2", "3"]),
        _b64([1, 2]),
        _b64(["-1", "2"]),
        _b64(["1", "0"]),
        _b64(["1", "99999999999999999999"]),
        _b64(["99999999999999999999", "1"]),
        _b64(["1", "abc"]),
    ],
)
def test_a_bad_cursor_is_400(api, cursor):
    response = api.get("events", {"after": cursor})
    assert response.status_code == 400
    assert response.json() == {
        "error": "after does not have a valid value",
        "symbolic": {"after": "invalid"},
    }


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"per_page": "101"}, "per_page", "max"),
        ({"per_page": "0"}, "per_page", "invalid"),
        ({"page": "2"}, "page", "invalid"),
        ({"entity_type": "Invoice"}, "entity_type", "invalid"),
        ({"entity_type": "TimeEntry,timeentry"}, "entity_type", "invalid"),
        ({"action": "time_entry_created,DROP TABLE"}, "action", "invalid"),
    ],
)
def test_bad_parameters_are_400(api, params, field, code):
    response = api.get("events", params)
    assert response.status_code == 400
    assert response.json()["symbolic"] == {field: code}


def test_filters_by_entity_type_and_action(api, administration, owner):
    entry = TimeEntryFactory(administration=administration, actor=owner)
    ContactFactory(administration=administration)
    api.delete(f"time_entries/{entry.pk}")
    assert summary(items_of(api, {"entity_type": "TimeEntry,Contact"})) == [
        ("TimeEntry", "time_entry_created"),
        ("Contact", "contact_created"),
        ("TimeEntry", "time_entry_destroyed"),
    ]
    assert summary(items_of(api, {"action": "time_entry_destroyed,contact_created"})) == [
        ("Contact", "contact_created"),
        ("TimeEntry", "time_entry_destroyed"),
    ]
    # Repeating a parameter adds to it.
    response = feed(api, {"action": ["time_entry_destroyed", "contact_created"]})
    assert summary(response.json()) == [
        ("Contact", "contact_created"),
        ("TimeEntry", "time_entry_destroyed"),
    ]
    assert items_of(api, {"action": "project_created"}) == []


def test_scopes_decide_which_kinds_of_record_are_served(make_api, administration, owner):
    entry = TimeEntryFactory(administration=administration, actor=owner)
    ContactFactory(administration=administration)
    ProjectFactory(administration=administration)
    SalesInvoiceFactory(administration=administration)
    kinds = {
        ("time_entries",): {"Administration", "TimeEntry"},
        ("settings",): {"Administration", "Project", "User", "Contact"},
        ("sales_invoices",): {"Administration", "SalesInvoice", "Contact"},
        ("time_entries", "settings", "sales_invoices"): {
            "Administration",
            "TimeEntry",
            "Project",
            "User",
            "Contact",
            "SalesInvoice",
        },
    }
    for scopes, expected in kinds.items():
        api = make_api(administration, owner, scopes=scopes)
        assert {i["entity_type"] for i in items_of(api)} == expected, scopes

    # Named explicitly, a kind the token may not see is its missing scope (401, as Moneybird
    # answers a missing permission), not an empty feed it would wait on for ever.
    api = make_api(administration, owner, scopes=("time_entries",))
    response = api.get("events", {"entity_type": "TimeEntry,Contact"})
    assert response.status_code == 401
    assert response.json() == {"error": "No access to sales_invoices"}
    response = api.get("events", {"entity_type": "Project"})
    assert (response.status_code, response.json()) == (401, {"error": "No access to settings"})

    # Without sales_invoices, an entry leaves out its invoice, as its GET does.
    (item,) = [i for i in items_of(api) if i["entity_type"] == "TimeEntry"]
    assert "sales_invoice" not in item["entity"]
    assert item["entity"] == api.get(f"time_entries/{entry.pk}").json()


def test_another_administrations_credential_is_404(make_api, administration, owner):
    other = AdministrationFactory()
    stranger = member(other, role="owner")
    admin_services.member_add(
        administration=other, actor=None, email=owner.email, name=owner.name, role="owner"
    )
    bound_elsewhere = Api(administration, owner, TokenFactory(user=owner, administration=other))
    for api in (make_api(administration, stranger), bound_elsewhere):
        response = api.get("events")
        assert response.status_code == 404
        assert response.json()["symbolic"] == {"administration_id": "not_found"}


def test_another_administrations_events_never_appear(api, administration, owner):
    other = AdministrationFactory()
    TimeEntryFactory(administration=other)
    ContactFactory(administration=other)
    mine = TimeEntryFactory(administration=administration, actor=owner)
    items = items_of(api)
    assert {i["administration_id"] for i in items} == {str(administration.pk)}
    assert [i["entity_id"] for i in items if i["entity_type"] == "TimeEntry"] == [str(mine.pk)]


def test_a_page_without_events_has_no_link(api, administration):
    response = feed(api, {"action": "project_created"})
    assert (response.status_code, response.json(), response.headers.get("Link")) == (
        200,
        [],
        None,
    )


def test_a_page_costs_the_same_queries_whatever_its_size(
    api, administration, owner, django_assert_max_num_queries
):
    def page_queries(size: int) -> int:
        settled()
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = api.get("events", {"per_page": size})
        assert response.status_code == 200 and len(response.json()) == size
        return len(captured.captured_queries)

    project = ProjectFactory(administration=administration)
    for _ in range(3):
        ContactFactory(administration=administration)
        TimeEntryFactory(administration=administration, actor=owner, project_id=project.pk)
    small = page_queries(10)
    for _ in range(30):
        ContactFactory(administration=administration)
        entry = TimeEntryFactory(administration=administration, actor=owner)
        NoteFactory(entity=entry, actor=owner)
    assert page_queries(100) == small
    # Credential and administration, the page, then one query per kind of record.
    with django_assert_max_num_queries(small):
        api.get("events", {"per_page": 100})
