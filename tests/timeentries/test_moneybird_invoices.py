"""Time entries and sales invoices at the Moneybird HTTP layer: `sales_invoice_id` looked up in
the administration (Moneybird's own 404 otherwise), the invoicing event, the `sales_invoice`
rendering and its scope, the `state:open` filter; and the administration's locked period, which
no create, update or delete may touch. Time is frozen at the OpenAPI examples' instant."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from administrations.services import administration_update
from notes.models import Event
from tests.factories import AdministrationFactory, SalesInvoiceFactory
from tests.timeentries.moneybird_support import (
    AMS,
    assert_time_entry_shape,
    expected_time_entry,
    ids,
    make_entry,
    unprocessable,
)
from timeentries.models import TimeEntry

NOW = datetime(2026, 8, 21, 13, 48, 55, 543000, tzinfo=UTC)
START = datetime(2026, 8, 21, 13, 48, tzinfo=UTC)
HOUR = timedelta(hours=1)

# The OpenAPI's example: POST /time_entries with a sales_invoice_id that does not exist.
SALES_INVOICE_NOT_FOUND = {
    "error": "no sales invoice with given ID found",
    "symbolic": {"sales_invoice_id": "not_found"},
}


@pytest.fixture(autouse=True)
def frozen(freeze):
    freeze(NOW)


@pytest.fixture
def invoice(administration, contact):
    return SalesInvoiceFactory(
        administration=administration,
        contact_id=contact.pk,
        invoice_id="2026-0001",
        state="open",
        invoice_date=date(2026, 8, 21),
        due_date=date(2026, 9, 4),
    )


@pytest.fixture
def second_invoice(administration, contact):
    return SalesInvoiceFactory(administration=administration, contact_id=contact.pk)


@pytest.fixture
def foreign_invoice(db):
    return SalesInvoiceFactory(administration=AdministrationFactory(name="Other"))


@pytest.fixture
def entry(administration, owner, contact):
    return make_entry(
        administration, owner, START, description="Designing the website", contact_id=contact.pk
    )


def snapshot():
    """Every entry as stored, and every event."""
    return (
        sorted(
            TimeEntry.objects.values_list(
                "pk",
                "description",
                "started_at",
                "ended_at",
                "contact_id",
                "sales_invoice_id",
                "billable",
                "updated_at",
            )
        ),
        sorted(Event.objects.values_list("pk", "action", "entity_id")),
    )


def create_body(**extra) -> dict:
    return {
        "time_entry": {
            "started_at": "2026-08-21T13:48:00.000Z",
            "ended_at": "2026-08-21T14:48:00.000Z",
            "description": "Test",
            **extra,
        }
    }


def actions(entry) -> list[str]:
    return list(
        Event.objects.filter(subject_type="TimeEntry", entity_id=entry.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- sales_invoice_id in input --------------------------------------------------------------


def test_create_with_an_unknown_sales_invoice_is_the_openapi_404(api, entry):
    before = snapshot()
    response = api.post("time_entries", create_body(sales_invoice_id=496081425156539500))
    assert response.status_code == 404
    assert response.json() == SALES_INVOICE_NOT_FOUND
    assert snapshot() == before


@pytest.mark.parametrize("method", ["create", "update"])
@pytest.mark.parametrize("which", ["foreign", "missing"])
def test_another_administrations_invoice_is_the_same_404_and_nothing_is_written(
    api, entry, foreign_invoice, method, which
):
    invoice_id = str(foreign_invoice.pk if which == "foreign" else foreign_invoice.pk + 1)
    before = snapshot()
    if method == "create":
        response = api.post("time_entries", create_body(sales_invoice_id=invoice_id))
    else:
        response = api.patch(
            f"time_entries/{entry.pk}",
            {"time_entry": {"description": "Hijack", "sales_invoice_id": invoice_id}},
        )
    assert response.status_code == 404
    assert response.json() == SALES_INVOICE_NOT_FOUND
    assert snapshot() == before
    assert not foreign_invoice.time_entries.exists()


def test_a_malformed_sales_invoice_id_is_422(api, entry):
    before = snapshot()
    response = api.patch(f"time_entries/{entry.pk}", {"time_entry": {"sales_invoice_id": "x1"}})
    assert response.status_code == 422
    assert response.json() == unprocessable(sales_invoice_id=("invalid", "is not a valid id"))
    assert snapshot() == before


def test_create_on_an_invoice_records_created_then_invoiced(api, administration, owner, invoice):
    response = api.post("time_entries", create_body(sales_invoice_id=invoice.pk))
    assert response.status_code == 201
    body = response.json()
    entry = TimeEntry.objects.get(pk=body["id"])
    assert entry.sales_invoice == invoice
    assert body == expected_time_entry(entry)
    assert_time_entry_shape(body)
    assert body["events"] == [
        {
            "administration_id": str(administration.pk),
            "user_id": str(owner.pk),
            "action": "time_entry_created",
            "link_entity_id": None,
            "link_entity_type": None,
            "data": {},
            "created_at": "2026-08-21T13:48:55.543Z",
            "updated_at": "2026-08-21T13:48:55.543Z",
        },
        {
            "administration_id": str(administration.pk),
            "user_id": str(owner.pk),
            "action": "time_entry_sales_invoice_created",
            "link_entity_id": str(invoice.pk),
            "link_entity_type": "SalesInvoice",
            "data": {},
            "created_at": "2026-08-21T13:48:55.543Z",
            "updated_at": "2026-08-21T13:48:55.543Z",
        },
    ]


def test_linking_by_update_records_updated_and_invoiced(api, owner, entry, invoice):
    response = api.patch(
        f"time_entries/{entry.pk}", {"time_entry": {"sales_invoice_id": str(invoice.pk)}}
    )
    assert response.status_code == 200
    body = response.json()
    assert body == expected_time_entry(entry)
    assert body["sales_invoice_id"] == str(invoice.pk)
    updated, invoiced = body["events"][-2:]
    assert updated["action"] == "time_entry_updated"
    assert updated["data"] == {
        "sales_invoice_id": [None, str(invoice.pk)],
        "updated_at": [
            "2026-08-21T15:48:55.543+02:00",
            "2026-08-21T15:48:55.543+02:00",
        ],
    }
    assert (
        invoiced["action"],
        invoiced["link_entity_id"],
        invoiced["link_entity_type"],
        invoiced["user_id"],
    ) == ("time_entry_sales_invoice_created", str(invoice.pk), "SalesInvoice", str(owner.pk))


def test_moving_invoices_records_again_and_unlinking_or_repeating_does_not(
    api, entry, invoice, second_invoice
):
    url = f"time_entries/{entry.pk}"
    api.patch(url, {"time_entry": {"sales_invoice_id": invoice.pk}})
    assert api.patch(url, {"time_entry": {"sales_invoice_id": invoice.pk}}).status_code == 200
    assert actions(entry) == [
        "time_entry_created",
        "time_entry_updated",
        "time_entry_sales_invoice_created",
    ]

    api.patch(url, {"time_entry": {"sales_invoice_id": second_invoice.pk}})
    last = Event.objects.filter(entity_id=entry.pk).order_by("-id").first()
    assert (last.action, last.link_entity_id) == (
        "time_entry_sales_invoice_created",
        second_invoice.pk,
    )

    response = api.patch(url, {"time_entry": {"sales_invoice_id": None}})
    assert response.status_code == 200
    assert (response.json()["sales_invoice_id"], response.json()["sales_invoice"]) == (None, None)
    assert actions(entry)[-3:] == [
        "time_entry_updated",
        "time_entry_sales_invoice_created",
        "time_entry_updated",
    ]
    assert response.json()["events"][-1]["data"]["sales_invoice_id"] == [
        str(second_invoice.pk),
        None,
    ]


# --- rendering --------------------------------------------------------------------------------


def test_the_invoice_is_rendered_with_the_sales_invoices_scope(api, administration, entry, invoice):
    api.patch(f"time_entries/{entry.pk}", {"time_entry": {"sales_invoice_id": invoice.pk}})
    invoice.refresh_from_db()
    expected_invoice = {
        "id": str(invoice.pk),
        "administration_id": str(administration.pk),
        "contact_id": str(invoice.contact_id),
        "invoice_id": "2026-0001",
        "state": "open",
        "invoice_date": "2026-08-21",
        "due_date": "2026-09-04",
        "created_at": "2026-08-21T13:48:55.543Z",
        "updated_at": "2026-08-21T13:48:55.543Z",
    }
    shown = api.get(f"time_entries/{entry.pk}").json()
    assert shown["sales_invoice"] == expected_invoice
    assert shown == expected_time_entry(entry)
    assert_time_entry_shape(shown)
    listed = api.get("time_entries").json()
    assert listed == [expected_time_entry(entry)]
    assert listed[0]["sales_invoice"] == expected_invoice


def test_a_draft_invoice_has_no_number_or_date(api, entry, second_invoice):
    body = api.patch(
        f"time_entries/{entry.pk}", {"time_entry": {"sales_invoice_id": second_invoice.pk}}
    ).json()
    assert (
        body["sales_invoice"]["state"],
        body["sales_invoice"]["invoice_id"],
        body["sales_invoice"]["invoice_date"],
    ) == ("draft", None, None)


def test_without_the_sales_invoices_scope_the_invoice_is_left_out(
    api, make_api, administration, owner, entry, invoice
):
    """The OpenAPI's DoesNotIncludeTheSalesInvoiceWhenTheApiUserHasNoAccessToSalesInvoices: the
    key is absent (not null); sales_invoice_id stays."""
    limited = make_api(administration, owner, scopes=("time_entries",))
    plain = make_entry(administration, owner, START - HOUR, description="Not invoiced")
    # Linking needs the scope (see below), so a fully scoped token links it.
    linked = api.patch(f"time_entries/{entry.pk}", {"time_entry": {"sales_invoice_id": invoice.pk}})
    assert linked.status_code == 200
    response = limited.patch(f"time_entries/{entry.pk}", {"time_entry": {"billable": True}})
    assert response.status_code == 200
    assert "sales_invoice" not in response.json()
    assert response.json()["sales_invoice_id"] == str(invoice.pk)

    shown = limited.get(f"time_entries/{entry.pk}").json()
    assert shown == expected_time_entry(entry, sales_invoices=False)
    assert_time_entry_shape(shown)
    assert limited.get(f"time_entries/{plain.pk}").json() == expected_time_entry(
        plain, sales_invoices=False
    )
    assert limited.get("time_entries").json() == [
        expected_time_entry(entry, sales_invoices=False),
        expected_time_entry(plain, sales_invoices=False),
    ]
    created = limited.post("time_entries", create_body())
    assert created.status_code == 201
    assert "sales_invoice" not in created.json()
    stopped = limited.patch(f"time_entries/{entry.pk}/stop")
    assert "sales_invoice" not in stopped.json()


# --- filter -----------------------------------------------------------------------------------


def test_state_open_is_billable_and_not_yet_invoiced(api, administration, owner, invoice):
    def entry_at(hours_before: int, **kwargs):
        return make_entry(administration, owner, START - hours_before * HOUR, **kwargs)

    open_ = entry_at(1, description="Open")
    invoiced = entry_at(2, description="Invoiced", sales_invoice_id=invoice.pk)
    non_billable = entry_at(3, description="Non-billable", billable=False)
    non_billable_invoiced = entry_at(
        4, description="Non-billable, invoiced", billable=False, sales_invoice_id=invoice.pk
    )

    def listed(state: str) -> list[str]:
        response = api.get("time_entries", {"filter": f"state:{state}"})
        assert response.status_code == 200
        return ids(response)

    assert listed("open") == [str(open_.pk)]
    assert listed("non_billable") == [str(non_billable.pk), str(non_billable_invoiced.pk)]
    assert listed("open|non_billable") == [
        str(open_.pk),
        str(non_billable.pk),
        str(non_billable_invoiced.pk),
    ]
    assert listed("all") == [
        str(e.pk) for e in (open_, invoiced, non_billable, non_billable_invoiced)
    ]


def test_the_list_query_count_does_not_grow_with_invoiced_entries(
    api, administration, owner, contact
):
    for n in range(12):
        invoice = SalesInvoiceFactory(administration=administration, contact_id=contact.pk)
        make_entry(administration, owner, START - n * HOUR, sales_invoice_id=invoice.pk)
    counts = {}
    for per_page in (2, 12):
        with CaptureQueriesContext(connection) as queries:
            response = api.get("time_entries", {"per_page": per_page})
        assert response.status_code == 200
        assert len(response.json()) == per_page
        assert all(item["sales_invoice"] is not None for item in response.json())
        counts[per_page] = len(queries)
    assert counts[2] == counts[12]


# --- the locked period ------------------------------------------------------------------------

LOCKED_UNTIL = date(2026, 3, 31)
LOCKED = unprocessable(base=("period_locked", "The period until 2026-03-31 is locked"))
# The last minutes of the locked day and the first of the next, in Amsterdam (summer time):
# 00:30 on 1 April is still 31 March in UTC, and it is open.
LAST_LOCKED = datetime(2026, 3, 31, 23, 30, tzinfo=AMS)
FIRST_OPEN = datetime(2026, 4, 1, 0, 30, tzinfo=AMS)


def lock(administration) -> None:
    administration_update(
        administration=administration,
        actor=None,
        changes={"period_locked_until": LOCKED_UNTIL},
    )


def iso(value: datetime) -> str:
    return value.isoformat()


@pytest.mark.parametrize("start", [LAST_LOCKED, datetime(2026, 1, 5, 9, 0, tzinfo=AMS)])
def test_create_in_the_locked_period_is_422_and_writes_nothing(api, administration, start):
    lock(administration)
    before = snapshot()
    body = create_body(started_at=iso(start), ended_at=iso(start + timedelta(minutes=20)))
    response = api.post("time_entries", body)
    assert response.status_code == 422
    assert response.json() == LOCKED
    assert snapshot() == before


def test_create_after_the_locked_period_works(api, administration):
    lock(administration)
    response = api.post(
        "time_entries",
        create_body(started_at=iso(FIRST_OPEN), ended_at=iso(FIRST_OPEN + HOUR)),
    )
    assert response.status_code == 201
    assert response.json()["started_at"] == "2026-03-31T22:30:00.000Z"


@pytest.fixture
def locked_and_open(administration, owner):
    locked = make_entry(administration, owner, LAST_LOCKED, minutes=20, description="Locked")
    open_ = make_entry(administration, owner, FIRST_OPEN, description="Open")
    lock(administration)
    return locked, open_


@pytest.mark.parametrize(
    "changes",
    [
        {"description": "Rewritten"},
        {"billable": False},
        {"started_at": "2026-04-02T09:00:00+02:00", "ended_at": "2026-04-02T10:00:00+02:00"},
        {"sales_invoice_id": "invoice"},
    ],
)
def test_update_of_a_locked_entry_is_422_and_changes_nothing(
    api, locked_and_open, invoice, changes
):
    locked, _ = locked_and_open
    if changes.get("sales_invoice_id") == "invoice":
        changes = {"sales_invoice_id": str(invoice.pk)}
    before = snapshot()
    response = api.patch(f"time_entries/{locked.pk}", {"time_entry": changes})
    assert response.status_code == 422
    assert response.json() == LOCKED
    assert snapshot() == before


def test_moving_an_open_entry_into_the_locked_period_is_422(api, locked_and_open):
    _, open_ = locked_and_open
    before = snapshot()
    response = api.patch(
        f"time_entries/{open_.pk}",
        {"time_entry": {"started_at": "2026-03-31T21:00:00Z"}},
    )
    assert response.status_code == 422
    assert response.json() == LOCKED
    assert snapshot() == before


def test_update_after_the_locked_period_works(api, locked_and_open, invoice):
    _, open_ = locked_and_open
    response = api.patch(
        f"time_entries/{open_.pk}",
        {"time_entry": {"description": "Still open", "sales_invoice_id": invoice.pk}},
    )
    assert response.status_code == 200
    assert response.json() == expected_time_entry(open_)
    assert open_.description == "Still open"
    assert actions(open_)[-2:] == ["time_entry_updated", "time_entry_sales_invoice_created"]


def test_delete_of_a_locked_entry_is_422_and_changes_nothing(api, locked_and_open):
    locked, _ = locked_and_open
    before = snapshot()
    response = api.delete(f"time_entries/{locked.pk}")
    assert response.status_code == 422
    assert response.json() == LOCKED
    assert snapshot() == before


def test_delete_after_the_locked_period_works(api, locked_and_open):
    locked, open_ = locked_and_open
    assert api.delete(f"time_entries/{open_.pk}").status_code == 204
    assert not TimeEntry.objects.filter(pk=open_.pk).exists()
    assert TimeEntry.objects.filter(pk=locked.pk).exists()
    assert Event.objects.filter(entity_id=open_.pk, action="time_entry_destroyed").exists()


def test_linking_an_invoice_needs_the_sales_invoices_scope(
    administration, owner, make_api, invoice
):
    """Moneybird: "Api user needs access to both sales invoices and time entries"."""
    api = make_api(administration, owner, scopes=("time_entries",))
    before = snapshot()
    body = {
        "time_entry": {
            "started_at": "2026-03-02 10:00:00 UTC",
            "ended_at": "2026-03-02 11:00:00 UTC",
            "description": "Invoiced work",
            "sales_invoice_id": str(invoice.pk),
        }
    }
    response = api.post("time_entries", body)
    assert (response.status_code, response.json()) == (
        401,
        {"error": "No access to sales_invoices"},
    )
    assert snapshot() == before
    del body["time_entry"]["sales_invoice_id"]
    assert api.post("time_entries", body).status_code == 201
