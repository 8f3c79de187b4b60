"""The change feed: an administration's audit events in commit order, read page by page after an
opaque cursor, so that a client that follows it sees every change, deletions included.

Ids are given before commit, so ordering by id alone would let a slow transaction commit an
event below a position a reader has already passed, and the reader would never see it. The feed
orders by (Event.xact, id) instead and serves only events below FeedHorizon: on PostgreSQL xact
is the writing transaction's id and the horizon the oldest transaction still running, so any
event that commits later has xact >= that horizon and sorts after everything already served. On
SQLite, whose writers take turns, xact is a number given under the write lock. The cost: an event
waits for every transaction that began writing before it to end (commit or roll back), anywhere
on the PostgreSQL server, before it is served."""

import base64
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.db.models import Q

from administrations.models import Administration
from common.ids import ID_LIMIT, is_id
from notes.models import Event, FeedHorizon

# Which scopes (any one suffices) let a credential see the events of each kind of record, per
# dialect: the scopes a GET of that record needs there. A kind not listed here is served to
# nobody, so a new kind of record stays private until someone decides who may see it.
MONEYBIRD_ENTITY_SCOPES: dict[str, tuple[str, ...]] = {
    "TimeEntry": ("time_entries",),
    "Project": ("settings",),
    "Contact": ("sales_invoices", "estimates", "documents", "bank", "settings"),
    "User": ("settings",),
    # GET /administrations needs no scope: any credential of the administration may see it.
    "Administration": (),
    "SalesInvoice": ("sales_invoices",),
    "Webhook": ("settings",),
}
EXPENSICAT_ENTITY_SCOPES: dict[str, tuple[str, ...]] = {
    "TimeEntry": ("entries:read",),
    "Project": ("entries:read",),
    "Contact": ("entries:read",),
    "User": ("team:read",),
    "Administration": (),
    "SalesInvoice": ("invoices:read",),
    "Webhook": ("settings",),
}

# Longer than any cursor this module makes; a longer one is refused before decoding.
_CURSOR_MAX = 128


@dataclass(frozen=True)
class Position:
    """A place in the feed: just after the event with this (xact, id)."""

    xact: int
    id: int

    @classmethod
    def of(cls, event: Event) -> "Position":
        return cls(event.xact, event.pk)

    def encode(self) -> str:
        raw = json.dumps([str(self.xact), str(self.id)], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> "Position":
        """The position a cursor names; ValueError for anything this module did not make."""
        if len(cursor) > _CURSOR_MAX or not cursor.isascii():
            raise ValueError("not a cursor")
        try:
            values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (ValueError, TypeError):  # binascii.Error and JSONDecodeError are ValueErrors
            raise ValueError("not a cursor") from None
        if not isinstance(values, list) or len(values) != 2:
            raise ValueError("not a cursor")
        if not all(isinstance(v, str) and v.isascii() and v.isdigit() for v in values):
            raise ValueError("not a cursor")
        xact, pk = (int(v) for v in values)
        if not (0 <= xact < ID_LIMIT and is_id(pk)):
            raise ValueError("not a cursor")
        return cls(xact, pk)


def visible_entity_types(scopes: Collection[str], table: Mapping[str, tuple[str, ...]]) -> set[str]:
    """The kinds of record whose events a credential with `scopes` (implied ones included) may
    see, by the dialect's `table`."""
    return {
        kind for kind, needed in table.items() if not needed or not set(needed).isdisjoint(scopes)
    }


def feed_events(
    administration: Administration,
    *,
    after: Position | None,
    limit: int,
    entity_types: Collection[str],
    actions: Collection[str] | None = None,
) -> list[Event]:
    """Up to `limit` of the administration's events after `after` in commit order, of the
    given kinds of record (and actions), only of transactions that have ended: one statement,
    one range of the index event_adm_feed."""
    queryset = Event.objects.filter(
        administration=administration,
        subject_type__in=list(entity_types),
        xact__lt=FeedHorizon(),
    )
    if actions:
        queryset = queryset.filter(action__in=list(actions))
    if after is not None:
        # The plain range on xact lets the index scan start at the cursor.
        queryset = queryset.filter(
            Q(xact__gt=after.xact) | Q(xact=after.xact, id__gt=after.id), xact__gte=after.xact
        )
    return list(queryset.order_by("xact", "id")[:limit])
