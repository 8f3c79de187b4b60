"""GET /api/v1/events: Expensicat's twin of the change feed, through HTTP (transactional, as the
Moneybird feed's tests: the feed serves only committed transactions)."""

import pytest

from tests.expensicat_support import ALL_SCOPES, assert_error, ec_api
from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    ProjectFactory,
    TimeEntryFactory,
    member,
)
from tests.notes.feed_support import settled

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {
    "start_time": "2026-03-02T09:00:00Z",
    "end_time": "2026-03-02T11:00:00Z",
    "description": "Design review",
}


def feed(ec, params=None):
    settled()
    return ec.get("events", params)


def everything(ec, params=None):
    """Every item, following meta.next_cursor until a page comes back empty."""
    params = dict(params or {})
    items = []
    while True:
        response = feed(ec, params)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"data", "meta"}
        assert body["meta"]["count"] == len(body["data"])
        items.extend(body["data"])
        if body["meta"]["next_cursor"] is None:
            assert body["data"] == []
            return items
        params["cursor"] = body["meta"]["next_cursor"]


def test_create_update_delete_in_this_dialects_shapes(administration, owner):
    ec = ec_api(owner)
    created = ec.post("time-entries", BODY)
    assert created.status_code == 201
    entry_id = created.json()["data"]["id"]
    assert ec.patch(f"time-entries/{entry_id}", {"billable": False}).status_code == 200
    current = ec.get(f"time-entries/{entry_id}").json()["data"]

    response = feed(ec, {"entity_type": "time_entry"})
    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["count"] == 2 and body["meta"]["next_cursor"]
    first, second = body["data"]
    assert first == {
        "id": first["id"],
        "organization_id": str(administration.pk),
        "entity_type": "time_entry",
        "entity_id": entry_id,
        "action": "time_entry_created",
        "user_id": str(owner.pk),
        "data": {},
        "created_at": first["created_at"],
        # The record as this dialect's GET answers now.
        "entity": current,
    }
    assert (second["action"], second["entity"]) == ("time_entry_updated", current)
    assert second["data"]["billable"] == [True, False]

    assert ec.delete(f"time-entries/{entry_id}").status_code == 204
    items = everything(ec, {"entity_type": "time_entry"})
    assert [(i["action"], i["entity"]) for i in items] == [
        ("time_entry_created", None),
        ("time_entry_updated", None),
        ("time_entry_destroyed", None),
    ]


def test_the_same_events_as_the_moneybird_feed(api, administration, owner):
    ContactFactory(administration=administration)
    ProjectFactory(administration=administration)
    TimeEntryFactory(administration=administration, actor=owner)
    ec = ec_api(owner, scopes=(*ALL_SCOPES, "settings", "sales_invoices"))
    mine = everything(ec, {"limit": 2})
    settled()
    theirs = api.get("events", {"per_page": 100}).json()
    assert [(i["id"], i["action"]) for i in mine] == [(i["id"], i["action"]) for i in theirs]
    names = {i["entity_type"] for i in mine}
    assert names == {"organization", "member", "customer", "project", "time_entry"}


def test_entities_are_this_dialects_renderings(administration, owner):
    customer = ContactFactory(administration=administration)
    project = ProjectFactory(administration=administration, contact_id=customer.pk)
    ec = ec_api(owner)
    items = {(i["entity_type"], i["entity_id"]): i["entity"] for i in everything(ec)}
    assert (
        items[("customer", str(customer.pk))] == ec.get(f"customers/{customer.pk}").json()["data"]
    )
    assert items[("project", str(project.pk))] == ec.get(f"projects/{project.pk}").json()["data"]
    assert (
        items[("organization", str(administration.pk))]
        == ec.get("organizations/current").json()["data"]
    )
    (listed,) = [m for m in ec.get("members").json()["data"] if m["id"] == str(owner.pk)]
    assert items[("member", str(owner.pk))] == listed


@pytest.mark.parametrize("cursor", ["nonsense", "WyIxIl0", "x" * 300])
def test_a_bad_cursor_is_400(administration, owner, cursor):
    response = ec_api(owner).get("events", {"cursor": cursor})
    assert_error(response, 400, "BAD_REQUEST", field="cursor")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"entity_type": "TimeEntry"}, "entity_type"),
        ({"action": "Created!"}, "action"),
    ],
)
def test_bad_parameters_are_400(administration, owner, params, field):
    assert_error(ec_api(owner).get("events", params), 400, "BAD_REQUEST", field=field)


def test_scopes_decide_the_kinds_and_naming_a_forbidden_one_is_403(administration, owner):
    TimeEntryFactory(administration=administration, actor=owner)
    ec = ec_api(owner, scopes=("entries:read",))
    assert {i["entity_type"] for i in everything(ec)} == {"organization", "time_entry"}
    error = assert_error(ec.get("events", {"entity_type": "member"}), 403, "FORBIDDEN")
    assert error["details"] == {"scope": ["team:read"]}
    ec = ec_api(owner, scopes=("team:read",))
    assert {i["entity_type"] for i in everything(ec)} == {"organization", "member"}


def test_members_may_not_read_the_organizations_changes(administration):
    colleague = member(administration, role="member")
    assert_error(ec_api(colleague).get("events"), 403, "FORBIDDEN")
    admin = member(administration, role="admin")
    assert ec_api(admin).get("events").status_code == 200


def test_another_organization_is_404(administration, owner):
    other = AdministrationFactory()
    assert_error(ec_api(owner, organization=other).get("events"), 404, "NOT_FOUND")


def test_a_page_costs_the_same_queries_whatever_its_size(
    administration, owner, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ec = ec_api(owner)
    for _ in range(3):
        ContactFactory(administration=administration)
        ProjectFactory(administration=administration)
        TimeEntryFactory(administration=administration, actor=owner)

    def page_queries(limit: int) -> int:
        settled()
        with CaptureQueriesContext(connection) as captured:
            response = ec.get("events", {"limit": limit})
        assert response.json()["meta"]["count"] == limit
        return len(captured.captured_queries)

    small = page_queries(8)
    for _ in range(30):
        ContactFactory(administration=administration)
        ProjectFactory(administration=administration)
        TimeEntryFactory(administration=administration, actor=owner)
    assert page_queries(100) == small
