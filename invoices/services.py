"""Writes for sales invoices. Every function runs in one transaction and records its audit
event in it."""

from datetime import date

from django.db import transaction

from administrations.models import Administration, User
from administrations.selectors import contact_get
from common.exceptions import FieldError, ValidationFailed
from invoices.models import SalesInvoice
from notes.services import event_record


def _validate(
    administration: Administration,
    *,
    number: str | None,
    state: str,
    invoice_date: date | None,
    due_date: date | None,
) -> None:
    """The model's constraints as rules, all broken ones reported together."""
    errors: dict[str, list[FieldError]] = {}

    def add(field: str, code: str, message: str) -> None:
        errors.setdefault(field, []).append(FieldError(code, message))

    if state not in SalesInvoice.State.values:
        add("state", "inclusion", "must be draft, open, paid or late")
    elif state == SalesInvoice.State.DRAFT and number is not None:
        add("invoice_id", "present", "must be blank while the invoice is a draft")
    elif state != SalesInvoice.State.DRAFT and number is None:
        add("invoice_id", "blank", "can't be blank")
    if number is not None:
        if len(number) > 64:
            add("invoice_id", "too_long", "is too long (at most 64)")
        elif (
            SalesInvoice.objects.for_administration(administration)
            .filter(invoice_id=number)
            .exists()
        ):
            add("invoice_id", "taken", "has already been taken")
    if due_date is None:
        add("due_date", "blank", "can't be blank")
    elif invoice_date is not None and due_date < invoice_date:
        add("due_date", "before_invoice_date", "cannot be before the invoice date")
    if errors:
        raise ValidationFailed(errors)


@transaction.atomic
def sales_invoice_create(
    *,
    administration: Administration,
    actor: User | None,
    contact_id: int | str | None,
    invoice_id: str | None = None,
    state: str = SalesInvoice.State.DRAFT,
    invoice_date: date | None = None,
    due_date: date | None,
) -> SalesInvoice:
    """An invoice for a contact of this administration. `invoice_id` is its number: none while
    a draft, required (and unique in the administration) in every other state."""
    number = (str(invoice_id).strip() if invoice_id is not None else "") or None
    state = str(state)
    _validate(
        administration, number=number, state=state, invoice_date=invoice_date, due_date=due_date
    )
    assert due_date is not None  # _validate refuses an invoice without one
    contact = contact_get(administration, contact_id, field="contact_id")
    invoice = SalesInvoice(
        administration=administration,
        contact=contact,
        invoice_id=number,
        state=state,
        invoice_date=invoice_date,
        due_date=due_date,
    )
    invoice.save(force_insert=True)
    event_record(
        administration=administration,
        actor=actor,
        action="sales_invoice_created",
        entity=invoice,
        data={"contact_id": str(contact.pk), "invoice_id": number, "state": state},
    )
    return invoice
