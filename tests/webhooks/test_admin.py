"""Webhooks in the admin: added, (de)activated and deleted through the services; the delivery
log is read-only, and redeliver schedules a new push of the same body and key."""

import io

import pytest
from django.core.management import call_command

from notes.models import Event
from tests.factories import TimeEntryFactory
from webhooks.models import Delivery, Webhook

pytestmark = pytest.mark.usefixtures("private_hosts")

WEBHOOKS = "/admin/webhooks/webhook/"
DELIVERIES = "/admin/webhooks/delivery/"


def add(admin_client, administration, url, events='["time_entry"]'):
    return admin_client.post(
        f"{WEBHOOKS}add/",
        {"administration": administration.pk, "url": url, "enabled_events": events},
    )


def test_add_tests_the_url_and_records_the_event(
    admin_client, admin_user, administration, receiver
):
    response = add(admin_client, administration, receiver.url)
    assert response.status_code == 302, response.content
    webhook = Webhook.objects.get()
    assert webhook.enabled_events == ["time_entry"]
    event = Event.objects.get(action="webhook_created")
    assert (event.user, event.entity_id) == (admin_user, webhook.pk)
    administration.refresh_from_db()
    assert administration.webhooks_active


def test_a_refused_url_is_a_form_error(admin_client, administration, receiver):
    receiver.default = (500, {})
    response = add(admin_client, administration, receiver.url)
    assert response.status_code == 200
    assert "did not answer the test push with 200" in response.content.decode()
    response = add(admin_client, administration, receiver.url, events='["time_entry_eaten"]')
    assert "unknown event names" in response.content.decode()
    assert not Webhook.objects.exists()


def test_actions_and_delete_go_through_the_services(admin_client, administration, receiver):
    add(admin_client, administration, receiver.url)
    webhook = Webhook.objects.get()
    admin_client.post(WEBHOOKS, {"action": "deactivate", "_selected_action": [webhook.pk]})
    webhook.refresh_from_db()
    assert webhook.deactivated_at is not None
    admin_client.post(WEBHOOKS, {"action": "activate", "_selected_action": [webhook.pk]})
    webhook.refresh_from_db()
    assert webhook.deactivated_at is None
    assert admin_client.get(f"{WEBHOOKS}{webhook.pk}/change/").status_code == 200
    response = admin_client.post(f"{WEBHOOKS}{webhook.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Webhook.objects.exists()
    actions = list(Event.objects.filter(entity_id=webhook.pk).values_list("action", flat=True))
    assert actions == [
        "webhook_created",
        "webhook_deactivated",
        "webhook_activated",
        "webhook_destroyed",
    ]


def test_redeliver_from_the_log(admin_client, administration, owner, receiver):
    add(admin_client, administration, receiver.url)
    administration.refresh_from_db()
    TimeEntryFactory(administration=administration, user_id=owner.pk)
    call_command("deliver_webhooks", "--once", stdout=io.StringIO())
    delivery = Delivery.objects.get()
    assert admin_client.get(DELIVERIES).status_code == 200
    assert admin_client.get(f"{DELIVERIES}{delivery.pk}/change/").status_code == 200
    response = admin_client.post(
        DELIVERIES, {"action": "redeliver", "_selected_action": [delivery.pk]}
    )
    assert response.status_code == 302
    call_command("deliver_webhooks", "--once", stdout=io.StringIO())
    first, again = receiver.events()
    assert (again.raw, again.headers["Idempotency-Key"]) == (
        first.raw,
        first.headers["Idempotency-Key"],
    )
    assert (
        admin_client.post(f"{DELIVERIES}{delivery.pk}/delete/", {"post": "yes"}).status_code == 403
    )
