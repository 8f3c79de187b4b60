"""The sales-invoice admin adds through the service; it cannot change or delete."""

import pytest
from django.contrib.admin.models import LogEntry

from invoices.models import SalesInvoice
from notes.models import Event
from tests.factories import AdministrationFactory, ContactFactory, SalesInvoiceFactory

URL = "/admin/invoices/salesinvoice/"


def form(administration, contact, **values):
    return {
        "administration": administration.pk,
        "contact": contact.pk,
        "invoice_id": "",
        "state": "draft",
        "invoice_date": "",
        "due_date": "2026-03-16",
        **values,
    }


@pytest.fixture
def contact(administration):
    return ContactFactory(administration=administration)


def test_add_creates_through_the_service(admin_client, admin_user, administration, contact):
    response = admin_client.post(
        f"{URL}add/",
        form(
            administration,
            contact,
            invoice_id=" 2026-0001 ",
            state="open",
            invoice_date="2026-03-02",
        ),
    )
    assert response.status_code == 302
    invoice = SalesInvoice.objects.get()
    assert (invoice.invoice_id, invoice.state, invoice.contact) == ("2026-0001", "open", contact)
    event = Event.objects.get(subject_type="SalesInvoice", entity_id=invoice.pk)
    assert (event.action, event.user) == ("sales_invoice_created", admin_user)
    assert LogEntry.objects.get().object_id == str(invoice.pk)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"state": "open"}, "invoice_id", "can't be blank"),
        ({"invoice_date": "2026-03-17"}, "due_date", "cannot be before the invoice date"),
        ({"foreign": True}, "contact", "is not in this administration"),
    ],
)
def test_service_errors_show_on_the_form(
    admin_client, administration, contact, values, field, message
):
    if values.pop("foreign", False):
        contact = ContactFactory(administration=AdministrationFactory())
    events = Event.objects.count()
    response = admin_client.post(f"{URL}add/", form(administration, contact, **values))
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors[field]
    assert not SalesInvoice.objects.exists()
    assert Event.objects.count() == events
    assert not LogEntry.objects.exists()


def test_an_invoice_can_be_viewed_but_not_changed_or_deleted(admin_client, administration):
    invoice = SalesInvoiceFactory(administration=administration)
    assert admin_client.get(URL).status_code == 200
    page = admin_client.get(f"{URL}{invoice.pk}/change/")
    assert page.status_code == 200
    assert "sales_invoice_created" in page.content.decode()
    response = admin_client.post(
        f"{URL}{invoice.pk}/change/", form(administration, invoice.contact)
    )
    assert response.status_code == 403
    assert admin_client.post(f"{URL}{invoice.pk}/delete/", {"post": "yes"}).status_code == 403
    assert SalesInvoice.objects.filter(pk=invoice.pk).exists()
