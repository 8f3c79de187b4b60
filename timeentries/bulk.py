"""Bulk writes of time entries (the APIs' .../time_entries/bulk): many items under the single
writes' rules, with as few statements as the items allow."""

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, QuerySet, Value, When
from django.utils import timezone

from administrations.models import Administration, Contact, Project, User
from administrations.selectors import members_of
from common.bulk import BULK_MAX
from common.db import insert_rows
from common.exceptions import BadRequest, NotFound, ServiceError, ValidationFailed
from common.ids import new_id, parse_id
from notes.services import events_record_bulk, notes_delete_for_many
from timeentries.models import TimeEntry
from timeentries.selectors import person_entries_between
from timeentries.services import (
    RELATED_FIELDS,
    EntryRef,
    check_editable,
    check_period_lock,
    destroyed_data,
    entry_diff,
    entry_values,
    event_value,
    invoiced,
    lock_entries,
    lock_people,
    moves,
    overlap_error,
    overlaps_guarded,
    related_not_found,
    resolve_related,
    starts_running,
    time_entry_create,
    time_entry_update,
    update_values,
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
    """resolve_related for many items at once: one query per kind of related id (members,
    contacts, projects) for the whole batch, inside this administration. Per item: its related
    rows, or the error (NotFound, a blank user) the single write would raise first."""
    wanted: dict[str, set[int]] = {"user": set(), "contact": set(), "project": set()}
    given: dict[int, dict[str, int | None]] = {}
    for index, item in items.items():
        ids: dict[str, int | None] = {}
        user_id = item.get("user_id")
        # An id that cannot be one is not found (0), as in resolve_related.
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
    # Each kind looked up inside this administration only, in one query for the batch.
    sources = {
        "user": members_of(administration),
        "contact": Contact.objects.for_administration(administration),
        "project": Project.objects.for_administration(administration),
    }
    found: dict[str, dict[int, Any]] = {
        field: {row.pk: row for row in sources[field].filter(pk__in=pks)} if pks else {}
        for field, pks in wanted.items()
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
                resolved[index] = related_not_found(field)
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
    overlaps_guarded(administration)  # read under the lock before _bulk_fast relies on it
    results: list[BulkResult | None] = [None] * len(items)
    fast: dict[int, tuple[dict[str, Any], Mapping[str, Any]]] = {}
    single: list[int] = []
    for index, item in enumerate(items):
        if isinstance(item, ServiceError):
            results[index] = item
        elif _bulk_fast(administration, item):
            try:
                values = entry_values(
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
                    entries=((EntryRef(row["id"]), {}) for row in rows),
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


# An entry's span for the overlap check: (started_at, ended_at or None while it runs).
_Span = tuple[datetime, datetime | None]


def _overlapping(
    spans: Mapping[int, _Span], started_at: datetime, ended_at: datetime | None, now: datetime
) -> int | None:
    """selectors.overlapping_entry_id over `spans` ({id: span} of one person) in memory: the id
    of the earliest (by start, then id) that [started_at, ended_at or now) overlaps, or None."""
    end = ended_at if ended_at is not None else now
    if end <= started_at:
        return None
    hits = [
        (start, pk)
        for pk, (start, ended) in spans.items()
        if start < end
        and (ended > started_at if ended is not None else start < now and started_at < now)
    ]
    return min(hits)[1] if hits else None


class _Overlaps:
    """The people's entries an overlap check of a bulk update compares with, read in one query
    after locking those people (services.lock_people), and kept current as the batch's items
    are applied in request order, so that an item is checked against the entries as the items
    before it left them: what time_entry_update one by one would see."""

    def __init__(
        self,
        administration: Administration,
        movers: Sequence[tuple[int, datetime, datetime | None]],
        now: datetime,
    ):
        self.now = now
        self.spans: dict[int, dict[int, _Span]] = {}
        self.owner: dict[int, int] = {}
        people = sorted({user_id for user_id, _, _ in movers})
        if not people:
            return
        lock_people(administration, people)
        # Every span an item may take; a batch entry outside it cannot overlap any of them.
        start = min(started for _, started, _ in movers)
        end = max(ended or now for _, _, ended in movers)
        for pk, user_id, started, ended in person_entries_between(
            administration, user_ids=set(people), start=start, end=end, now=now
        ):
            self.put(pk, user_id, (started, ended))

    def put(self, pk: int, user_id: int, span: _Span) -> None:
        old = self.owner.pop(pk, None)
        if old is not None:
            del self.spans[old][pk]
        self.spans.setdefault(user_id, {})[pk] = span
        self.owner[pk] = user_id

    def refuse(self, pk: int, user_id: int, values: Mapping[str, Any]) -> None:
        """services._refuse_overlap for entry `pk` becoming `values` of person `user_id`."""
        others = {k: v for k, v in self.spans.get(user_id, {}).items() if k != pk}
        other = _overlapping(others, values["started_at"], values["ended_at"], self.now)
        if other is not None:
            raise overlap_error(other)


def _update_statement(
    administration: Administration, entries: Sequence[TimeEntry], fields: Collection[str]
) -> None:
    """One UPDATE writing `fields` of `entries` as they are set on the instances: a field that
    is the same for all of them as a plain value, otherwise a CASE over their ids."""
    assignments: dict[str, Any] = {}
    for name in fields:
        field = TimeEntry._meta.get_field(name)
        attname = field.attname  # type: ignore[union-attr]
        values = {entry.pk: getattr(entry, attname) for entry in entries}
        distinct = set(values.values())
        if len(distinct) == 1:
            assignments[attname] = Value(distinct.pop(), output_field=field)  # type: ignore[arg-type]
        else:
            assignments[attname] = Case(
                *(
                    When(pk=pk, then=Value(value, output_field=field))
                    for pk, value in values.items()
                ),  # type: ignore[arg-type]
                default=F(attname),
                output_field=field,  # type: ignore[arg-type]
            )
    TimeEntry.objects.filter(
        administration_id=administration.pk, pk__in=[entry.pk for entry in entries]
    ).update(**assignments)


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
    """time_entry_update with the same `changes` for each of up to BULK_MAX entries of
    `entries` (by default the administration's): each item gets the single update's answer,
    and an id that is not among `entries` is not found. Items are applied in request order
    (an item is checked against the entries as the ones before it left them, so a repeated
    id is answered again and changes nothing more), each on its own unless `atomic`: then any
    failure writes nothing.

    Statements: one locking read of the entries, one read of the related ids the changes
    name, with overlap prevention (and a change of when or whose) a lock of the people and
    one read of their entries, then one UPDATE and one insert of the events (a second one
    when the entries go on an invoice), whatever the number of items. Changes that make an
    entry run (stopping its person's timer) take time_entry_update item by item."""
    if len(ids) > BULK_MAX:
        raise BadRequest(f"At most {BULK_MAX} items per request", field="ids", code="too_many")
    results: list[BulkResult | None] = [None] * len(ids)
    try:
        check_editable(changes)
    except ValidationFailed as exc:
        # As the single update: refused before the entry is read.
        results = [NotFound("id") if pk is None else exc for pk in ids]
        return BulkOutcome(results, rolled_back=atomic)
    locked = lock_entries(administration, {pk for pk in ids if pk is not None}, entries)
    if locked:
        # Read afresh under the lock (a period lock or the overlap setting changed meanwhile).
        administration = next(iter(locked.values())).administration
        for entry in locked.values():
            entry.administration = administration
    related: dict[str, Any] = {}
    refused: ServiceError | None = None
    if locked and any(f"{field}_id" in changes for field in RELATED_FIELDS):
        # The same ids for every item: looked up once, as time_entry_update looks them up.
        try:
            related, _ = resolve_related(administration, changes, actor)
        except ServiceError as exc:
            refused = exc

    def person(entry: TimeEntry) -> int:
        return related["user"].pk if "user" in related else entry.user_id

    # What each entry would become (the same for a repeated id: its second application starts
    # from the first one's result): who takes the single path, who needs an overlap check.
    planned: dict[int, dict[str, Any]] = {}
    for pk, entry in locked.items():
        try:
            planned[pk] = update_values(entry, changes)
        except ValidationFailed:
            continue
        if refused is None and starts_running(entry, planned[pk], person(entry)):
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
    now = timezone.now()
    guarded = administration.prevent_overlapping_entries and refused is None
    overlaps = _Overlaps(
        administration,
        [
            (person(locked[pk]), values["started_at"], values["ended_at"])
            for pk, values in planned.items()
            if guarded and moves(locked[pk], values, person(locked[pk]))
        ],
        now,
    )
    written: dict[int, TimeEntry] = {}
    fields: set[str] = set()
    diffs: list[tuple[TimeEntry, dict[str, Any]]] = []
    for index, pk in enumerate(ids):
        entry = locked.get(pk) if pk is not None else None
        if entry is None:
            results[index] = NotFound("id")
            continue
        try:
            values = update_values(entry, changes)
            if refused is not None:
                raise refused
            user_id = person(entry)
            checks = guarded and moves(entry, values, user_id)
            if checks:
                overlaps.refuse(entry.pk, user_id, values)
        except ServiceError as exc:
            results[index] = exc
            continue
        old_updated_at = entry.updated_at
        diff, changed = entry_diff(entry, {**values, **related})
        if checks:
            overlaps.put(entry.pk, user_id, (entry.started_at, entry.ended_at))
        if diff:
            entry.updated_at = now
            diff["updated_at"] = [
                event_value(old_updated_at, administration),
                event_value(now, administration),
            ]
            diffs.append((entry, diff))
            written[entry.pk] = entry
            fields.update(changed)
        results[index] = entry.pk
    if atomic and any(isinstance(result, ServiceError) for result in results):
        return BulkOutcome(results, rolled_back=True)
    if written:
        _update_statement(administration, list(written.values()), [*sorted(fields), "updated_at"])
        events_record_bulk(
            administration=administration,
            actor=actor,
            action="time_entry_updated",
            entries=((EntryRef(entry.pk), diff) for entry, diff in diffs),
        )
        linked = [EntryRef(entry.pk) for entry, diff in diffs if invoiced(entry, diff)]
        if linked:
            events_record_bulk(
                administration=administration,
                actor=actor,
                action="time_entry_sales_invoice_created",
                entries=((ref, {}) for ref in linked),
                link=related["sales_invoice"],
            )
    return BulkOutcome(results)


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
    administration's): an id not among them, or given a second time, is not found. Each item
    on its own unless `atomic`: then any failure deletes nothing.

    Statements: one locking read of the entries, one insert of their time_entry_destroyed
    events (a webhook renders each entry while it still exists), one delete of their notes and
    one of the entries, whatever the number of items."""
    if len(ids) > BULK_MAX:
        raise BadRequest(f"At most {BULK_MAX} items per request", field="ids", code="too_many")
    locked = lock_entries(administration, {pk for pk in ids if pk is not None}, entries)
    if locked:
        administration = next(iter(locked.values())).administration
    results: list[BulkResult | None] = [None] * len(ids)
    doomed: list[TimeEntry] = []
    for index, pk in enumerate(ids):
        entry = locked.pop(pk, None) if pk is not None else None  # a repeat is gone by then
        if entry is None:
            results[index] = NotFound("id")
            continue
        entry.administration = administration
        try:
            check_period_lock(administration, entry.started_at)
        except ServiceError as exc:
            results[index] = exc
            continue
        doomed.append(entry)
        results[index] = entry.pk
    if atomic and any(isinstance(result, ServiceError) for result in results):
        return BulkOutcome(results, rolled_back=True)
    if doomed:
        events_record_bulk(
            administration=administration,
            actor=actor,
            action="time_entry_destroyed",
            entries=((entry, destroyed_data(entry)) for entry in doomed),
        )
        gone = [entry.pk for entry in doomed]
        notes_delete_for_many(
            administration=administration, entity_type=TimeEntry.entity_type, ids=gone
        )
        TimeEntry.objects.filter(administration_id=administration.pk, pk__in=gone).delete()
    return BulkOutcome(results)
