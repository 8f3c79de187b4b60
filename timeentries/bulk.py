"""Bulk writes of time entries (the APIs' .../time_entries/bulk): many items under the single
writes' rules, with as few statements as the items allow."""

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from administrations.models import Administration, Contact, Project, User
from administrations.selectors import members_of
from common.bulk import BULK_MAX
from common.db import insert_rows
from common.exceptions import BadRequest, NotFound, ServiceError, ValidationFailed
from common.ids import new_id, parse_id
from notes.services import events_record_bulk
from timeentries.models import TimeEntry
from timeentries.services import (
    _entry_values,
    _EntryRef,
    _not_found,
    _overlaps_guarded,
    time_entry_create,
    time_entry_delete,
    time_entry_update,
)

# --- bulk writes (at most BULK_MAX items, the API's .../time_entries/bulk) --------------------

# A bulk item's outcome: the entry's id, or why it was not written.
BulkResult = int | ServiceError


@dataclasses.dataclass
class BulkOutcome:
    results: list[BulkResult | None]
    # With atomic: a failure rolled every item back (results then hold only the failures).
    rolled_back: bool = False


def _bulk_related(
    administration: Administration, actor: User | None, items: Mapping[int, Mapping[str, Any]]
) -> dict[int, dict[str, Any] | NotFound | ValidationFailed]:
    """_resolve_related for many items at once: one query per kind of related id (members,
    contacts, projects) for the whole batch, inside this administration. Per item: its related
    rows, or the error (NotFound, a blank user) the single write would raise first."""
    wanted: dict[str, set[int]] = {"user": set(), "contact": set(), "project": set()}
    given: dict[int, dict[str, int | None]] = {}
    for index, item in items.items():
        ids: dict[str, int | None] = {}
        user_id = item.get("user_id")
        # An id that cannot be one is not found (0), as in _resolve_related.
        if user_id is None:
            ids["user"] = getattr(actor, "pk", None)
        else:
            ids["user"] = parse_id(user_id) or 0
        for field in ("contact", "project"):
            value = item.get(f"{field}_id")
            ids[field] = None if value is None else (parse_id(value) or 0)
        for field, pk in ids.items():
            if pk:
                wanted[field].add(pk)
        given[index] = ids
    found: dict[str, dict[int, Any]] = {
        "user": {u.pk: u for u in members_of(administration).filter(pk__in=wanted["user"])}
        if wanted["user"]
        else {},
        "contact": {
            c.pk: c
            for c in Contact.objects.for_administration(administration).filter(
                pk__in=wanted["contact"]
            )
        }
        if wanted["contact"]
        else {},
        "project": {
            p.pk: p
            for p in Project.objects.for_administration(administration).filter(
                pk__in=wanted["project"]
            )
        }
        if wanted["project"]
        else {},
    }
    resolved: dict[int, dict[str, Any] | NotFound | ValidationFailed] = {}
    for index, ids in given.items():
        related: dict[str, Any] = {}
        for field in ("user", "contact", "project"):
            pk = ids[field]
            if field == "user" and pk is None:
                resolved[index] = ValidationFailed.single("user_id", "blank", "can't be blank")
                break
            if pk is None:
                related[field] = None
            elif pk not in found[field]:
                resolved[index] = _not_found(field)
                break
            else:
                related[field] = found[field][pk]
        else:
            resolved[index] = related
    return resolved


def _bulk_fast(administration: Administration, item: Mapping[str, Any]) -> bool:
    """Whether an item can be written in the batch's two inserts: a finished entry with no
    invoice, where no overlap check is asked for. Timers (which stop the running one), invoice
    links (a second event) and overlap checks (a lock per person) take the single write."""
    return (
        item.get("ended_at") is not None
        and item.get("sales_invoice_id") is None
        and not administration.prevent_overlapping_entries
    )


@transaction.atomic
def time_entries_create_bulk(
    *,
    administration: Administration,
    actor: User | None,
    items: Sequence[Mapping[str, Any] | ServiceError],
    atomic: bool = False,
) -> BulkOutcome:
    """Create up to BULK_MAX entries, each under time_entry_create's rules. `items` holds each
    item's time_entry_create arguments, or the error its input already had. Each item succeeds
    or fails on its own, unless `atomic`: then any failure writes nothing.

    Statements for finished entries: one query per kind of related id for the whole batch, then
    the entries in one insert and their time_entry_created events in another (a savepoint
    around the two). Other items (timers, invoice links, overlap checks) and, should the batch
    insert fail, every item take time_entry_create one by one, each in its own savepoint."""
    if len(items) > BULK_MAX:
        raise BadRequest(f"At most {BULK_MAX} items per request", field="items", code="too_many")
    _overlaps_guarded(administration)  # read under the lock before _bulk_fast relies on it
    results: list[BulkResult | None] = [None] * len(items)
    fast: dict[int, tuple[dict[str, Any], Mapping[str, Any]]] = {}
    single: list[int] = []
    for index, item in enumerate(items):
        if isinstance(item, ServiceError):
            results[index] = item
        elif _bulk_fast(administration, item):
            try:
                values = _entry_values(
                    administration,
                    started_at=item.get("started_at"),
                    ended_at=item.get("ended_at"),
                    description=item.get("description"),
                    paused_duration=item.get("paused_duration") or 0,
                )
            except ValidationFailed as exc:
                results[index] = exc
            else:
                fast[index] = (values, item)
        else:
            single.append(index)
    for index, related in _bulk_related(
        administration, actor, {i: item for i, (_, item) in fast.items()}
    ).items():
        if isinstance(related, ServiceError):
            results[index] = related
            del fast[index]
        else:
            fast[index][0].update(
                {f"{field}_id": None if row is None else row.pk for field, row in related.items()}
            )
    if atomic and any(result is not None for result in results):
        return BulkOutcome(results, rolled_back=True)
    if fast:
        rows = []
        for values, item in fast.values():
            values.update(
                id=new_id(),
                administration_id=administration.pk,
                billable=bool(item.get("billable", True)),
            )
            rows.append(values)
        try:
            with transaction.atomic():
                insert_rows(TimeEntry, rows)
                events_record_bulk(
                    administration=administration,
                    actor=actor,
                    action="time_entry_created",
                    entries=((_EntryRef(row["id"]), {}) for row in rows),
                )
        except IntegrityError:
            # A rule only the database knew (or a row changed meanwhile): one by one, so that
            # each item gets its own answer.
            single = sorted([*single, *fast])
        else:
            for index, values in zip(fast, rows, strict=True):
                results[index] = values["id"]
    for index in single:
        item = items[index]
        assert not isinstance(item, ServiceError)
        try:
            with transaction.atomic():
                results[index] = time_entry_create(
                    administration=administration, actor=actor, **item
                ).pk
        except ServiceError as exc:
            results[index] = exc
            if atomic:
                transaction.set_rollback(True)
                return BulkOutcome(results, rolled_back=True)
    return BulkOutcome(results)


def _bulk_each(
    ids: Sequence[int | None], write: Callable[[int], Any], *, atomic: bool
) -> BulkOutcome:
    """Run `write(id)` for each id in its own savepoint (an id that is None is not found). With
    `atomic` the first failure rolls everything back (the caller's transaction)."""
    results: list[BulkResult | None] = [None] * len(ids)
    for index, pk in enumerate(ids):
        try:
            if pk is None:
                raise NotFound("id")
            with transaction.atomic():
                write(pk)
            results[index] = pk
        except ServiceError as exc:
            results[index] = exc
            if atomic:
                transaction.set_rollback(True)
                return BulkOutcome(results, rolled_back=True)
    return BulkOutcome(results)


@transaction.atomic
def time_entries_update_bulk(
    *,
    administration: Administration,
    actor: User | None,
    ids: Sequence[int | None],
    changes: Mapping[str, Any],
    entries: QuerySet | None = None,
    atomic: bool = False,
) -> BulkOutcome:
    """time_entry_update with the same `changes` for each of up to BULK_MAX entries, each in
    its own savepoint (each is locked, checked and audited as a single update is)."""
    if len(ids) > BULK_MAX:
        raise BadRequest(f"At most {BULK_MAX} items per request", field="ids", code="too_many")
    return _bulk_each(
        ids,
        lambda pk: time_entry_update(
            entry=TimeEntry(pk=pk, administration=administration),
            actor=actor,
            changes=changes,
            entries=entries,
        ),
        atomic=atomic,
    )


@transaction.atomic
def time_entries_delete_bulk(
    *,
    administration: Administration,
    actor: User | None,
    ids: Sequence[int | None],
    entries: QuerySet | None = None,
    atomic: bool = False,
) -> BulkOutcome:
    """time_entry_delete for each of up to BULK_MAX entries of `entries` (by default the
    administration's), read in one query, each deleted in its own savepoint."""
    if len(ids) > BULK_MAX:
        raise BadRequest(f"At most {BULK_MAX} items per request", field="ids", code="too_many")
    if entries is None:
        entries = TimeEntry.objects.for_administration(administration)
    found = {e.pk: e for e in entries.filter(pk__in=[pk for pk in ids if pk is not None])}

    def delete(pk: int) -> None:
        entry = found.pop(pk, None)  # a repeated id is gone the second time
        if entry is None:
            raise NotFound("id")
        entry.administration = administration
        time_entry_delete(entry=entry, actor=actor)

    return _bulk_each(ids, delete, atomic=atomic)
