"""Reads for time entries. Every query starts from `time_entries_of(administration)`."""

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection
from django.db.models import (
    DateTimeField,
    Exists,
    FilteredRelation,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import Col
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact

from administrations.models import Administration, Membership, User
from notes.models import Event
from notes.selectors import events_json, notes_json
from timeentries.models import IMPORTED, TimeEntry


def time_entries_of(administration: Administration) -> QuerySet:
    return TimeEntry.objects.for_administration(administration)


# Who may see or change whose entries: owners and admins everyone's in their administration,
# members only their own. Both dialects' reads and writes go through these two.
ELEVATED_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


def time_entries_visible(
    administration: Administration, user: User, *, sees_everyone: bool
) -> QuerySet:
    """The entries `user` may see: the administration's, or only their own for a member
    (`sees_everyone` is the role the caller has already resolved, e.g. with its credential)."""
    queryset = time_entries_of(administration)
    return queryset if sees_everyone else queryset.filter(user=user)


def time_entries_changeable(administration: Administration, user: User) -> QuerySet:
    """The entries `user` may change, for a write service to lock one from: the role is looked
    up inside that same query, so a role changed meanwhile counts."""
    elevated = Membership.objects.for_administration(administration).filter(
        user=user, role__in=ELEVATED_ROLES
    )
    return time_entries_of(administration).filter(Q(user=user) | Q(Exists(elevated)))


def with_details(queryset: QuerySet) -> QuerySet:
    """Everything an API rendering needs, in the one query: related rows joined, events and
    notes aggregated per entry."""
    return queryset.select_related("user", "contact", "project", "sales_invoice").annotate(
        events_json=events_json(TimeEntry.entity_type),
        notes_json=notes_json(TimeEntry.entity_type),
    )


LIST_ORDER = ("-started_at", "id")

# The columns Moneybird's rendering of an entry reads (timeentries.api.moneybird), and the
# user's email (exports). A read loads only these, and a list or a get as plain rows rather than
# model instances: the related rows are wide (a contact has forty columns), and building
# instances and loading values cost Django more than PostgreSQL takes to send them.
ENTRY_COLUMNS = tuple(
    field.attname
    for field in TimeEntry._meta.concrete_fields
    if field.attname not in ("import_source", "import_key")
)
RELATED_COLUMNS = {
    "user": ("name", "email", "created_at", "updated_at"),
    "contact": ("firstname", "lastname", "company_name"),
    "project": ("name", "state", "budget"),
    "sales_invoice": (
        "administration_id",
        "contact_id",
        "invoice_id",
        "state",
        "invoice_date",
        "due_date",
        "created_at",
        "updated_at",
    ),
}
RENDERED = (
    *ENTRY_COLUMNS,
    *(f"{relation}__{name}" for relation, names in RELATED_COLUMNS.items() for name in names),
)


def _rows(queryset: QuerySet) -> QuerySet:
    """Dicts of RENDERED, events_json and notes_json (see with_details)."""
    return with_details(queryset).values(*RENDERED, "events_json", "notes_json")


def time_entry_rows(administration: Administration, ids: list[int]) -> list[dict]:
    """The administration's entries among `ids`, by id, as rows with everything the API
    renders; ids of no entry here are skipped."""
    return list(_rows(time_entries_of(administration).filter(pk__in=ids).order_by("id")))


def imported_keys(administration: Administration, source: str, keys: list[str]) -> set[str]:
    """Those of `keys` that an earlier import from `source` stored in this administration.

    On PostgreSQL one probe of the unique (administration, source, key) index per key: the
    LATERAL subquery names the key, which makes the plan a nested loop whatever the statistics
    say. Left to choose, the planner hashes every entry of the source for each batch (it knows
    the 2,000 keys, not that the table holds a million rows more than at its last ANALYZE),
    which makes an import slow down with each batch."""
    if connection.vendor != "postgresql":
        return set(
            time_entries_of(administration)
            .filter(IMPORTED, import_source=source, import_key__in=keys)
            .order_by()
            .values_list("import_key", flat=True)
        )
    table = connection.ops.quote_name(TimeEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT key FROM unnest(%s::text[]) AS key, LATERAL (SELECT 1 FROM {table} "
            "WHERE administration_id = %s AND import_source = %s AND import_key = key "
            "AND import_key <> '' LIMIT 1) AS hit WHERE key <> ''",
            [keys, administration.pk, source],
        )
        return {key for (key,) in cursor.fetchall()}


# --- single-entry writes ---------------------------------------------------------------------

# How a write's context query reaches each of an entry's foreign keys from the administration:
# the reverse relation joined on one id, and what to select_related beyond it. A user is reached
# through the administration's memberships, so only a member is found.
_RELATED_JOINS = {
    "user": ("memberships", ("user",)),
    "contact": ("contacts", ()),
    "project": ("projects", ("contact",)),
    "sales_invoice": ("sales_invoices", ()),
}


@dataclasses.dataclass
class WriteContext:
    """What time_entry_write_context read, in its one query."""

    # Per foreign key asked about: its row in this administration, or None (not found there).
    found: dict[str, Model | None]
    # With entry_id: the entry as with_details reads it (its related rows, events and notes).
    entry: TimeEntry | None
    # With running_for: the id of that person's running timer, or None.
    running_id: int | None


def time_entry_write_context(
    administration: Administration,
    *,
    ids: Mapping[str, int],
    entry_id: int | None = None,
    running_for: int | None = None,
    running_except: int | None = None,
) -> WriteContext:
    """Everything a write of one entry reads besides locking the entry, in one query inside the
    administration: the rows the related ids in `ids` name ("user", "contact", "project",
    "sales_invoice" -> id; a user must be a member), so that a foreign or unknown id is simply
    not found; with `entry_id`, that entry as with_details reads it (the rows its foreign keys
    point at, with the project's contact, and its events and notes); with `running_for`, the
    id of that person's running timer other than `running_except`.

    The query starts from the entry, or without one from the administration, and joins each
    related table on the administration and one id, so it returns one row."""
    if entry_id is not None:
        queryset = with_details(time_entries_of(administration).filter(pk=entry_id))
        queryset, prefix = queryset.select_related("project__contact"), "administration__"
    else:
        queryset, prefix = Administration.objects.filter(pk=administration.pk), ""
    annotations, select = related_lookups(ids, prefix)
    if running_for is not None:
        running = TimeEntry.objects.filter(
            administration_id=administration.pk, user_id=running_for, ended_at__isnull=True
        )
        if running_except is not None:
            running = running.exclude(pk=running_except)
        annotations["running_id"] = Subquery(running.order_by().values("pk")[:1])
    queryset = queryset.annotate(**annotations).order_by()
    if select:  # select_related() with nothing named would follow every non-null key instead
        queryset = queryset.select_related(*select)
    row = next(iter(queryset), None)
    return WriteContext(
        found=found_related(row, ids),
        entry=row if entry_id is not None else None,
        running_id=getattr(row, "running_id", None),
    )


def related_lookups(ids: Mapping[str, Any], prefix: str) -> tuple[dict[str, Any], list[str]]:
    """The annotations and select_related names that join the rows `ids` name ("user",
    "contact", "project", "sales_invoice" -> id; a user through its membership) to a query of
    the administration, reached from the query's model through `prefix` ("" or
    "administration__"), each on the administration and its one id. found_related reads them."""
    annotations: dict[str, Any] = {}
    select: list[str] = []
    for field, wanted in ids.items():
        relation, through = _RELATED_JOINS[field]
        alias = f"found_{field}"
        if field == "user":
            # Matched through the join's alias (the table alias of a FilteredRelation's join
            # while its table is joined once) rather than as `memberships__user`: Django
            # resolves a lookup on a foreign key through a join to its table, which
            # select_related then reuses, and moves the FilteredRelation's own join after it,
            # so the SQL would join users on a membership not joined yet.
            column = Col(alias, Membership._meta.get_field("user"))
            condition = Q(Exact(column, wanted))
        else:
            condition = Q(**{f"{prefix}{relation}__pk": wanted})
        annotations[alias] = FilteredRelation(prefix + relation, condition=condition)
        select.append("__".join((alias, *through)))
    return annotations, select


def found_related(row: Any, fields: Iterable[str]) -> dict[str, Model | None]:
    """Per field asked about in related_lookups: its row, or None (not in the administration)."""
    found: dict[str, Model | None] = {}
    for field in fields:
        hit = getattr(row, f"found_{field}", None)
        found[field] = hit.user if field == "user" and hit is not None else hit
    return found


def event_row(event: Event) -> dict[str, Any]:
    """An event just written as an item of with_details' events_json: what reading it back
    would give, down to the order of the keys in its data (PostgreSQL's jsonb stores them
    shortest first), so that a write can answer without reading it back."""
    return {
        "id": event.pk,
        "administration_id": event.administration_id,
        "user_id": event.user_id,
        "action": event.action,
        "link_entity_id": event.link_entity_id,
        "link_entity_type": event.link_entity_type,
        "data": _as_stored(json.loads(json.dumps(event.data))),
        "created_at": event.created_at,
    }


def _as_stored(value: Any) -> Any:
    if connection.vendor != "postgresql":
        return value
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
        return {key: _as_stored(value[key]) for key in keys}
    if isinstance(value, list):
        return [_as_stored(item) for item in value]
    return value


# --- overlap prevention (Administration.prevent_overlapping_entries) ---------------------------


def _ends_after(start: Any, now: Any) -> Q:
    """Entries that end after `start`: a running one (up to `now`) does when it started before
    now and `start` is before now."""
    ends = Q(ended_at__gt=start)
    if start < now:
        ends |= Q(ended_at__isnull=True, started_at__lt=now)
    return ends


def overlapping_entry_id(
    administration: Administration,
    *,
    user_id: int,
    started_at: Any,
    ended_at: Any,
    now: Any,
    exclude_id: int | None = None,
) -> int | None:
    """The id of an entry of this person that [started_at, ended_at or now) overlaps, or None."""
    end = ended_at if ended_at is not None else now
    if end <= started_at:
        return None
    queryset = time_entries_of(administration).filter(
        Q(user_id=user_id), Q(started_at__lt=end), _ends_after(started_at, now)
    )
    if exclude_id is not None:
        queryset = queryset.exclude(pk=exclude_id)
    return queryset.order_by("started_at", "id").values_list("pk", flat=True).first()


def person_entries_between(
    administration: Administration, *, user_ids: set[int], start: Any, end: Any, now: Any
) -> list[tuple[int, int, Any, Any]]:
    """(id, user_id, started_at, ended_at) of these people's entries that meet [start, end), in
    one query: what an import checks its rows against."""
    return list(
        time_entries_of(administration)
        .filter(Q(user_id__in=user_ids), Q(started_at__lt=end), _ends_after(start, now))
        .order_by("started_at", "id")
        .values_list("pk", "user_id", "started_at", "ended_at")
    )


def overlapping_entries_count(administration: Administration, *, now: Any) -> int:
    """How many entries of this administration overlap another entry of the same person (a
    running one counting up to `now`): what must be resolved before overlaps can be refused."""
    until_now = Value(now, output_field=DateTimeField())
    others = time_entries_of(administration).filter(
        user_id=OuterRef("user_id"),
        started_at__lt=Coalesce(OuterRef("ended_at"), until_now),
    )
    others = others.annotate(ends=Coalesce("ended_at", until_now)).filter(
        ends__gt=OuterRef("started_at")
    )
    return (
        time_entries_of(administration)
        .filter(Exists(others.exclude(pk=OuterRef("pk")).order_by()))
        .count()
    )
