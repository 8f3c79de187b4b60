"""Webhooks and their deliveries: the outbox of pushes, written with the change they announce."""

from django.db import models
from django.db.models import Q

from administrations.models import Administration
from common.models import IdField, TimestampedModel
from common.querysets import TenantManager


class Webhook(TimestampedModel):
    """A receiver of an administration's changes (Moneybird's webhook)."""

    entity_type = "Webhook"

    administration = models.ForeignKey(
        Administration, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=2000)
    # Event names and groups (a group matches every event name that starts with it).
    enabled_events = models.JSONField(default=list)
    token = models.CharField(max_length=24)
    secret = models.CharField(max_length=64)
    last_http_status = models.IntegerField(null=True, blank=True)
    last_http_body = models.TextField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    # When the run of failed attempts that is still going on began (None after a success): five
    # days of it deactivate the webhook.
    failing_since = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class Delivery(models.Model):
    """One push of one event to one webhook, and its retry state. The row is the message: it is
    inserted in the transaction of the change, and the worker sends it after the commit."""

    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    id = IdField()
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    # A plain id: events are append-only and outlive nothing they refer to, but a delivery need
    # not hold up their table.
    event_id = models.BigIntegerField()
    action = models.CharField(max_length=64)
    entity_type = models.CharField(max_length=64)
    entity_id = models.BigIntegerField()
    # The exact bytes sent (and sent again on every retry and redelivery).
    body = models.TextField()
    idempotency_key = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.IntegerField(default=0)
    last_http_status = models.IntegerField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a pending delivery is due. A worker that claims it moves this past its lease, so a
    # worker that dies mid-push leaves it due again once the lease has run out.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=Q(state="pending"),
            ),
            models.Index(fields=["webhook", "-id"], name="delivery_webhook_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["pending", "delivered", "failed"]),
                name="delivery_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state="pending") | Q(next_attempt_at__isnull=False),
                name="delivery_pending_is_due_sometime",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.entity_type}#{self.entity_id} → {self.webhook_id}"
