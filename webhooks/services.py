"""Writes for webhooks and the outbox of their deliveries.

deliveries_enqueue is called by notes.services for every event, inside the transaction of the
change: the deliveries it inserts are the pushes, so a change that commits is pushed (the worker
in webhooks.delivery sends what is due) and a rolled-back one never is."""

import json
import secrets
import string
import uuid
from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from administrations.models import Administration, User
from common.exceptions import ValidationFailed
from common.ids import new_id, render_id
from notes.entities import entity_renderings
from notes.models import Event
from notes.services import event_record
from webhooks import transport
from webhooks.models import Delivery, Webhook

# The PostgreSQL channel a delivery insert notifies, so that an idle worker wakes at the commit.
CHANNEL = "uurwerk_webhook_deliveries"
TOKEN_ALPHABET = string.ascii_letters + string.digits


@cache
def event_names() -> frozenset[str]:
    lines = (Path(__file__).parent / "event_names.txt").read_text().splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@cache
def event_groups() -> frozenset[str]:
    """Every leading run of words of an event name: `time_entry` of time_entry_created."""
    groups: set[str] = set()
    for name in event_names():
        words = name.split("_")
        groups.update("_".join(words[:n]) for n in range(1, len(words)))
    return frozenset(groups)


def matches(enabled_events: Sequence[str], action: str) -> bool:
    """Whether a webhook listening to `enabled_events` (names and groups; none: all) hears
    `action`."""
    if not enabled_events:
        return True
    return any(action == item or action.startswith(f"{item}_") for item in enabled_events)


def _check_events(enabled_events: Any) -> list[str]:
    if enabled_events is None:
        return []
    if not isinstance(enabled_events, list) or not all(isinstance(e, str) for e in enabled_events):
        raise ValidationFailed.single("enabled_events", "invalid", "must be a list of event names")
    unknown = [e for e in enabled_events if e not in event_names() and e not in event_groups()]
    if unknown:
        raise ValidationFailed.single(
            "enabled_events", "invalid", f"contains unknown event names: {', '.join(unknown)}"
        )
    return list(dict.fromkeys(enabled_events))


def _check_url(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValidationFailed.single("url", "invalid", "is not a valid URL")
    url = url.strip()
    if len(url) > 2000:
        raise ValidationFailed.single("url", "too_long", "is too long (at most 2000 characters)")
    try:
        transport.resolve(url)
    except transport.UnsafeURL as error:
        raise ValidationFailed.single("url", "invalid", str(error)) from None
    return url


def payload(
    *,
    webhook: Webhook,
    administration_id: int,
    entity_type: str | None,
    entity_id: int | None,
    action: str,
    entity: dict[str, Any] | None,
) -> str:
    """A push's body, as Moneybird sends it (ids as strings)."""
    return json.dumps(
        {
            "administration_id": str(administration_id),
            "webhook_id": str(webhook.pk),
            "webhook_token": webhook.token,
            "entity_type": entity_type,
            "entity_id": render_id(entity_id),
            "state": entity.get("state") if isinstance(entity, dict) else None,
            "action": action,
            "entity": entity,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def webhook_create(
    *,
    administration: Administration,
    actor: User | None,
    url: Any,
    enabled_events: Any = None,
) -> Webhook:
    """Register a webhook. The URL must be safe to push to and answer a test push with 200, as
    Moneybird checks; otherwise a 422 on `url`, and nothing is stored. The test push is made
    before the transaction opens, so no lock is held while a receiver takes its time."""
    from webhooks.delivery import push_once

    events = _check_events(enabled_events)
    url = _check_url(url)
    webhook = Webhook(
        id=new_id(),
        administration=administration,
        url=url,
        enabled_events=events,
        token="".join(secrets.choice(TOKEN_ALPHABET) for _ in range(24)),
        secret=secrets.token_hex(32),
    )
    body = payload(
        webhook=webhook,
        administration_id=administration.pk,
        entity_type=None,
        entity_id=None,
        action="test_webhook",
        entity=None,
    )
    answer = push_once(webhook, body, idempotency_key=str(uuid.uuid4()))
    if answer.status != 200:
        got = f"HTTP {answer.status}" if answer.status is not None else answer.body
        raise ValidationFailed.single(
            "url", "test_push_failed", f"did not answer the test push with 200 ({got})"
        )
    webhook.last_http_status, webhook.last_http_body = answer.status, answer.body
    with transaction.atomic():
        locked = _lock_administration(administration)
        webhook.administration = locked
        webhook.save(force_insert=True)
        event_record(
            administration=locked,
            actor=actor,
            action="webhook_created",
            entity=webhook,
            data={"url": url, "enabled_events": events},
        )
        _refresh_flag(locked)
    administration.webhooks_active = True
    return webhook


@transaction.atomic
def webhook_delete(*, webhook: Webhook, actor: User | None) -> None:
    """Remove a webhook with its delivery log; pushes not yet sent are dropped with it."""
    administration = _lock_administration(webhook.administration)
    event_record(
        administration=administration,
        actor=actor,
        action="webhook_destroyed",
        entity=webhook,
        data={"url": webhook.url},
    )
    webhook.delete()
    _refresh_flag(administration)


@transaction.atomic
def webhook_activate(*, webhook: Webhook, actor: User | None) -> Webhook:
    """Make a deactivated webhook receive new events again; an active one is left as it is."""
    administration = _lock_administration(webhook.administration)
    current = Webhook.objects.select_for_update().get(pk=webhook.pk)
    if current.deactivated_at is None:
        return current
    current.deactivated_at = None
    current.failing_since = None
    current.save(update_fields=["deactivated_at", "failing_since", "updated_at"])
    event_record(
        administration=administration, actor=actor, action="webhook_activated", entity=current
    )
    _refresh_flag(administration)
    return current


@transaction.atomic
def webhook_deactivate(
    *, webhook: Webhook, actor: User | None, reason: str | None = None
) -> Webhook:
    """Stop a webhook receiving new events (pushes already pending still run, as Moneybird
    documents); a deactivated one is left as it is. `reason` is recorded on the event."""
    administration = _lock_administration(webhook.administration)
    current = Webhook.objects.select_for_update().get(pk=webhook.pk)
    if current.deactivated_at is not None:
        return current
    current.deactivated_at = timezone.now()
    current.save(update_fields=["deactivated_at", "updated_at"])
    event_record(
        administration=administration,
        actor=actor,
        action="webhook_deactivated",
        entity=current,
        data={"reason": reason} if reason else None,
    )
    _refresh_flag(administration)
    return current


def _lock_administration(administration: Administration) -> Administration:
    """The administration read afresh and locked, so that two webhook changes at once agree on
    webhooks_active."""
    return Administration.objects.select_for_update(no_key=True).get(pk=administration.pk)


def _refresh_flag(administration: Administration) -> None:
    active = Webhook.objects.filter(
        administration=administration, deactivated_at__isnull=True
    ).exists()
    if administration.webhooks_active != active:
        Administration.objects.filter(pk=administration.pk).update(webhooks_active=active)
        administration.webhooks_active = active


def deliveries_enqueue(*, administration: Administration, events: Sequence[Event]) -> int:
    """The outbox: one delivery per (event, active webhook of the administration that hears its
    action), inserted in the caller's transaction, each with its body rendered now (a record
    about to be destroyed is rendered while it still exists). Returns the number queued.
    notes.services calls this only for an administration whose webhooks_active is set."""
    webhooks = list(
        Webhook.objects.for_administration(administration).filter(deactivated_at__isnull=True)
    )
    pairs = [
        (event, webhook)
        for event in events
        for webhook in webhooks
        if matches(webhook.enabled_events, event.action)
    ]
    if not pairs:
        return 0
    renderings = entity_renderings(
        administration, {(e.subject_type, e.entity_id) for e, _ in pairs}
    )
    now = timezone.now()
    deliveries = [
        Delivery(
            id=new_id(),
            webhook=webhook,
            event_id=event.pk,
            action=event.action,
            entity_type=event.subject_type,
            entity_id=event.entity_id,
            body=payload(
                webhook=webhook,
                administration_id=administration.pk,
                entity_type=event.subject_type,
                entity_id=event.entity_id,
                action=event.action,
                entity=renderings.get((event.subject_type, event.entity_id)),
            ),
            idempotency_key=str(uuid.uuid4()),
            next_attempt_at=now,
        )
        for event, webhook in pairs
    ]
    Delivery.objects.bulk_create(deliveries, batch_size=1000)
    _wake_workers()
    return len(deliveries)


def _wake_workers() -> None:
    """NOTIFY is sent at the commit, and not at all on a rollback: it only wakes a worker, the
    delivery rows are the message."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])


@transaction.atomic
def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """A new push of the same body with the same Idempotency-Key, due now."""
    again = Delivery.objects.create(
        webhook_id=delivery.webhook_id,
        event_id=delivery.event_id,
        action=delivery.action,
        entity_type=delivery.entity_type,
        entity_id=delivery.entity_id,
        body=delivery.body,
        idempotency_key=delivery.idempotency_key,
        next_attempt_at=timezone.now(),
    )
    _wake_workers()
    return again


def retry_delay(attempts: int, schedule: Sequence[int]) -> timedelta | None:
    """The wait after the `attempts`-th failed push, with ±10% jitter; None when retries are
    used up."""
    if attempts > len(schedule):
        return None
    base = schedule[attempts - 1]
    jitter = 1 + (secrets.randbelow(20001) - 10000) / 100000
    return timedelta(seconds=base * jitter)
