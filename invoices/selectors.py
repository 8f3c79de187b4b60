"""Reads for sales invoices. Every query starts from `sales_invoices_of(administration)`."""

from django.db.models import QuerySet

from administrations.models import Administration
from common.exceptions import NotFound
from common.ids import parse_id
from invoices.models import SalesInvoice

# Moneybird's words when a sales_invoice_id in input does not exist (for this administration).
NOT_FOUND_MESSAGE = "no sales invoice with given ID found"


def sales_invoices_of(administration: Administration) -> QuerySet:
    return SalesInvoice.objects.for_administration(administration)


def sales_invoice_get(
    administration: Administration, sales_invoice_id: int | str | None, *, field: str = "id"
) -> SalesInvoice:
    """The invoice with this id in this administration; NotFound otherwise, the same answer for
    another administration's invoice as for one that does not exist."""
    pk = parse_id(sales_invoice_id)
    invoice = sales_invoices_of(administration).filter(pk=pk).first() if pk is not None else None
    if invoice is None:
        raise NotFound(field, NOT_FOUND_MESSAGE)
    return invoice
