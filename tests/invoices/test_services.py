"""Sales invoices: created through the one service, validated, audited, tenant-scoped."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from common.exceptions import NotFound, ValidationFailed
from invoices.models import SalesInvoice
from invoices.selectors import sales_invoice_get
from invoices.services import sales_invoice_create
from notes.models import Event
from tests.factories import AdministrationFactory, ContactFactory, SalesInvoiceFactory

DUE = date(2026, 3, 16)


@pytest.fixture
def contact(administration):
    return ContactFactory(administration=administration, company_name="Foobar Holding B.V.")


def create(administration, contact, **kwargs):
    kwargs.setdefault("due_date", DUE)
    return sales_invoice_create(
        administration=administration, actor=None, contact_id=contact.pk, **kwargs
    )


def codes(exc_info) -> dict[str, list[str]]:
    return {f: [e.code for e in errs] for f, errs in exc_info.value.errors.items()}


def test_a_draft_has_no_number_and_records_its_event(administration, owner, contact):
    invoice = sales_invoice_create(
        administration=administration, actor=owner, contact_id=str(contact.pk), due_date=DUE
    )
    invoice.refresh_from_db()
    assert (invoice.state, invoice.invoice_id, invoice.contact, invoice.due_date) == (
        "draft",
        None,
        contact,
        DUE,
    )
    event = Event.objects.get(subject_type="SalesInvoice", entity_id=invoice.pk)
    assert (event.action, event.user, event.administration) == (
        "sales_invoice_created",
        owner,
        administration,
    )
    assert event.data == {"contact_id": str(contact.pk), "invoice_id": None, "state": "draft"}


def test_an_open_invoice_has_a_number(administration, contact):
    invoice = create(
        administration,
        contact,
        invoice_id=" 2026-0001 ",
        state="open",
        invoice_date=date(2026, 3, 2),
    )
    invoice.refresh_from_db()
    assert (invoice.invoice_id, invoice.state, invoice.invoice_date) == (
        "2026-0001",
        "open",
        date(2026, 3, 2),
    )
    assert str(invoice) == "2026-0001"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"state": "open"}, {"invoice_id": ["blank"]}),
        ({"state": "paid", "invoice_id": "  "}, {"invoice_id": ["blank"]}),
        ({"invoice_id": "2026-0001"}, {"invoice_id": ["present"]}),
        ({"state": "sent", "invoice_id": "1"}, {"state": ["inclusion"]}),
        ({"due_date": None}, {"due_date": ["blank"]}),
        (
            {"invoice_date": date(2026, 3, 17), "state": "late"},
            {"invoice_id": ["blank"], "due_date": ["before_invoice_date"]},
        ),
    ],
)
def test_broken_rules_are_reported_together_and_nothing_is_written(
    administration, contact, kwargs, expected
):
    events = Event.objects.count()
    with pytest.raises(ValidationFailed) as exc_info:
        create(administration, contact, **kwargs)
    assert codes(exc_info) == expected
    assert not SalesInvoice.objects.exists()
    assert Event.objects.count() == events


def test_a_number_is_unique_within_its_administration_only(administration, contact):
    create(administration, contact, invoice_id="2026-0001", state="open")
    with pytest.raises(ValidationFailed) as exc_info:
        create(administration, contact, invoice_id="2026-0001", state="paid")
    assert codes(exc_info) == {"invoice_id": ["taken"]}

    other = AdministrationFactory()
    elsewhere = create(
        other, ContactFactory(administration=other), invoice_id="2026-0001", state="open"
    )
    assert elsewhere.invoice_id == "2026-0001"
    # Drafts, all without a number, do not clash.
    create(administration, contact)
    create(administration, contact)
    assert SalesInvoice.objects.filter(administration=administration).count() == 3


def test_the_contact_must_be_in_the_administration(administration):
    foreign = ContactFactory(administration=AdministrationFactory())
    with pytest.raises(NotFound) as exc_info:
        create(administration, foreign)
    assert exc_info.value.field == "contact_id"
    assert not SalesInvoice.objects.exists()


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"state": "sent", "invoice_id": "1"}, "sales_invoice_state_valid"),
        ({"state": "open", "invoice_id": None}, "sales_invoice_number_unless_draft"),
        ({"state": "draft", "invoice_id": "1"}, "sales_invoice_number_unless_draft"),
        ({"invoice_date": date(2026, 3, 17)}, "sales_invoice_due_after_date"),
    ],
)
def test_the_rules_are_database_constraints_too(administration, contact, values, constraint):
    row = {"state": "draft", "invoice_id": None, "due_date": DUE, **values}
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        SalesInvoice.objects.create(administration=administration, contact=contact, **row)


def test_the_number_is_unique_in_the_database(administration, contact):
    create(administration, contact, invoice_id="7", state="open")
    with pytest.raises(IntegrityError), transaction.atomic():
        SalesInvoice.objects.create(
            administration=administration,
            contact=contact,
            invoice_id="7",
            state="paid",
            due_date=DUE,
        )


# --- selector -------------------------------------------------------------------------------


def test_get_finds_the_invoice_in_its_administration(administration):
    invoice = SalesInvoiceFactory(administration=administration)
    assert sales_invoice_get(administration, str(invoice.pk)) == invoice
    assert sales_invoice_get(administration, invoice.pk, field="sales_invoice_id") == invoice


@pytest.mark.parametrize("bad", ["foreign", "missing", "abc", None, 0, -1, 2**63])
def test_get_is_not_found_for_anything_else(administration, bad):
    foreign = SalesInvoiceFactory(administration=AdministrationFactory())
    value = {"foreign": foreign.pk, "missing": foreign.pk + 1}.get(bad, bad)
    with pytest.raises(NotFound) as exc_info:
        sales_invoice_get(administration, value, field="sales_invoice_id")
    assert (exc_info.value.field, exc_info.value.message) == (
        "sales_invoice_id",
        "no sales invoice with given ID found",
    )
