from django.db import models
from django.db.models import F, Q

from administrations.models import Administration, Contact
from common.models import TimestampedModel
from common.querysets import TenantManager


class SalesInvoice(TimestampedModel):
    """A sales invoice, as far as time entries need one: whom it bills, its number and state,
    and its dates. Lines, totals and payments are not modelled yet."""

    entity_type = "SalesInvoice"

    class State(models.TextChoices):
        DRAFT = "draft"
        OPEN = "open"
        PAID = "paid"
        LATE = "late"

    administration = models.ForeignKey(
        Administration, on_delete=models.CASCADE, related_name="sales_invoices"
    )
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="sales_invoices")
    # The invoice number; a draft has none yet.
    invoice_id = models.CharField(max_length=64, null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    invoice_date = models.DateField(null=True, blank=True)
    due_date = models.DateField()

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["administration", "state"], name="si_adm_state"),
            models.Index(fields=["administration", "contact"], name="si_adm_contact"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["draft", "open", "paid", "late"]),
                name="sales_invoice_state_valid",
            ),
            # A draft has no number; every other state has one.
            models.CheckConstraint(
                condition=Q(state="draft", invoice_id__isnull=True)
                | (~Q(state="draft") & Q(invoice_id__isnull=False)),
                name="sales_invoice_number_unless_draft",
            ),
            models.CheckConstraint(
                condition=Q(invoice_date__isnull=True) | Q(due_date__gte=F("invoice_date")),
                name="sales_invoice_due_after_date",
            ),
            # Also the index for looking an invoice up by its number.
            models.UniqueConstraint(
                fields=["administration", "invoice_id"],
                condition=Q(invoice_id__isnull=False),
                name="sales_invoice_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.invoice_id or f"Draft {self.pk}"
