"""Writes for time entries: the only code that creates, changes or deletes them. Each function
validates, rounds, saves and records its event inside one transaction."""

import dataclasses
import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from administrations.models import Administration, Contact, Membership, Project, User
from administrations.selectors import contacts_by_name, members_of
from administrations.services import contact_create, member_add, project_create
from common.bulk import BULK_MAX
from common.conditional import Precondition
from common.db import insert_rows
from common.exceptions import BadRequest, FieldError, NotFound, ServiceError, ValidationFailed
from common.ids import new_id
from common.limits import (
    DESCRIPTION_MAX_LENGTH,
    TIME_RANGE_MESSAGE,
    time_in_range,
    too_long_message,
)
from common.timefmt import ONE_MINUTE, floor_minute, iso_local
from invoices.selectors import NOT_FOUND_MESSAGE as INVOICE_NOT_FOUND
from notes.models import Event
from notes.services import event_record, events_record_bulk, notes_delete_for
from timeentries.imports.rows import ImportRow, RowError
from timeentries.models import TimeEntry
from timeentries.selectors import (
    WriteContext,
    event_row,
    imported_keys,
    overlapping_entry_id,
    person_entries_between,
    time_entry_write_context,
)

# Fields a client may set, in the order Moneybird lists them.
EDITABLE_FIELDS = (
    "user_id",
    "started_at",
    "ended_at",
    "description",
    "contact_id",
    "project_id",
    "sales_invoice_id",
    "billable",
    "paused_duration",
)


# Foreign keys, which events name by their `_id` column, as the API does.
RELATED_FIELDS = ("user", "contact", "project", "sales_invoice")


def _round(values: dict[str, Any]) -> None:
    """Moneybird rounds times and pauses down to whole minutes."""
    for field in ("started_at", "ended_at"):
        if values.get(field) is not None:
            values[field] = floor_minute(values[field])
    if values.get("paused_duration") is not None:
        values["paused_duration"] = (int(values["paused_duration"]) // 60) * 60


def _validate(
    administration: Administration,
    values: dict[str, Any],
    given: Collection[str] = ("started_at", "ended_at"),
) -> None:
    """Rules on the complete, rounded entry. Collects every broken rule, as Moneybird does.
    The time range is checked on the times `given` as input: a timer started at the last
    minute of the range is stopped a minute past it, and stays changeable."""
    errors: dict[str, list[FieldError]] = {}

    def add(field: str, code: str, message: str) -> None:
        errors.setdefault(field, []).append(FieldError(code, message))

    started, ended = values.get("started_at"), values.get("ended_at")
    if started is None:
        add("started_at", "blank", "can't be blank")
    out_of_range = False
    for field in ("started_at", "ended_at"):
        if field in given and values.get(field) is not None and not time_in_range(values[field]):
            add(field, "out_of_range", TIME_RANGE_MESSAGE)
            out_of_range = True
    # Comparing times out of range would mean nothing.
    if started is not None and ended is not None and not out_of_range:
        if ended < started:
            add("ended_at", "ended_at_before_started_at", "cannot be before the start time")
        elif ended - started < ONE_MINUTE:
            add("ended_at", "too_short", "must be at least one minute after the start time")
    description = (values.get("description") or "").strip()
    if not description:
        add("description", "blank", "can't be blank")
    elif len(description) > DESCRIPTION_MAX_LENGTH:
        add("description", "too_long", too_long_message(DESCRIPTION_MAX_LENGTH))
    pause = values.get("paused_duration") or 0
    if pause < 0:
        add("paused_duration", "greater_than_or_equal_to", "must be greater than or equal to 0")
    elif started and ended and ended > started and pause >= (ended - started).total_seconds():
        add("paused_duration", "less_than", "must be less than the duration of the entry")
    if errors:
        raise ValidationFailed(errors)
    _check_period_lock(administration, started)


def _entry_values(
    administration: Administration,
    *,
    started_at: datetime | None,
    ended_at: datetime | None,
    description: str | None,
    paused_duration: int | None,
) -> dict[str, Any]:
    """A new entry's own attributes, trimmed, rounded and checked: the one rule set for entries
    created one by one (API, admin) and for imported ones. Raises ValidationFailed."""
    values: dict[str, Any] = {
        "started_at": started_at,
        "ended_at": ended_at,
        "description": (description or "").strip(),
        "paused_duration": paused_duration or 0,
    }
    _round(values)
    _validate(administration, values)
    return values


def _check_period_lock(administration: Administration, started_at: datetime | None) -> None:
    locked = administration.period_locked_until
    if locked and started_at and started_at.astimezone(administration.tz).date() <= locked:
        raise ValidationFailed.single(
            "base", "period_locked", f"The period until {locked.isoformat()} is locked"
        )


def _lock_people(administration: Administration, user_ids: Sequence[int]) -> None:
    """Lock these people's memberships until the transaction ends (in id order, so that two
    writers never wait on each other crosswise): the writes of one person's entries that check
    for overlaps then run one after the other, and the later one sees the earlier one's entry.
    FOR NO KEY UPDATE: no row refers to a membership, and nothing else is held up. SQLite has
    no row locks; there a write transaction excludes every other writer by itself."""
    if connection.vendor == "postgresql":
        list(
            Membership.objects.select_for_update(no_key=True)
            .filter(administration_id=administration.pk, user_id__in=user_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def _overlaps_guarded(administration: Administration) -> bool:
    """prevent_overlapping_entries as it stands now, read inside the write's transaction (and
    set on `administration`, which the caller may have read before the transaction began).

    Why a fresh, locked read: a create that read the setting as off just before someone turned
    it on could otherwise still write an overlap the setting change did not count. Turning the
    setting on (administrations.services.administration_update) locks the administration row
    FOR UPDATE and then counts the overlaps. This read takes FOR KEY SHARE on that row, which
    only FOR UPDATE conflicts with: so either the write reads first, and the setting change
    waits for it to commit and counts its entry, or the setting change commits first, and
    this read sees the setting on and the write checks under the person's lock. FOR KEY SHARE
    is what the entry's foreign key check takes on that row anyway, so writers don't wait on
    each other, and with the setting off it costs this one primary-key read. Updates, stops
    and resumes read the administration in _lock (FOR NO KEY UPDATE, which conflicts with FOR
    UPDATE too). SQLite has no row locks: every write transaction begins IMMEDIATE, holding
    the one write lock, so a read inside it is current until it commits."""
    rows = Administration.objects.filter(pk=administration.pk)
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Administration._meta.db_table)
        column = connection.ops.quote_name("prevent_overlapping_entries")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {column} FROM {table} WHERE id = %s FOR KEY SHARE", [administration.pk]
            )
            guarded = bool(cursor.fetchone()[0])
    else:
        guarded = rows.values_list("prevent_overlapping_entries", flat=True).get()
    administration.prevent_overlapping_entries = guarded
    return guarded


def _refuse_overlap(
    administration: Administration,
    *,
    user_id: int,
    started_at: datetime,
    ended_at: datetime | None,
    exclude_id: int | None = None,
) -> None:
    """With prevent_overlapping_entries on: refuse an entry of this person spanning
    [started_at, ended_at) (a running one up to now) that overlaps another of their entries.
    The caller has locked the person (_lock_people) before it changed anything it checks."""
    if not administration.prevent_overlapping_entries:
        return
    other = overlapping_entry_id(
        administration,
        user_id=user_id,
        started_at=started_at,
        ended_at=ended_at,
        now=timezone.now(),
        exclude_id=exclude_id,
    )
    if other is not None:
        raise ValidationFailed.single("started_at", "overlaps", f"overlaps time entry {other}")


def _given_id(value: Any) -> int | None:
    """An id given in input as a number, or None when it cannot be one (it is then not found)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _not_found(field: str) -> NotFound:
    if field == "sales_invoice":
        return NotFound("sales_invoice_id", INVOICE_NOT_FOUND)
    return NotFound(f"{field}_id")


def _resolve_related(
    administration: Administration,
    values: Mapping[str, Any],
    actor: User | None,
    *,
    entry: TimeEntry | None = None,
    runs: bool = False,
) -> tuple[dict[str, Any], WriteContext]:
    """Look the related ids in `values` up inside this administration only, all in one query: a
    foreign id is not found, and the first of user, contact, project and sales invoice that is
    not found is reported, as when they were looked up one by one. The same query reads what
    the write answers with: the `entry` being changed as with_details reads it and, when the
    entry `runs` after the write, its person's running timer (other than `entry`)."""
    wanted: dict[str, int | None] = {}
    nulls: set[str] = set()
    if "user_id" in values:
        user_id = values["user_id"]
        if user_id is None:
            if actor is None:
                raise ValidationFailed.single("user_id", "blank", "can't be blank")
            user_id = actor.pk
        wanted["user"] = _given_id(user_id)
    for field in RELATED_FIELDS[1:]:
        if f"{field}_id" in values:
            if values[f"{field}_id"] is None:
                nulls.add(field)
            else:
                wanted[field] = _given_id(values[f"{field}_id"])
    person = wanted.get("user") if "user" in wanted else getattr(entry, "user_id", None)
    context = time_entry_write_context(
        administration,
        ids={field: pk for field, pk in wanted.items() if pk is not None},
        entry_id=None if entry is None else entry.pk,
        running_for=person if runs else None,
        running_except=None if entry is None else entry.pk,
    )
    resolved: dict[str, Any] = {}
    for field in RELATED_FIELDS:
        if field in nulls:
            resolved[field] = None
        elif field in wanted:
            resolved[field] = context.found.get(field)
            if resolved[field] is None:
                raise _not_found(field)
    return resolved, context


def _stop_running_timer(
    *, administration: Administration, running_id: int | None, actor: User | None
) -> None:
    """Stop the running timer that a write's context found, if it still runs."""
    if running_id is None:
        return
    running = (
        TimeEntry.objects.select_for_update(no_key=True)
        .filter(pk=running_id, administration=administration, ended_at__isnull=True)
        .first()
    )
    if running is not None:
        running.administration = administration
        _stop(running, actor=actor)


def _stop(entry: TimeEntry, *, actor: User | None) -> list[Event]:
    # A stopped timer counts at least the one minute every entry has.
    ended = max(floor_minute(timezone.now()), entry.started_at + ONE_MINUTE)
    return _apply_changes(entry, {"ended_at": ended}, actor=actor)


def _render(value: Any, administration: Administration) -> Any:
    if isinstance(value, datetime):
        return iso_local(value, administration.tz)
    if hasattr(value, "pk"):
        return str(value.pk)
    return value


def _record_invoiced(entry: TimeEntry, *, actor: User | None) -> Event:
    """Moneybird's "time entry invoiced": the entry now sits on `entry.sales_invoice`."""
    return event_record(
        administration=entry.administration,
        actor=actor,
        action="time_entry_sales_invoice_created",
        entity=entry,
        link=entry.sales_invoice,
    )


# How often a timer start stops a timer started beside it and tries again before giving up
# (each round waits for one competing start to commit).
_TIMER_RACE_ROUNDS = 20


def _save_timer(
    entry: TimeEntry, save: Callable[[], None], *, starts: bool, actor: User | None
) -> None:
    """`save()` the write that makes `entry` a running timer (`starts`). Two timers of one
    person started at once each stop the timers they saw, not the one started beside them;
    the one-per-person index then refuses the later one. It stops the timer that won, as any
    start does, and tries again: both writes land, the later one runs. Only a timer start
    gets the savepoint, so that the usual write costs no extra statements."""
    if not starts:
        save()
        return
    for _ in range(_TIMER_RACE_ROUNDS):
        try:
            with transaction.atomic():
                save()
            return
        except IntegrityError as exc:
            refused = exc
        # The index waited for the winner to commit, so it can be read and locked now; or a
        # third start is stopping it, and the next round waits for that one.
        others = list(
            TimeEntry.objects.select_for_update(no_key=True)
            .filter(administration_id=entry.administration_id, user_id=entry.user_id)
            .filter(ended_at=None)
            .exclude(pk=entry.pk)
        )
        for other in others:
            other.administration = entry.administration
            _stop(other, actor=actor)
    if not TimeEntry.objects.filter(
        administration_id=entry.administration_id, user_id=entry.user_id, ended_at=None
    ).exists():
        raise refused  # not the running-timer index: a bug, not a race
    raise ValidationFailed.single(
        "ended_at",
        "running",
        "another timer of this person was started at the same time; try again",
    )


def _apply_changes(entry: TimeEntry, changes: dict[str, Any], *, actor: User | None) -> list[Event]:
    """Set changed attributes, save them, and record time_entry_updated with [old, new] per
    field; linking the entry to a (different) invoice also records
    time_entry_sales_invoice_created. Returns the events recorded. Related rows are compared
    by id, so the ones the entry pointed at need not be loaded."""
    administration = entry.administration
    diff: dict[str, list[Any]] = {}
    changed: list[str] = []
    for field, new in changes.items():
        if field in RELATED_FIELDS:
            old = getattr(entry, f"{field}_id")
            if old != (None if new is None else new.pk):
                diff[f"{field}_id"] = [
                    None if old is None else str(old),
                    _render(new, administration),
                ]
        elif getattr(entry, field) != new:
            diff[field] = [
                _render(getattr(entry, field), administration),
                _render(new, administration),
            ]
        else:
            continue
        setattr(entry, field, new)
        changed.append(field)
    if not diff:
        return []
    old_updated_at = entry.updated_at
    starts = entry.ended_at is None and ("ended_at" in changed or "user" in changed)
    _save_timer(
        entry,
        lambda: entry.save(update_fields=[*changed, "updated_at"]),
        starts=starts,
        actor=actor,
    )
    diff["updated_at"] = [
        _render(old_updated_at, administration),
        _render(entry.updated_at, administration),
    ]
    events = [
        event_record(
            administration=administration,
            actor=actor,
            action="time_entry_updated",
            entity=entry,
            data=diff,
        )
    ]
    if "sales_invoice_id" in diff and entry.sales_invoice is not None:
        events.append(_record_invoiced(entry, actor=actor))
    return events


def _lock(entry: TimeEntry, entries: QuerySet | None = None) -> TimeEntry:
    """`entry` read afresh and locked until the transaction ends, with its administration (so
    that a period lock set meanwhile is seen); NotFound("id") when it is not among `entries`
    (by default its administration's). FOR NO KEY UPDATE keeps out every other change of the
    two rows; FOR UPDATE would also hold up the foreign key check of every insert that refers
    to the administration (any entry, event or note of it) until this transaction ends."""
    if entries is None:
        entries = TimeEntry.objects.filter(administration_id=entry.administration_id)
    current = (
        entries.select_for_update(no_key=True)
        .select_related("administration")
        .filter(pk=entry.pk)
        .order_by()
        .first()
    )
    if current is None:
        raise NotFound("id")
    return current


def _with_details(
    entry: TimeEntry, related: Mapping[str, Any], context: WriteContext, events: list[Event]
) -> TimeEntry:
    """Make `entry` what selectors.with_details would read now, from what the write read and
    wrote: its related rows loaded (a project with its contact), events_json and notes_json
    set, so that an API can answer with it without reading it back."""
    read = context.entry
    for field in RELATED_FIELDS:
        if field in related:
            setattr(entry, field, related[field])
        elif read is not None:
            setattr(entry, field, getattr(read, field))
    earlier = (read.events_json or []) if read is not None else []
    entry.events_json = [*earlier, *(event_row(event) for event in events)]
    entry.notes_json = (read.notes_json or []) if read is not None else []
    return entry


@transaction.atomic
def time_entry_create(
    *,
    administration: Administration,
    actor: User | None,
    started_at: datetime | None = None,
    description: str | None = None,
    user_id: int | str | None = None,
    ended_at: datetime | None = None,
    contact_id: int | str | None = None,
    project_id: int | str | None = None,
    sales_invoice_id: int | str | None = None,
    billable: bool = True,
    paused_duration: int = 0,
    event_data: dict[str, Any] | None = None,
) -> TimeEntry:
    """Create an entry; without ended_at it is a running timer, and the person's other running
    timer in this administration is stopped first. user_id defaults to the actor. The entry
    comes back as selectors.with_details reads it (see _with_details).

    Statements: one read (the related ids, and for a timer the running one), the insert, its
    event(s); stopping another timer adds its lock, update and event."""
    values = _entry_values(
        administration,
        started_at=started_at,
        ended_at=ended_at,
        description=description,
        paused_duration=paused_duration,
    )
    related, context = _resolve_related(
        administration,
        {
            "user_id": user_id,
            "contact_id": contact_id,
            "project_id": project_id,
            "sales_invoice_id": sales_invoice_id,
        },
        actor,
        runs=values["ended_at"] is None,
    )
    guarded = _overlaps_guarded(administration)
    if guarded:
        _lock_people(administration, [related["user"].pk])
    _stop_running_timer(administration=administration, running_id=context.running_id, actor=actor)
    if guarded:
        _refuse_overlap(
            administration,
            user_id=related["user"].pk,
            started_at=values["started_at"],
            ended_at=values["ended_at"],
        )
    entry = TimeEntry(administration=administration, billable=bool(billable), **values, **related)
    _save_timer(
        entry,
        lambda: entry.save(force_insert=True),
        starts=entry.ended_at is None,
        actor=actor,
    )
    events = [
        event_record(
            administration=administration,
            actor=actor,
            action="time_entry_created",
            entity=entry,
            data=event_data or {},
        )
    ]
    if entry.sales_invoice is not None:
        events.append(_record_invoiced(entry, actor=actor))
    return _with_details(entry, related, context, events)


@transaction.atomic
def time_entry_update(
    *,
    entry: TimeEntry,
    actor: User | None,
    changes: Mapping[str, Any],
    entries: QuerySet | None = None,
    precondition: Precondition | None = None,
) -> TimeEntry:
    """Partial update: only the fields in `changes` (see EDITABLE_FIELDS) are touched.

    Only `entry`'s id and administration are used: it is read afresh under a lock, from
    `entries` when given (the ones the caller may change; another is NotFound("id"), like one
    that does not exist). It comes back as selectors.with_details reads it. `precondition`
    (common.conditional.if_match) is checked on the locked entry before anything changes.

    Statements: the lock, one read (the related ids given, the entry's related rows, events
    and notes, and the running timer when the entry starts to run), the update, its event(s);
    stopping another timer adds its lock, update and event."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed.single(sorted(unknown)[0], "unknown", "is not a time entry field")
    current = _lock(entry, entries)
    if precondition is not None:
        precondition(current)
    administration = current.administration
    # The entry as it stands may sit in a locked period: then it cannot change at all.
    _check_period_lock(administration, current.started_at)
    values = {
        field: changes.get(field, getattr(current, field))
        for field in ("started_at", "ended_at", "description", "paused_duration")
    }
    if "description" in changes:
        values["description"] = (changes["description"] or "").strip()
    if "paused_duration" in changes and changes["paused_duration"] is None:
        values["paused_duration"] = 0
    _round(values)
    _validate(administration, values, given=changes)
    related, context = _resolve_related(
        administration, changes, actor, entry=current, runs=values["ended_at"] is None
    )
    if "billable" in changes and changes["billable"] is not None:
        values["billable"] = bool(changes["billable"])
    user_id = related["user"].pk if "user" in related else current.user_id
    # Only a change of when or whose can make the entry overlap another.
    guarded = administration.prevent_overlapping_entries and (
        values["started_at"] != current.started_at
        or values["ended_at"] != current.ended_at
        or user_id != current.user_id
    )
    if guarded:
        _lock_people(administration, [user_id])
    if values["ended_at"] is None and (current.ended_at is not None or user_id != current.user_id):
        _stop_running_timer(
            administration=administration, running_id=context.running_id, actor=actor
        )
    if guarded:
        _refuse_overlap(
            administration,
            user_id=user_id,
            started_at=values["started_at"],
            ended_at=values["ended_at"],
            exclude_id=current.pk,
        )
    events = _apply_changes(current, {**values, **related}, actor=actor)
    return _with_details(current, related, context, events)


@transaction.atomic
def time_entry_stop(
    *, entry: TimeEntry, actor: User | None, precondition: Precondition | None = None
) -> TimeEntry:
    """Stop a running timer now; a stopped entry is returned unchanged. Only `entry`'s id and
    administration are used (see time_entry_update), and it comes back with its details.
    `precondition` (common.conditional.if_match) is checked on the locked entry."""
    current = _lock(entry)
    if precondition is not None:
        precondition(current)
    context = time_entry_write_context(current.administration, ids={}, entry_id=current.pk)
    events = [] if current.ended_at is not None else _stop(current, actor=actor)
    return _with_details(current, {}, context, events)


@transaction.atomic
def time_entry_resume(
    *, entry: TimeEntry, actor: User | None, precondition: Precondition | None = None
) -> TimeEntry:
    """Run a stopped timer again. Only a timer that started today (in the administration's time
    zone) can resume; the person's other running timer is stopped first. Only `entry`'s id and
    administration are used (see time_entry_update), and it comes back with its details.
    `precondition` (common.conditional.if_match) is checked on the locked entry."""
    current = _lock(entry)
    if precondition is not None:
        precondition(current)
    administration = current.administration
    today = timezone.now().astimezone(administration.tz).date()
    if current.ended_at is not None:
        if current.started_at.astimezone(administration.tz).date() != today:
            raise ValidationFailed.single("base", "cannot_resume_timer", "Cannot resume timer")
        _check_period_lock(administration, current.started_at)
    context = time_entry_write_context(
        administration,
        ids={},
        entry_id=current.pk,
        running_for=current.user_id if current.ended_at is not None else None,
        running_except=current.pk,
    )
    if current.ended_at is None:
        return _with_details(current, {}, context, [])
    if administration.prevent_overlapping_entries:
        _lock_people(administration, [current.user_id])
    _stop_running_timer(administration=administration, running_id=context.running_id, actor=actor)
    _refuse_overlap(
        administration,
        user_id=current.user_id,
        started_at=current.started_at,
        ended_at=None,
        exclude_id=current.pk,
    )
    events = _apply_changes(current, {"ended_at": None}, actor=actor)
    return _with_details(current, {}, context, events)


@transaction.atomic
def time_entry_delete(
    *, entry: TimeEntry, actor: User | None, precondition: Precondition | None = None
) -> None:
    """Delete the entry and its notes. With a `precondition` (common.conditional.if_match) the
    entry is read afresh under a lock and checked first."""
    if precondition is not None:
        administration = entry.administration
        entry = _lock(entry)
        entry.administration = administration
        precondition(entry)
    administration = entry.administration
    _check_period_lock(administration, entry.started_at)
    event_record(
        administration=administration,
        actor=actor,
        action="time_entry_destroyed",
        entity=entry,
        # The entry is gone after this; the event keeps what it was.
        data={
            "description": entry.description,
            "user_id": str(entry.user_id),
            "started_at": iso_local(entry.started_at, administration.tz),
            "ended_at": iso_local(entry.ended_at, administration.tz),
            "contact_id": str(entry.contact_id) if entry.contact_id else None,
            "project_id": str(entry.project_id) if entry.project_id else None,
            "sales_invoice_id": str(entry.sales_invoice_id) if entry.sales_invoice_id else None,
            "billable": entry.billable,
            "paused_duration": entry.paused_duration,
        },
    )
    notes_delete_for(administration=administration, entity=entry)
    entry.delete()


# --- imports ---------------------------------------------------------------------------------

IMPORT_BATCH_SIZE = 2000
# A name a dry run would create: valid for its rows, but it has no id.
WOULD_CREATE = -1
# What a looked-up name resolves to: an id, WOULD_CREATE, or why it cannot be used.
Resolved = int | str


@dataclasses.dataclass
class ImportLookups:
    """Names an import resolved so far, carried from batch to batch so that each is looked up
    (or created) once per import. Grows with the distinct names in a file, not its rows."""

    users_by_email: dict[str, Resolved] = dataclasses.field(default_factory=dict)
    users_by_ref: dict[str, int | None] = dataclasses.field(default_factory=dict)
    users_by_name: dict[str, Resolved] = dataclasses.field(default_factory=dict)
    projects: dict[str, Resolved] = dataclasses.field(default_factory=dict)
    contacts: dict[str, Resolved] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ImportBatchResult:
    imported: int = 0
    skipped: int = 0
    rejected: int = 0
    errors: list[RowError] = dataclasses.field(default_factory=list)
    # Names created for this batch (in a dry run: that would be created).
    created: dict[str, list[str]] = dataclasses.field(
        default_factory=lambda: {"users": [], "projects": [], "contacts": []}
    )


def _import_values(administration: Administration, row: ImportRow) -> dict[str, Any]:
    """The row's attributes under time_entry_create's rules; an import also needs an end."""
    errors: dict[str, list[FieldError]] = {}
    values: dict[str, Any] = {}
    try:
        values = _entry_values(
            administration,
            started_at=row.started_at,
            ended_at=row.ended_at,
            description=row.description,
            paused_duration=row.paused_duration,
        )
    except ValidationFailed as exc:
        errors = exc.errors
    if row.ended_at is None:
        errors = {"ended_at": [FieldError("blank", "no end time")], **errors}
    if errors:
        raise ValidationFailed(errors)
    return values


def _import_key(row: ImportRow, values: dict[str, Any]) -> str:
    """The tool's id, or a SHA-256 of the normalised row (times rounded, text trimmed)."""
    if row.source_id and len(row.source_id) <= 100:
        return row.source_id
    parts = (
        row.source_id,
        row.user_email or row.user_ref or row.user_name.lower(),
        values["started_at"].isoformat(),
        values["ended_at"].isoformat(),
        str(values["paused_duration"]),
        values["description"],
        row.project,
        row.contact,
        "1" if row.billable else "0",
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _as_id(text: str) -> int | None:
    number = int(text) if text.isascii() and text.isdigit() else 0
    return number if 0 < number < 2**63 else None


def _users_by_name(administration: Administration, names: set[str]) -> dict[str, Resolved]:
    found: dict[str, Resolved] = {}
    for name, pk in members_of(administration).filter(name__in=names).values_list("name", "pk"):
        # Two members of one name cannot be told apart: the rows wait for an email address.
        found[name] = f"more than one member is named {name!r}" if name in found else pk
    return found


class _Resolver:
    """Looks a batch's names up with one query per kind, creates missing ones through the
    services when asked (only those a valid row uses), and remembers them in `lookups`. If the
    batch fails, `forget_created` drops the names whose creation rolled back with it."""

    def __init__(
        self,
        *,
        administration: Administration,
        actor: User | None,
        lookups: ImportLookups,
        create_missing: bool,
        dry_run: bool,
        result: ImportBatchResult,
    ):
        self.administration = administration
        self.actor = actor
        self.lookups = lookups
        self.create_missing = create_missing
        self.dry_run = dry_run
        self.result = result
        self.created: list[tuple[dict[str, Resolved], str]] = []

    def resolve(
        self,
        kind: str,
        cache: dict[str, Resolved],
        names: set[str],
        find: Callable[[set[str]], dict[str, Resolved]],
        create: Callable[[str], int] | None,
        missing: str,
    ) -> None:
        wanted = {name for name in names if name not in cache}
        if not wanted:
            return
        found = find(wanted)
        for name in sorted(wanted):
            if name in found:
                cache[name] = found[name]
            elif create is None or not self.create_missing:
                cache[name] = missing.format(name=name)
            elif self.dry_run:
                cache[name] = WOULD_CREATE
                self.result.created[kind].append(name)
            else:
                try:
                    cache[name] = create(name)
                except ValidationFailed as exc:
                    cache[name] = f"cannot be created: {exc}"
                    continue
                self.created.append((cache, name))
                self.result.created[kind].append(name)

    def forget_created(self) -> None:
        for cache, name in self.created:
            cache.pop(name, None)

    def run(self, rows: list[ImportRow]) -> None:
        administration, actor, lookups = self.administration, self.actor, self.lookups
        first_name = {}
        for row in rows:
            if row.user_email:
                first_name.setdefault(row.user_email, row.user_name)
        self.resolve(
            "users",
            lookups.users_by_email,
            set(first_name),
            lambda emails: dict(
                members_of(administration).filter(email__in=emails).values_list("email", "pk")
            ),
            lambda email: (
                member_add(
                    administration=administration,
                    actor=actor,
                    email=email,
                    name=first_name.get(email, ""),
                ).user_id
            ),
            "no member with email {name}",
        )
        refs = {
            row.user_ref
            for row in rows
            if not row.user_email and row.user_ref and row.user_ref not in lookups.users_by_ref
        }
        if refs:
            numbers = {_as_id(ref) for ref in refs} - {None}
            members = set(
                members_of(administration).filter(pk__in=numbers).values_list("pk", flat=True)
            )
            for ref in refs:
                pk = _as_id(ref)
                lookups.users_by_ref[ref] = pk if pk in members else None
        self.resolve(
            "users",
            lookups.users_by_name,
            {
                row.user_name
                for row in rows
                if not row.user_email and row.user_name and not self._by_ref(row)
            },
            lambda names: _users_by_name(administration, names),
            None,
            "no member named {name!r}, and the file has no email address to add one by",
        )
        self.resolve(
            "projects",
            lookups.projects,
            {row.project for row in rows if row.project},
            lambda names: dict(
                Project.objects.filter(administration=administration, name__in=names).values_list(
                    "name", "pk"
                )
            ),
            lambda name: project_create(administration=administration, actor=actor, name=name).pk,
            "no project named {name!r}",
        )
        self.resolve(
            "contacts",
            lookups.contacts,
            {row.contact for row in rows if row.contact},
            lambda names: contacts_by_name(administration, names),
            lambda name: (
                contact_create(administration=administration, actor=actor, company_name=name).pk
            ),
            "no contact named {name!r}",
        )

    def _by_ref(self, row: ImportRow) -> int | None:
        return self.lookups.users_by_ref.get(row.user_ref) if row.user_ref else None

    def user(self, row: ImportRow) -> Resolved:
        if row.user_email:
            return self.lookups.users_by_email[row.user_email]
        by_ref = self._by_ref(row)
        if by_ref is not None:
            return by_ref
        if row.user_name:
            return self.lookups.users_by_name[row.user_name]
        return "no user: the row names nobody"

    def project(self, row: ImportRow) -> Resolved | None:
        return self.lookups.projects[row.project] if row.project else None

    def contact(self, row: ImportRow) -> Resolved | None:
        return self.lookups.contacts[row.contact] if row.contact else None


def time_entries_import_batch(
    *,
    administration: Administration,
    actor: User | None,
    rows: Sequence[ImportRow],
    source: str,
    file: str = "",
    create_missing: bool = False,
    dry_run: bool = False,
    lookups: ImportLookups | None = None,
) -> ImportBatchResult:
    """Import one batch of rows read from a file (see timeentries/imports/).

    Each row is trimmed, rounded and validated by time_entry_create's rules, and must have an
    end. People (members, by email; by the source's user id or by name where a format has no
    addresses), projects and contacts are looked up by name inside this administration, one
    query per kind for the batch; with `create_missing` the missing ones are created through
    their services (so they are audited). A row that was imported before (same source and
    source id or content hash, or the id of an entry of this administration) is skipped, once
    per batch too. The good rows and one time_entry_created event each (data: which import)
    are written with two bulk inserts in one transaction: the batch is written whole or not
    at all. A dry run does everything but write (so it cannot see a row repeated in a later
    batch of the same file). Bad rows come back as errors naming their row, column and reason;
    they never stop the batch.
    """
    result = ImportBatchResult()
    lookups = lookups if lookups is not None else ImportLookups()
    valid: list[tuple[ImportRow, dict[str, Any]]] = []
    for row in rows:
        try:
            valid.append((row, _import_values(administration, row)))
        except ValidationFailed as exc:
            result.rejected += 1
            result.errors.extend(
                RowError(row.row, row.column(name), problem.message)
                for name, problems in exc.errors.items()
                for problem in problems
            )
    resolver = _Resolver(
        administration=administration,
        actor=actor,
        lookups=lookups,
        create_missing=create_missing,
        dry_run=dry_run,
        result=result,
    )
    try:
        with nullcontext() if dry_run else transaction.atomic():
            resolver.run([row for row, _ in valid])
            fresh = _import_fresh_rows(administration, resolver, valid, source, result)
            if _overlaps_guarded(administration):
                column = valid[0][0].column("started_at") if valid else "started_at"
                fresh = _import_refuse_overlaps(
                    administration, fresh, result, column=column, lock=not dry_run
                )
            if fresh and not dry_run:
                _import_write(administration, actor, fresh, source=source, file=file)
            result.imported = len(fresh)
    except BaseException:
        resolver.forget_created()
        raise
    return result


def _import_fresh_rows(
    administration: Administration,
    resolver: _Resolver,
    valid: list[tuple[ImportRow, dict[str, Any]]],
    source: str,
    result: ImportBatchResult,
) -> list[tuple[int, dict[str, Any]]]:
    """(row number, the entry's columns) for the rows to insert: those whose names resolved
    and that are not present yet."""
    resolved = []
    for row, values in valid:
        user, project, contact = resolver.user(row), resolver.project(row), resolver.contact(row)
        if isinstance(user, str) or isinstance(project, str) or isinstance(contact, str):
            result.rejected += 1
            result.errors.extend(
                RowError(row.row, row.column(name), reason)
                for name, reason in (("user", user), ("project", project), ("contact", contact))
                if isinstance(reason, str)
            )
            continue
        values.update(user_id=user, project_id=project, contact_id=contact, billable=row.billable)
        resolved.append((row, values, _import_key(row, values)))
    keys = [key for *_, key in resolved]
    present = imported_keys(administration, source, keys)
    # An export of this same administration names its entries by their own ids.
    ids = {_as_id(row.source_id) for row, *_ in resolved} - {None}
    if ids:
        present.update(
            str(pk)
            for pk in TimeEntry.objects.filter(administration=administration, pk__in=ids)
            .order_by()
            .values_list("pk", flat=True)
        )
    fresh = []
    for row, values, key in resolved:
        if key in present or (row.source_id and row.source_id in present):
            result.skipped += 1
            continue
        present.add(key)
        values["import_key"] = key
        fresh.append((row.row, values))
    return fresh


def _import_refuse_overlaps(
    administration: Administration,
    fresh: list[tuple[int, dict[str, Any]]],
    result: ImportBatchResult,
    *,
    column: str,
    lock: bool,
) -> list[tuple[int, dict[str, Any]]]:
    """The rows of `fresh` that overlap neither an entry of their person nor an earlier row of
    the batch; the others are rejected naming what they overlap. One query for the batch,
    after locking its people (see _lock_people)."""
    if not fresh:
        return fresh
    people = {values["user_id"] for _, values in fresh if values["user_id"] != WOULD_CREATE}
    if lock:
        _lock_people(administration, sorted(people))
    now = timezone.now()
    taken: dict[int, list[tuple[datetime, datetime, str]]] = {}
    if people:
        start = min(values["started_at"] for _, values in fresh)
        end = max(values["ended_at"] for _, values in fresh)
        for pk, user_id, started, ended in person_entries_between(
            administration, user_ids=people, start=start, end=end, now=now
        ):
            taken.setdefault(user_id, []).append(
                (started, ended or now, f"overlaps time entry {pk}")
            )
    kept = []
    for number, values in fresh:
        if values["user_id"] == WOULD_CREATE:  # a dry run's new person: nothing to overlap yet
            kept.append((number, values))
            continue
        spans = taken.setdefault(values["user_id"], [])
        started, ended = values["started_at"], values["ended_at"]
        clash = next((why for s, e, why in spans if s < ended and started < e), None)
        if clash is not None:
            result.rejected += 1
            result.errors.append(RowError(number, column, clash))
            continue
        spans.append((started, ended, f"overlaps row {number}"))
        kept.append((number, values))
    return kept


class _EntryRef(NamedTuple):
    """An inserted entry as events name it, without a model instance."""

    pk: int
    entity_type: str = TimeEntry.entity_type


def _import_write(
    administration: Administration,
    actor: User | None,
    fresh: list[tuple[int, dict[str, Any]]],
    *,
    source: str,
    file: str,
) -> None:
    """Two bulk inserts inside the caller's transaction: the entries, then their events."""
    for _, values in fresh:
        values.update(id=new_id(), administration_id=administration.pk, import_source=source)
    insert_rows(TimeEntry, [values for _, values in fresh])
    events_record_bulk(
        administration=administration,
        actor=actor,
        action="time_entry_created",
        entries=(
            (_EntryRef(values["id"]), {"import": {"source": source, "file": file, "row": number}})
            for number, values in fresh
        ),
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
) -> dict[int, dict[str, Any] | NotFound]:
    """_resolve_related for many items at once: one query per kind of related id (members,
    contacts, projects) for the whole batch, inside this administration. Per item: its related
    rows, or the NotFound the single write would raise first."""
    wanted: dict[str, set[int]] = {"user": set(), "contact": set(), "project": set()}
    given: dict[int, dict[str, int | None]] = {}
    for index, item in items.items():
        ids: dict[str, int | None] = {}
        user_id = item.get("user_id")
        # An id that cannot be one is not found (0), as in _resolve_related.
        if user_id is None:
            ids["user"] = getattr(actor, "pk", None)
        else:
            ids["user"] = _given_id(user_id) or 0
        for field in ("contact", "project"):
            value = item.get(f"{field}_id")
            ids[field] = None if value is None else (_given_id(value) or 0)
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
            for c in Contact.objects.filter(administration=administration, pk__in=wanted["contact"])
        }
        if wanted["contact"]
        else {},
        "project": {
            p.pk: p
            for p in Project.objects.filter(administration=administration, pk__in=wanted["project"])
        }
        if wanted["project"]
        else {},
    }
    resolved: dict[int, dict[str, Any] | NotFound] = {}
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
        entries = TimeEntry.objects.filter(administration=administration)
    found = {e.pk: e for e in entries.filter(pk__in=[pk for pk in ids if pk is not None])}

    def delete(pk: int) -> None:
        entry = found.pop(pk, None)  # a repeated id is gone the second time
        if entry is None:
            raise NotFound("id")
        entry.administration = administration
        time_entry_delete(entry=entry, actor=actor)

    return _bulk_each(ids, delete, atomic=atomic)
