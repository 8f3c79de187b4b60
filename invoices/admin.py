"""Sales invoices in the admin: adding is the sales_invoice_create service (see ServiceAdmin).
No service changes or deletes an invoice yet, so the admin cannot either."""

from django.contrib import admin

from common.admin import ServiceAdmin
from invoices import services
from invoices.models import SalesInvoice
from notes.admin import AuditTrailMixin


@admin.register(SalesInvoice)
class SalesInvoiceAdmin(AuditTrailMixin, ServiceAdmin):
    list_display = ("__str__", "administration", "contact", "state", "invoice_date", "due_date")
    list_filter = ("state", "administration")
    list_select_related = ("administration", "contact")
    search_fields = ("invoice_id",)
    autocomplete_fields = ("administration", "contact")
    service_names = {"contact": "contact_id"}
    fields = (
        "administration",
        "contact",
        "invoice_id",
        "state",
        "invoice_date",
        "due_date",
        "created_at",
        "updated_at",
        "audit_trail",
    )
    add_fields = fields[:6]
    readonly_fields = ("created_at", "updated_at", "audit_trail")

    def service_create(self, request, values):
        return services.sales_invoice_create(actor=request.user, **values)

    def has_change_permission(self, request, obj=None):
        return False  # no update service yet: the change page is a read-only view

    def has_delete_permission(self, request, obj=None):
        return False  # time entries protect their invoice, and no service deletes one yet
