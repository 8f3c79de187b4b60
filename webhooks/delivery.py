"""The webhook worker: claims due deliveries, pushes them, and records each outcome.

A claim is a lease: the worker moves a due delivery's next_attempt_at a lease ahead (PostgreSQL:
the due rows chosen with FOR UPDATE SKIP LOCKED, so that workers never wait on each other;
elsewhere a compare-and-set on next_attempt_at, which only one claimant can win) and commits.
No transaction is open while a receiver answers. A worker that dies mid-push leaves the
delivery due again when its lease runs out, for any worker to push again: at least once, with
the same Idempotency-Key."""

import hashlib
import hmac
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from webhooks import services, transport
from webhooks.models import Delivery, Webhook

logger = logging.getLogger(__name__)

USER_AGENT = "Uurwerk-Webhooks/0.1.0"
FAILED = Delivery.State.FAILED
DELIVERED = Delivery.State.DELIVERED
PENDING = Delivery.State.PENDING


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Moneybird-Signature's value: Stripe's scheme, HMAC-SHA256 of "<t>.<raw body>"."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def push_once(webhook: Webhook, body: str, *, idempotency_key: str) -> transport.Answer:
    """One signed POST of `body` to the webhook's URL, its address checked again now."""
    try:
        target = transport.resolve(webhook.url)
    except transport.UnsafeURL as error:
        return transport.Answer(status=None, body=f"refused: url {error}")
    raw = body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Moneybird-Signature": sign(webhook.secret, int(time.time()), raw),
        "Idempotency-Key": idempotency_key,
    }
    return transport.post(target, raw, headers)


def claim(limit: int) -> list[Delivery]:
    """Up to `limit` due deliveries, leased to this worker, with their webhooks."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    due = Delivery.objects.filter(state=PENDING, next_attempt_at__lte=now)
    if connection.vendor == "postgresql":
        with transaction.atomic():
            ids = list(
                due.select_for_update(skip_locked=True)
                .order_by("next_attempt_at")
                .values_list("id", flat=True)[:limit]
            )
            if ids:
                Delivery.objects.filter(pk__in=ids).update(next_attempt_at=lease)
    else:
        ids = []
        candidates = due.order_by("next_attempt_at").values_list("id", "next_attempt_at")[:limit]
        for pk, seen in candidates:
            # Compare-and-set: only the claimant that still sees the value it read wins.
            won = Delivery.objects.filter(pk=pk, state=PENDING, next_attempt_at=seen).update(
                next_attempt_at=lease
            )
            if won:
                ids.append(pk)
    if not ids:
        return []
    return list(Delivery.objects.filter(pk__in=ids).select_related("webhook").order_by("id"))


def record(delivery: Delivery, answer: transport.Answer, *, at: datetime) -> None:
    """Store one attempt's outcome: the delivery's state and next attempt, the webhook's last
    status and body, and deactivation after a 410 or after five days of nothing but failures."""
    webhook = delivery.webhook
    ok = _succeeded(answer)
    attempts = delivery.attempts + 1
    if ok:
        state, next_at = DELIVERED, None
    elif answer.status == 410:
        state, next_at = FAILED, None
    else:
        delay = services.retry_delay(attempts, settings.WEBHOOK_RETRY_SCHEDULE)
        if delay is not None and answer.status in (429, 503) and answer.retry_after:
            delay = max(delay, timedelta(seconds=answer.retry_after))
        state, next_at = (FAILED, None) if delay is None else (PENDING, at + delay)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            state=state,
            attempts=F("attempts") + 1,
            last_http_status=answer.status,
            last_attempt_at=at,
            next_attempt_at=next_at,
        )
        Webhook.objects.filter(pk=webhook.pk).update(
            last_http_status=answer.status,
            last_http_body=answer.body[:1000],
            # The start of the current run of failures; a success ends the run.
            failing_since=None if ok else Coalesce(F("failing_since"), Value(at)),
        )
    delivery.state, delivery.attempts, delivery.next_attempt_at = state, attempts, next_at
    if ok:
        return
    if answer.status == 410:
        services.webhook_deactivate(webhook=webhook, actor=None, reason="410 Gone")
        return
    _deactivate_if_failing(webhook, at)


def _deactivate_if_failing(webhook: Webhook, at: datetime) -> None:
    current = Webhook.objects.filter(pk=webhook.pk).only("failing_since", "deactivated_at")
    current = current.first()
    if current is None or current.deactivated_at is not None or current.failing_since is None:
        return
    limit = timedelta(seconds=settings.WEBHOOK_DEACTIVATE_AFTER_SECONDS)
    if at - current.failing_since >= limit:
        services.webhook_deactivate(
            webhook=webhook, actor=None, reason="every push failed for 5 days"
        )


def _attempt(delivery: Delivery) -> tuple[Delivery, transport.Answer, datetime]:
    answer = push_once(delivery.webhook, delivery.body, idempotency_key=delivery.idempotency_key)
    return delivery, answer, timezone.now()


def record_delivered(results: list[tuple[Delivery, transport.Answer, datetime]]) -> None:
    """record() for a batch of successes, in one transaction of one UPDATE per status (mostly
    one) and one per webhook: what a busy worker mostly records. last_attempt_at is when the
    batch's last answer of that status came in, a few milliseconds after the first."""
    by_status: dict[int, list[tuple[Delivery, datetime]]] = defaultdict(list)
    latest: dict[int, tuple[transport.Answer, datetime]] = {}
    for delivery, answer, at in sorted(results, key=lambda r: r[2]):
        by_status[answer.status].append((delivery, at))
        latest[delivery.webhook_id] = (answer, at)
    with transaction.atomic():
        for status, done in sorted(by_status.items()):
            Delivery.objects.filter(pk__in=[d.pk for d, _ in done]).update(
                state=DELIVERED,
                attempts=F("attempts") + 1,
                last_http_status=status,
                last_attempt_at=max(at for _, at in done),
                next_attempt_at=None,
            )
        for webhook_id, (answer, _) in sorted(latest.items()):
            Webhook.objects.filter(pk=webhook_id).update(
                last_http_status=answer.status,
                last_http_body=answer.body[:1000],
                failing_since=None,
            )
    for delivery, _, _ in results:
        delivery.state, delivery.attempts = DELIVERED, delivery.attempts + 1


def _succeeded(answer: transport.Answer) -> bool:
    return answer.status is not None and 200 <= answer.status < 300


def deliver_due(*, batch: int = 50, threads: int = 8) -> int:
    """Push everything due now, `threads` at a time; returns the number of attempts made. The
    pushes run in threads, the database work in the calling thread only."""
    made = 0
    with ThreadPoolExecutor(max_workers=threads) as pool:
        while True:
            claimed = claim(batch)
            if not claimed:
                return made
            results = list(pool.map(_attempt, claimed))
            delivered = [r for r in results if _succeeded(r[1])]
            if delivered:
                record_delivered(delivered)
            for delivery, answer, at in results:
                if not _succeeded(answer):
                    record(delivery, answer, at=at)
            made += len(results)


def listen_forever(
    *,
    batch: int = 50,
    threads: int = 8,
    should_stop: Callable[[], bool] = lambda: False,
    ready: Callable[[], None] = lambda: None,
) -> None:
    """Deliver what is due, then wait: on PostgreSQL until a NOTIFY of a new delivery (or a
    second, for retries coming due); elsewhere a second. `ready` is called once listening."""
    listener = _listener()
    ready()
    try:
        while not should_stop():
            try:
                deliver_due(batch=batch, threads=threads)
            except Exception:
                # A database hiccup must not end the worker; the rows wait for the next round.
                logger.exception("webhook delivery round failed")
                connection.close()
            if listener is not None:
                for _ in listener.notifies(timeout=1.0, stop_after=1):
                    pass
            else:
                time.sleep(1.0)
    finally:
        if listener is not None:
            listener.close()


def _listener():
    """A connection of its own that LISTENs (Django's may be mid-transaction at any time)."""
    if connection.vendor != "postgresql":
        return None
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    listener = psycopg.connect(**params, autocommit=True)
    listener.execute(f"LISTEN {services.CHANNEL}")
    return listener
