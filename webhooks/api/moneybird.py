"""Moneybird's /api/v2/{administration_id}/webhooks, over webhooks.services, and the delivery
log beyond Moneybird (/webhooks/{id}/deliveries)."""

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from common.api.moneybird import ID, MoneybirdView, moneybird_path
from common.exceptions import BadRequest, NotFound
from common.openapi import (
    MONEYBIRD_PAGING,
    NO_CONTENT,
    body_rules,
    id_parameter,
    moneybird_responses,
)
from common.pagination import bounded_count, page_from_request, paged_response
from common.timefmt import iso_utc
from webhooks import services
from webhooks.models import Delivery, Webhook


def render_webhook(webhook: Webhook, *, with_secret: bool = False) -> dict[str, Any]:
    """A webhook as Moneybird renders it; the secret only when it was just made."""
    body = {
        "id": str(webhook.pk),
        "administration_id": str(webhook.administration_id),
        "url": webhook.url,
        "enabled_events": webhook.enabled_events,
        "last_http_status": webhook.last_http_status,
        "last_http_body": webhook.last_http_body,
        "token": webhook.token,
        "secret": webhook.secret,
        "deactivated_at": iso_utc(webhook.deactivated_at) if webhook.deactivated_at else None,
    }
    if not with_secret:
        del body["secret"]
    return body


def render_delivery(delivery: Delivery) -> dict[str, Any]:
    def moment(value):
        return iso_utc(value) if value is not None else None

    pending = delivery.state == Delivery.State.PENDING
    return {
        "id": str(delivery.pk),
        "event_id": str(delivery.event_id),
        "action": delivery.action,
        "entity_type": delivery.entity_type,
        "entity_id": str(delivery.entity_id),
        "state": delivery.state,
        "attempts": delivery.attempts,
        "last_http_status": delivery.last_http_status,
        "last_attempt_at": moment(delivery.last_attempt_at),
        "next_attempt_at": moment(delivery.next_attempt_at) if pending else None,
        "created_at": moment(delivery.created_at),
    }


@extend_schema_serializer(component_name="MoneybirdWebhook")
class WebhookOutput(serializers.Serializer):
    id = serializers.CharField()
    administration_id = serializers.CharField()
    url = serializers.URLField()
    enabled_events = serializers.ListField(child=serializers.CharField())
    last_http_status = serializers.IntegerField(allow_null=True)
    last_http_body = serializers.CharField(allow_null=True)
    token = serializers.CharField()
    secret = serializers.CharField(required=False, help_text="Only in the POST's response.")
    deactivated_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="MoneybirdWebhookDelivery")
class DeliveryOutput(serializers.Serializer):
    id = serializers.CharField()
    event_id = serializers.CharField()
    action = serializers.CharField()
    entity_type = serializers.CharField()
    entity_id = serializers.CharField()
    state = serializers.ChoiceField(choices=["pending", "delivered", "failed"])
    attempts = serializers.IntegerField()
    last_http_status = serializers.IntegerField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


WEBHOOK_BODY = inline_serializer(
    "MoneybirdWebhookWrite",
    {
        "url": serializers.URLField(),
        "enabled_events": serializers.ListField(child=serializers.CharField(), required=False),
    },
)
# What services.webhook_create checks before the test push (common.openapi.body_rules).
body_rules(
    "MoneybirdWebhookWrite",
    fields={
        "url": {"maxLength": 2000},
        "enabled_events": {
            "items": {
                "type": "string",
                "enum": sorted(services.event_names() | services.event_groups()),
            }
        },
    },
)


class WebhookView(MoneybirdView):
    required_scopes = ("settings",)

    def webhook(self, pk: str) -> Webhook:
        webhook = Webhook.objects.for_administration(self.administration).filter(pk=int(pk)).first()
        if webhook is None:
            raise NotFound("id")
        webhook.administration = self.administration
        return webhook


class WebhookListView(WebhookView):
    @extend_schema(
        operation_id="moneybird_webhooks_list",
        summary="List webhooks",
        responses=moneybird_responses({200: WebhookOutput(many=True)}, 404),
    )
    def get(self, request: Request, administration_id: str) -> Response:
        webhooks = Webhook.objects.for_administration(self.administration).order_by("id")
        return Response([render_webhook(w) for w in webhooks])

    @extend_schema(
        operation_id="moneybird_webhooks_create",
        summary="Create a webhook",
        description="The URL must answer a signed test push with 200; the secret is shown once. "
        "A URL whose host does not resolve, that resolves to an internal address (loopback, "
        "private, link-local, ...; unless the server allows them, `WEBHOOK_ALLOW_PRIVATE_HOSTS`) "
        "or that does not answer the test push with 200 is a 422 on `url`.",
        request=WEBHOOK_BODY,
        responses=moneybird_responses({201: WebhookOutput}, 400, 404, 422),
    )
    def post(self, request: Request, administration_id: str) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        if "events" in data:
            raise BadRequest(
                "'events' has been removed from webhooks, use 'enabled_events'",
                field="events",
                code="removed",
            )
        if data.get("url") in (None, ""):
            raise BadRequest("Url is required", field="url", code="required")
        webhook = services.webhook_create(
            administration=self.administration,
            actor=request.user,
            url=data["url"],
            enabled_events=data.get("enabled_events"),
        )
        return Response(render_webhook(webhook, with_secret=True), status=201)


@extend_schema(parameters=[id_parameter("id", "webhook")])
class WebhookDetailView(WebhookView):
    @extend_schema(
        operation_id="moneybird_webhooks_destroy",
        summary="Delete a webhook",
        responses=moneybird_responses({204: NO_CONTENT}, 404),
    )
    def delete(self, request: Request, administration_id: str, pk: str) -> Response:
        services.webhook_delete(webhook=self.webhook(pk), actor=request.user)
        return Response(status=204)


@extend_schema(parameters=[id_parameter("id", "webhook")])
class WebhookActivateView(WebhookView):
    @extend_schema(
        operation_id="moneybird_webhooks_activate",
        summary="Activate a webhook",
        request=None,
        responses=moneybird_responses({200: WebhookOutput}, 404),
    )
    def patch(self, request: Request, administration_id: str, pk: str) -> Response:
        webhook = services.webhook_activate(webhook=self.webhook(pk), actor=request.user)
        return Response(render_webhook(webhook))


@extend_schema(parameters=[id_parameter("id", "webhook")])
class WebhookDeactivateView(WebhookView):
    @extend_schema(
        operation_id="moneybird_webhooks_deactivate",
        summary="Deactivate a webhook",
        request=None,
        responses=moneybird_responses({200: WebhookOutput}, 404),
    )
    def patch(self, request: Request, administration_id: str, pk: str) -> Response:
        webhook = services.webhook_deactivate(webhook=self.webhook(pk), actor=request.user)
        return Response(render_webhook(webhook))


@extend_schema(parameters=[id_parameter("id", "webhook")])
class DeliveryListView(WebhookView):
    @extend_schema(
        operation_id="moneybird_webhook_deliveries_list",
        summary="List a webhook's deliveries",
        description="Newest first.",
        parameters=[*MONEYBIRD_PAGING],
        responses=moneybird_responses({200: DeliveryOutput(many=True)}, 400, 404),
    )
    def get(self, request: Request, administration_id: str, pk: str) -> Response:
        page = page_from_request(request)
        webhook = self.webhook(pk)
        queryset = Delivery.objects.filter(webhook=webhook).order_by("-id")
        total = bounded_count(queryset, page)
        deliveries = queryset[page.offset : page.offset + page.size]
        return paged_response(request, page, [render_delivery(d) for d in deliveries], total=total)


@extend_schema(parameters=[id_parameter("id", "webhook"), id_parameter("delivery_id", "delivery")])
class RedeliverView(WebhookView):
    @extend_schema(
        operation_id="moneybird_webhook_deliveries_redeliver",
        summary="Push a delivery again",
        description="A new push of the same body with the same Idempotency-Key, due now.",
        request=None,
        responses=moneybird_responses({201: DeliveryOutput}, 404),
    )
    def post(self, request: Request, administration_id: str, pk: str, delivery_id: str) -> Response:
        webhook = self.webhook(pk)
        delivery = Delivery.objects.filter(webhook=webhook, pk=int(delivery_id)).first()
        if delivery is None:
            raise NotFound("delivery_id")
        return Response(render_delivery(services.delivery_redeliver(delivery=delivery)), status=201)


urlpatterns = [
    moneybird_path("webhooks", WebhookListView, "mb-webhooks"),
    moneybird_path(rf"webhooks/(?P<pk>{ID})", WebhookDetailView, "mb-webhook"),
    moneybird_path(rf"webhooks/(?P<pk>{ID})/activate", WebhookActivateView, "mb-webhook-activate"),
    moneybird_path(
        rf"webhooks/(?P<pk>{ID})/deactivate", WebhookDeactivateView, "mb-webhook-deactivate"
    ),
    moneybird_path(rf"webhooks/(?P<pk>{ID})/deliveries", DeliveryListView, "mb-webhook-deliveries"),
    moneybird_path(
        rf"webhooks/(?P<pk>{ID})/deliveries/(?P<delivery_id>{ID})/redeliver",
        RedeliverView,
        "mb-webhook-redeliver",
    ),
]
