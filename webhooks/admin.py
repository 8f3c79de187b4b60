"""Webhooks per administration, their delivery log and redelivery in the admin, all through
webhooks.services (so a staff change is audited like an API one).

Adding a webhook makes its test push twice: once in the form's dry run (common.admin
explains it), once for real; a receiver must answer both with 200."""

from django.contrib import admin, messages
from django.db import models

from common.admin import ServiceAdmin, html_table
from notes.admin import AuditTrailMixin
from webhooks import services
from webhooks.models import Delivery, Webhook


@admin.register(Webhook)
class WebhookAdmin(AuditTrailMixin, ServiceAdmin):
    list_display = ("url", "administration", "enabled_events", "last_http_status", "deactivated_at")
    list_filter = (("deactivated_at", admin.EmptyFieldListFilter), "administration")
    list_select_related = ("administration",)
    search_fields = ("url", "token")
    autocomplete_fields = ("administration",)
    fields = (
        "administration",
        "url",
        "enabled_events",
        "token",
        "last_http_status",
        "last_http_body",
        "deactivated_at",
        "failing_since",
        "created_at",
        "recent_deliveries",
        "audit_trail",
    )
    add_fields = ("administration", "url", "enabled_events")
    readonly_fields = (
        "token",
        "last_http_status",
        "last_http_body",
        "deactivated_at",
        "failing_since",
        "created_at",
        "recent_deliveries",
        "audit_trail",
    )
    # No service changes a webhook's URL or events: Moneybird's API has no update either.
    fixed_fields = ("administration", "url", "enabled_events")
    actions = ("activate", "deactivate")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def service_create(self, request, values):
        webhook = services.webhook_create(actor=request.user, **values)
        return webhook

    def service_update(self, request, obj, changes):
        return obj

    def service_delete(self, request, obj):
        services.webhook_delete(webhook=obj, actor=request.user)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            messages.success(request, f"The webhook's secret, shown only this once: {obj.secret}")

    @admin.action(description="Activate selected webhooks")
    def activate(self, request, queryset):
        for webhook in queryset.select_related("administration"):
            services.webhook_activate(webhook=webhook, actor=request.user)
        self.message_user(request, "Activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected webhooks")
    def deactivate(self, request, queryset):
        for webhook in queryset.select_related("administration"):
            services.webhook_deactivate(webhook=webhook, actor=request.user)
        self.message_user(request, "Deactivated.", messages.SUCCESS)

    @admin.display(description="recent deliveries")
    def recent_deliveries(self, obj):
        return html_table(
            ("Created", "Action", "Entity", "State", "Attempts", "Last status", "Next attempt"),
            (
                (
                    f"{d.created_at:%Y-%m-%d %H:%M:%S}",
                    d.action,
                    f"{d.entity_type} #{d.entity_id}",
                    d.state,
                    d.attempts,
                    d.last_http_status if d.last_http_status is not None else "-",
                    f"{d.next_attempt_at:%Y-%m-%d %H:%M:%S}" if d.state == "pending" else "-",
                )
                for d in obj.deliveries.order_by("-id")[:20]
            ),
        )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log, read-only; redeliver schedules a new push of the same body and key."""

    list_display = (
        "created_at",
        "action",
        "entity_type",
        "entity_id",
        "webhook",
        "state",
        "attempts",
        "last_http_status",
        "next_attempt_at",
    )
    list_filter = ("state", "action", "webhook__administration")
    list_select_related = ("webhook",)
    search_fields = ("=entity_id", "=event_id", "idempotency_key")
    ordering = ("-id",)
    actions = ("redeliver",)
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_redeliver_permission(self, request):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}")

    @admin.action(description="Redeliver selected deliveries", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        again = [services.delivery_redeliver(delivery=d) for d in queryset]
        self.message_user(request, f"Scheduled {len(again)} new push(es).", messages.SUCCESS)
