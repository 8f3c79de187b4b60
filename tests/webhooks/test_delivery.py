"""Pushes, end to end: a change through the API, the worker (`deliver_webhooks --once`), and a
real receiver."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from notes.models import Event
from timeentries import services as time_entry_services
from webhooks.models import Delivery, Webhook

pytestmark = pytest.mark.usefixtures("private_hosts")

ENTRY = {
    "time_entry": {
        "started_at": "2024-03-01T09:00:00Z",
        "ended_at": "2024-03-01T10:00:00Z",
        "description": "Design",
    }
}


def register(api, receiver, **body):
    response = api.post("webhooks", {"url": receiver.url, **body})
    assert response.status_code == 201, response.content
    return response.json()


def deliver():
    call_command("deliver_webhooks", "--once", stdout=io.StringIO())


def create_entry(api) -> dict:
    response = api.post("time_entries", ENTRY)
    assert response.status_code == 201, response.content
    return response.json()


def test_change_arrives_signed_with_its_get(api, receiver, administration):
    hook = register(api, receiver, enabled_events=["time_entry"])
    entry = create_entry(api)
    assert receiver.events() == []  # nothing leaves before the worker sends it
    deliver()
    (push,) = receiver.events()
    assert push.signature_ok(hook["secret"])
    assert not push.signature_ok("0" * 64)
    assert push.headers["Content-Type"] == "application/json"
    assert push.headers["User-Agent"].startswith("Uurwerk-Webhooks/")
    assert push.headers["Idempotency-Key"]
    event = Event.objects.get(action="time_entry_created", entity_id=int(entry["id"]))
    assert push.body == {
        "administration_id": str(administration.pk),
        "webhook_id": hook["id"],
        "webhook_token": hook["token"],
        "entity_type": "TimeEntry",
        "entity_id": entry["id"],
        "state": None,
        "action": "time_entry_created",
        "entity": api.get(f"time_entries/{entry['id']}").json(),
    }
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.event_id) == ("delivered", 1, event.pk)
    webhook = Webhook.objects.get()
    assert (webhook.last_http_status, webhook.last_http_body) == (200, "ok")


def test_update_and_destroy_carry_the_last_rendering(api, receiver):
    register(api, receiver, enabled_events=["time_entry_updated", "time_entry_destroyed"])
    entry = create_entry(api)
    updated = api.patch(f"time_entries/{entry['id']}", {"time_entry": {"description": "Build"}})
    last = api.get(f"time_entries/{entry['id']}").json()
    assert api.delete(f"time_entries/{entry['id']}").status_code == 204
    deliver()
    pushes = {p.body["action"]: p.body for p in receiver.events()}
    assert set(pushes) == {"time_entry_updated", "time_entry_destroyed"}
    assert pushes["time_entry_updated"]["entity"] == updated.json()
    destroyed = pushes["time_entry_destroyed"]["entity"]
    # Its last rendering: the entry as it was, with the event of its own deletion.
    assert {k: v for k, v in destroyed.items() if k != "events"} == {
        k: v for k, v in last.items() if k != "events"
    }
    assert destroyed["events"][-1]["action"] == "time_entry_destroyed"


def test_groups_and_names_choose_the_events(api, receiver):
    register(api, receiver, enabled_events=["project"])
    create_entry(api)
    assert api.post("projects", {"project": {"name": "Apollo"}}).status_code == 201
    deliver()
    assert [p.body["action"] for p in receiver.events()] == ["project_created"]
    assert receiver.events()[0].body["entity"]["name"] == "Apollo"


def test_every_webhook_gets_its_own_push(api, receiver):
    first = register(api, receiver, enabled_events=["time_entry"])
    second = register(api, receiver, enabled_events=["time_entry_created"])
    create_entry(api)
    deliver()
    pushes = receiver.events()
    assert sorted(p.body["webhook_id"] for p in pushes) == sorted([first["id"], second["id"]])
    assert len({p.headers["Idempotency-Key"] for p in pushes}) == 2


def test_a_rolled_back_change_sends_nothing(api, receiver, administration):
    register(api, receiver)
    administration.refresh_from_db()
    with pytest.raises(RuntimeError), transaction.atomic():
        time_entry_services.time_entry_create(
            administration=administration,
            actor=api.user,
            started_at=timezone.now() - timedelta(hours=1),
            ended_at=timezone.now(),
            description="never",
        )
        assert Delivery.objects.count() == 1
        raise RuntimeError("roll back")
    assert not Delivery.objects.exists()
    deliver()
    assert receiver.events() == []


def test_failures_retry_on_schedule_with_one_idempotency_key(api, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [0, 0, 0]
    register(api, receiver)
    receiver.default = (500, {})
    create_entry(api)
    deliver()
    pushes = receiver.events()
    # The first push and the schedule's three retries, then no more.
    assert len(pushes) == 4
    assert len({p.headers["Idempotency-Key"] for p in pushes}) == 1
    assert len({p.raw for p in pushes}) == 1
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_http_status) == ("failed", 4, 500)
    assert delivery.next_attempt_at is None


def test_the_next_attempt_follows_the_schedule_with_jitter(api, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [100, 1000]
    register(api, receiver)
    receiver.default = (502, {})
    create_entry(api)
    deliver()
    delivery = Delivery.objects.get()
    wait = (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert 90 <= wait <= 110
    deliver()  # not due yet
    assert len(receiver.events()) == 1
    Delivery.objects.update(next_attempt_at=timezone.now())
    deliver()
    delivery.refresh_from_db()
    wait = (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()
    assert (delivery.attempts, len(receiver.events())) == (2, 2)
    assert 900 <= wait <= 1100


@pytest.mark.parametrize("status", [429, 503])
def test_a_longer_retry_after_is_honoured(api, receiver, settings, status):
    settings.WEBHOOK_RETRY_SCHEDULE = [100]
    register(api, receiver)
    receiver.answer(status, {"Retry-After": "5000"})
    receiver.answer(status, {"Retry-After": "1"})
    create_entry(api)
    deliver()
    delivery = Delivery.objects.get()
    assert (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds() >= 5000


def test_a_shorter_retry_after_keeps_the_schedule(api, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [100]
    register(api, receiver)
    receiver.answer(429, {"Retry-After": "1"})
    create_entry(api)
    deliver()
    delivery = Delivery.objects.get()
    assert (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds() >= 90


def test_a_slow_or_unreachable_receiver_is_a_failure(api, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [100]
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    register(api, receiver)
    receiver.delay = 2
    create_entry(api)
    deliver()
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_http_status) == ("pending", 1, None)
    assert "Timeout" in Webhook.objects.get().last_http_body
    Webhook.objects.update(url="http://127.0.0.1:1/hook")
    Delivery.objects.update(next_attempt_at=timezone.now())
    deliver()
    delivery.refresh_from_db()
    # The schedule's one retry was the last.
    assert (delivery.state, delivery.attempts, delivery.last_http_status) == ("failed", 2, None)
    assert "ConnectionError" in Webhook.objects.get().last_http_body


def test_a_redirect_is_not_followed(api, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [100]
    register(api, receiver)
    receiver.answer(307, {"Location": receiver.url})
    create_entry(api)
    deliver()
    assert len(receiver.events()) == 1
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.last_http_status) == ("pending", 307)


def test_410_deactivates_the_webhook(api, receiver, administration):
    hook = register(api, receiver)
    receiver.answer(410)
    create_entry(api)
    deliver()
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.last_http_status) == ("failed", 410)
    listed = api.get("webhooks").json()[0]
    assert listed["deactivated_at"] is not None
    assert listed["last_http_status"] == 410
    event = Event.objects.get(action="webhook_deactivated")
    assert (event.entity_id, event.data) == (int(hook["id"]), {"reason": "410 Gone"})
    create_entry(api)  # a deactivated webhook hears nothing new
    assert Delivery.objects.count() == 1


def test_five_days_of_failures_deactivate(api, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [100, 100]
    hook = register(api, receiver)
    receiver.default = (500, {})
    create_entry(api)
    deliver()
    webhook = Webhook.objects.get()
    assert webhook.failing_since is not None and webhook.deactivated_at is None
    # The run of failures began five days ago; the next failure ends it.
    Webhook.objects.update(failing_since=timezone.now() - timedelta(days=5, minutes=1))
    Delivery.objects.update(next_attempt_at=timezone.now())
    deliver()
    webhook.refresh_from_db()
    assert webhook.deactivated_at is not None
    assert Event.objects.filter(action="webhook_deactivated", entity_id=int(hook["id"])).exists()
    # Its pending retry still runs, as Moneybird documents.
    delivery = Delivery.objects.get()
    assert delivery.state == "pending"
    receiver.default = (200, {})
    Delivery.objects.update(next_attempt_at=timezone.now())
    deliver()
    delivery.refresh_from_db()
    assert delivery.state == "delivered"


def test_a_success_ends_the_run_of_failures(api, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [0]
    register(api, receiver)
    receiver.answer(500)
    create_entry(api)
    deliver()
    webhook = Webhook.objects.get()
    assert (webhook.failing_since, webhook.deactivated_at, webhook.last_http_status) == (
        None,
        None,
        200,
    )


def test_redeliver_pushes_the_same_body_and_key(api, receiver):
    hook = register(api, receiver)
    create_entry(api)
    deliver()
    delivery = Delivery.objects.get()
    path = f"webhooks/{hook['id']}/deliveries/{delivery.pk}/redeliver"
    response = api.post(path)
    assert response.status_code == 201
    assert response.json()["state"] == "pending"
    assert response.json()["event_id"] == str(delivery.event_id)
    deliver()
    first, again = receiver.events()
    assert again.raw == first.raw
    assert again.headers["Idempotency-Key"] == first.headers["Idempotency-Key"]
    assert again.signature_ok(hook["secret"])
    assert api.post(f"webhooks/{hook['id']}/deliveries/1/redeliver").status_code == 404


def test_delivery_log_newest_first_paginated(api, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [100]
    hook = register(api, receiver)
    receiver.answer(500)
    first = create_entry(api)
    second = create_entry(api)
    deliver()
    path = f"webhooks/{hook['id']}/deliveries"
    response = api.get(path, {"per_page": 1})
    assert response.status_code == 200
    assert 'rel="next"' in response["Link"]
    (newest,) = response.json()
    assert newest["entity_id"] == second["id"]
    page_two = api.get(path, {"per_page": 1, "page": 2})
    (oldest,) = page_two.json()
    assert 'rel="prev"' in page_two["Link"]
    failed, delivered = (oldest, newest) if oldest["state"] == "pending" else (newest, oldest)
    assert oldest["entity_id"] == first["id"]
    event = Event.objects.get(action="time_entry_created", entity_id=int(oldest["entity_id"]))
    assert set(oldest) == {
        "id",
        "event_id",
        "action",
        "entity_type",
        "entity_id",
        "state",
        "attempts",
        "last_http_status",
        "last_attempt_at",
        "next_attempt_at",
        "created_at",
    }
    assert (oldest["event_id"], oldest["action"], oldest["entity_type"]) == (
        str(event.pk),
        "time_entry_created",
        "TimeEntry",
    )
    assert (failed["state"], failed["last_http_status"], failed["attempts"]) == ("pending", 500, 1)
    assert failed["next_attempt_at"] is not None
    assert (delivered["state"], delivered["last_http_status"]) == ("delivered", 200)
    assert delivered["next_attempt_at"] is None
    assert api.get(path, {"per_page": 0}).status_code == 400


def test_internal_address_is_refused_again_at_delivery(api, receiver, settings):
    register(api, receiver)
    create_entry(api)
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    deliver()
    assert receiver.events() == []
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.last_http_status) == ("pending", None)
    webhook = Webhook.objects.get()
    assert "internal address" in webhook.last_http_body


def test_an_administration_without_webhooks_queues_nothing(api):
    create_entry(api)
    assert not Delivery.objects.exists()
