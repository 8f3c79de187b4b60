"""Writes for time entries: the only code that creates, changes or deletes them. Each function
validates, rounds, saves and records its event inside one transaction."""

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from administrations.models import Administration, Membership, User
from common.conditional import Precondition
from common.diff import apply_diff
from common.exceptions import FieldError, NotFound, ValidationFailed
from common.ids import parse_id, render_id
from common.limits import (
    DESCRIPTION_MAX_LENGTH,
    TIME_RANGE_MESSAGE,
    time_in_range,
    too_long_message,
)
from common.timefmt import ONE_MINUTE, floor_minute, iso_local
from invoices.selectors import NOT_FOUND_MESSAGE as INVOICE_NOT_FOUND
from notes.models import Event
from notes.services import event_new, event_record, events_recorded, notes_delete_for
from timeentries import rows, writes
from timeentries.models import TimeEntry
from timeentries.selectors import (
    WriteContext,
    event_row,
    overlapping_entry_id,
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
    check_period_lock(administration, started)


def entry_values(
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


def check_period_lock(administration: Administration, started_at: datetime | None) -> None:
    locked = administration.period_locked_until
    if locked and started_at and started_at.astimezone(administration.tz).date() <= locked:
        raise ValidationFailed.single(
            "base", "period_locked", f"The period until {locked.isoformat()} is locked"
        )


def lock_people(administration: Administration, user_ids: Sequence[int]) -> None:
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


def overlaps_guarded(administration: Administration) -> bool:
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
    each other, and with the setting off it costs this one primary-key read (a create reads
    it so in its one read, writes.create_context). Updates, stops and resumes read the
    administration with their lock (_lock, writes.update_lock: FOR NO KEY UPDATE, which
    conflicts with FOR UPDATE too). SQLite has no row locks: every write transaction begins
    IMMEDIATE, holding the one write lock, so a read inside it is current until it commits."""
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
    The caller has locked the person (lock_people) before it changed anything it checks."""
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
        raise overlap_error(other)


def overlap_error(other_id: int) -> ValidationFailed:
    """What a write that would overlap entry `other_id` of the same person is refused with."""
    return ValidationFailed.single("started_at", "overlaps", f"overlaps time entry {other_id}")


def related_not_found(field: str) -> NotFound:
    if field == "sales_invoice":
        return NotFound("sales_invoice_id", INVOICE_NOT_FOUND)
    return NotFound(f"{field}_id")


def _wanted_related(
    values: Mapping[str, Any], actor: User | None
) -> tuple[dict[str, int | None], set[str]]:
    """The related ids in `values`, by field (None: not an id, so not found; a missing
    user_id is the actor's, or "user" is left out of both when there is none), and the fields
    set to null. _resolved reports what is wrong, after the checks of the entry's own values."""
    wanted: dict[str, int | None] = {}
    nulls: set[str] = set()
    if "user_id" in values:
        user_id = values["user_id"]
        if user_id is None and actor is not None:
            user_id = actor.pk
        if user_id is not None:
            wanted["user"] = parse_id(user_id)
    for field in RELATED_FIELDS[1:]:
        if f"{field}_id" in values:
            if values[f"{field}_id"] is None:
                nulls.add(field)
            else:
                wanted[field] = parse_id(values[f"{field}_id"])
    return wanted, nulls


def _asked(wanted: Mapping[str, int | None]) -> dict[str, int]:
    """The ids to look up: those that can be ids."""
    return {field: pk for field, pk in wanted.items() if pk is not None}


def _resolved(
    values: Mapping[str, Any],
    wanted: Mapping[str, int | None],
    nulls: set[str],
    context: WriteContext,
) -> dict[str, Any]:
    """The related rows of `values` (see _wanted_related) as the write's first statement found
    them inside this administration only: a foreign id is not found, and the first of user,
    contact, project and sales invoice that is not found is reported, as when they were looked
    up one by one."""
    if "user_id" in values and "user" not in wanted:
        raise ValidationFailed.single("user_id", "blank", "can't be blank")
    resolved: dict[str, Any] = {}
    for field in RELATED_FIELDS:
        if field in nulls:
            resolved[field] = None
        elif field in wanted:
            resolved[field] = context.found.get(field)
            if resolved[field] is None:
                raise related_not_found(field)
    return resolved


def resolve_related(
    administration: Administration,
    values: Mapping[str, Any],
    actor: User | None,
    *,
    entry: TimeEntry | None = None,
    runs: bool = False,
) -> tuple[dict[str, Any], WriteContext]:
    """Look the related ids in `values` up inside this administration only, all in one query
    (see _resolved). The same query reads what the write answers with: the `entry` being
    changed as with_details reads it and, when the entry `runs` after the write, its person's
    running timer (other than `entry`). Bulk writes use it; the single create and update read
    the same in their first statement (timeentries.writes)."""
    wanted, nulls = _wanted_related(values, actor)
    person = wanted.get("user") if "user" in wanted else getattr(entry, "user_id", None)
    context = time_entry_write_context(
        administration,
        ids=_asked(wanted),
        entry_id=None if entry is None else entry.pk,
        running_for=person if runs else None,
        running_except=None if entry is None else entry.pk,
    )
    return _resolved(values, wanted, nulls, context), context


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


def _stop(
    entry: TimeEntry, *, actor: User | None, answer: rows.Answer | None = None
) -> list[Event]:
    # A stopped timer counts at least the one minute every entry has.
    ended = max(floor_minute(timezone.now()), entry.started_at + ONE_MINUTE)
    return _apply_changes(entry, {"ended_at": ended}, actor=actor, answer=answer)


def event_value(value: Any, administration: Administration) -> Any:
    """A value as an entry's events record it: times in the administration's zone, rows by id."""
    if isinstance(value, datetime):
        return iso_local(value, administration.tz)
    if hasattr(value, "pk"):
        return str(value.pk)
    return value


def _invoiced(entry: TimeEntry, *, actor: User | None) -> Event:
    """Moneybird's "time entry invoiced": the entry now sits on `entry.sales_invoice` (an
    event to insert with the change, notes.services.event_new)."""
    return event_new(
        administration=entry.administration,
        actor=actor,
        action="time_entry_sales_invoice_created",
        entity=entry,
        link=entry.sales_invoice,
    )


# How often a timer start stops a timer started beside it and tries again before giving up
# (each round waits for one competing start to commit).
_TIMER_RACE_ROUNDS = 20


_Saved = TypeVar("_Saved")


def _save_timer(
    entry: TimeEntry, save: Callable[[], _Saved], *, starts: bool, actor: User | None
) -> _Saved:
    """`save()` the write that makes `entry` a running timer (`starts`). Two timers of one
    person started at once each stop the timers they saw, not the one started beside them;
    the one-per-person index then refuses the later one. It stops the timer that won, as any
    start does, and tries again: both writes land, the later one runs. Only a timer start
    gets the savepoint, so that the usual write costs no extra statements."""
    if not starts:
        return save()
    for _ in range(_TIMER_RACE_ROUNDS):
        try:
            with transaction.atomic():
                return save()
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


def entry_diff(
    entry: TimeEntry, changes: Mapping[str, Any]
) -> tuple[dict[str, list[Any]], list[str]]:
    """Set the attributes of `changes` that differ on `entry`, and return the time_entry_updated
    event's data, [old, new] per field (without updated_at, which the save sets), and the fields
    to save. Related rows are compared by id (recorded as `<field>_id`), so the ones the entry
    pointed at need not be loaded."""
    administration = entry.administration

    def render(value: Any) -> Any:
        return event_value(value, administration)

    attributes = {f: v for f, v in changes.items() if f not in RELATED_FIELDS}
    diff = apply_diff(entry, attributes, render=render)
    changed = list(diff)
    for field, new in changes.items():
        if field not in RELATED_FIELDS:
            continue
        old = getattr(entry, f"{field}_id")
        if old != (None if new is None else new.pk):
            diff[f"{field}_id"] = [render_id(old), render(new)]
            setattr(entry, field, new)
            changed.append(field)
    return diff, changed


def invoiced(entry: TimeEntry, diff: Mapping[str, Any]) -> bool:
    """Whether a change with this `diff` put `entry` on a (different) invoice: Moneybird's "time
    entry invoiced" is then recorded after time_entry_updated."""
    return "sales_invoice_id" in diff and entry.sales_invoice_id is not None


def _apply_changes(
    entry: TimeEntry,
    changes: dict[str, Any],
    *,
    actor: User | None,
    context: WriteContext | None = None,
    answer: rows.Answer | None = None,
) -> list[Event]:
    """Set changed attributes (entry_diff), save them, and record time_entry_updated with
    [old, new] per field, and time_entry_sales_invoice_created when the entry went on an
    invoice. Returns the events recorded. With `context`, the write also reads the entry's
    related rows, events and notes into context.entry, or with `answer` the entry's row as
    it is after the write (writes.entry_update); when nothing changed it reads nothing."""
    administration = entry.administration
    diff, changed = entry_diff(entry, changes)
    if not diff:
        return []
    old_updated_at = entry.updated_at
    entry.updated_at = timezone.now()
    diff["updated_at"] = [
        event_value(old_updated_at, administration),
        event_value(entry.updated_at, administration),
    ]
    starts = entry.ended_at is None and ("ended_at" in changed or "user" in changed)

    def write() -> tuple[list[Event], TimeEntry | None]:
        # Made anew for each try of a timer's start, so that its events follow those of the
        # timers it stopped meanwhile.
        events = [
            event_new(
                administration=administration,
                actor=actor,
                action="time_entry_updated",
                entity=entry,
                data=diff,
            )
        ]
        if invoiced(entry, diff):
            events.append(_invoiced(entry, actor=actor))
        names = [*changed, "updated_at"]
        return events, writes.entry_update(
            entry, names, events, read=context is not None, answer=answer
        )

    events, read = _save_timer(entry, write, starts=starts, actor=actor)
    if context is not None:
        context.entry = read
    events_recorded(administration, events)
    return events


def _lock(entry: TimeEntry, entries: QuerySet | None = None) -> TimeEntry:
    """`entry` read afresh and locked until the transaction ends, with its administration (so
    that a period lock set meanwhile is seen); NotFound("id") when it is not among `entries`
    (by default its administration's). FOR NO KEY UPDATE keeps out every other change of the
    two rows; FOR UPDATE would also hold up the foreign key check of every insert that refers
    to the administration (any entry, event or note of it) until this transaction ends."""
    if entries is None:
        entries = TimeEntry.objects.for_administration(entry.administration_id)
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


def lock_entries(
    administration: Administration, ids: Collection[int], entries: QuerySet | None = None
) -> dict[int, TimeEntry]:
    """_lock for many entries in one statement: those of `ids` among `entries` (by default the
    administration's), by id, each with its administration read afresh. Locked in id order, so
    that two bulk writes of overlapping sets of entries never wait on each other crosswise."""
    if entries is None:
        entries = TimeEntry.objects.for_administration(administration)
    if not ids:
        return {}
    locked = (
        entries.select_for_update(no_key=True)
        .select_related("administration")
        .filter(pk__in=sorted(ids))
        .order_by("pk")
    )
    return {entry.pk: entry for entry in locked}


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
    # events_json and notes_json are annotations (selectors.with_details), not model fields.
    loaded: Any = read
    shown: Any = entry
    earlier = (loaded.events_json or []) if loaded is not None else []
    shown.events_json = [*earlier, *(event_row(event) for event in events)]
    shown.notes_json = (loaded.notes_json or []) if loaded is not None else []
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
    answer: rows.Answer | None = None,
) -> TimeEntry:
    """Create an entry; without ended_at it is a running timer, and the person's other running
    timer in this administration is stopped first. user_id defaults to the actor. The entry
    comes back as selectors.with_details reads it (see _with_details), or with `answer` (an
    API's) with its own columns only, and answer.row set to it as that dialect reads it.

    Statements: one read (the related ids, for a timer the running one, and the overlap
    setting under lock), the insert with its event(s) (one statement on PostgreSQL,
    timeentries.writes); stopping another timer adds its lock and update with its event, and
    overlap prevention the person's lock and the overlap check."""
    values = entry_values(
        administration,
        started_at=started_at,
        ended_at=ended_at,
        description=description,
        paused_duration=paused_duration,
    )
    given = {
        "user_id": user_id,
        "contact_id": contact_id,
        "project_id": project_id,
        "sales_invoice_id": sales_invoice_id,
    }
    wanted, nulls = _wanted_related(given, actor)
    # One read: the related ids, the running timer of a timer's person, and the overlap
    # setting under the lock overlaps_guarded explains.
    context = writes.create_context(
        administration,
        ids=_asked(wanted),
        running_for=wanted.get("user") if values["ended_at"] is None else None,
    )
    related = _resolved(given, wanted, nulls, context)
    guarded = administration.prevent_overlapping_entries
    if guarded:
        lock_people(administration, [related["user"].pk])
    _stop_running_timer(administration=administration, running_id=context.running_id, actor=actor)
    if guarded:
        _refuse_overlap(
            administration,
            user_id=related["user"].pk,
            started_at=values["started_at"],
            ended_at=values["ended_at"],
        )
    entry = TimeEntry(administration=administration, billable=bool(billable), **values, **related)
    entry.created_at = entry.updated_at = timezone.now()

    def write() -> list[Event]:
        # Made anew for each try of a timer's start (see _apply_changes).
        events = [
            event_new(
                administration=administration,
                actor=actor,
                action="time_entry_created",
                entity=entry,
                data=event_data or {},
            )
        ]
        if entry.sales_invoice is not None:
            events.append(_invoiced(entry, actor=actor))
        writes.entry_insert(entry, events, answer=answer)
        return events

    events = _save_timer(entry, write, starts=entry.ended_at is None, actor=actor)
    events_recorded(administration, events)
    return entry if answer is not None else _with_details(entry, related, context, events)


def check_editable(changes: Mapping[str, Any]) -> None:
    """Refuse `changes` naming a field no client may set (see EDITABLE_FIELDS)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed.single(sorted(unknown)[0], "unknown", "is not a time entry field")


def update_values(current: TimeEntry, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's own attributes once `changes` apply to `current` (as read under its lock):
    trimmed, rounded and checked, with billable when given. The one rule set of updates, one
    by one or in bulk. Raises ValidationFailed."""
    administration = current.administration
    # The entry as it stands may sit in a locked period: then it cannot change at all.
    check_period_lock(administration, current.started_at)
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
    if "billable" in changes and changes["billable"] is not None:
        values["billable"] = bool(changes["billable"])
    return values


def moves(current: TimeEntry, values: Mapping[str, Any], user_id: int) -> bool:
    """Whether an update to `values` and person `user_id` changes when or whose `current` is:
    only such a change can make it overlap another entry."""
    return (
        values["started_at"] != current.started_at
        or values["ended_at"] != current.ended_at
        or user_id != current.user_id
    )


def starts_running(current: TimeEntry, values: Mapping[str, Any], user_id: int) -> bool:
    """Whether an update to `values` and person `user_id` makes `current` a running timer of
    someone it was not one of before (whose other running timer it then stops)."""
    return values["ended_at"] is None and (
        current.ended_at is not None or user_id != current.user_id
    )


@transaction.atomic
def time_entry_update(
    *,
    entry: TimeEntry,
    actor: User | None,
    changes: Mapping[str, Any],
    entries: QuerySet | None = None,
    changeable_by: User | None = None,
    precondition: Precondition | None = None,
    answer: rows.Answer | None = None,
) -> TimeEntry:
    """Partial update: only the fields in `changes` (see EDITABLE_FIELDS) are touched.

    Only `entry`'s id and administration are used: it is read afresh under a lock, from the
    entries `changeable_by` may change (selectors.time_entries_changeable) or from `entries`
    when given (a queryset, compiled anew for each call); another is NotFound("id"), like one
    that does not exist. It comes back as selectors.with_details reads it, or with `answer`
    (an API's) with its own columns only, and answer.row set to it as that dialect reads it.
    `precondition` (common.conditional.if_match) is checked on the locked entry before
    anything changes.

    Statements (timeentries.writes): the lock, which also reads the related ids given and,
    when the entry starts to run or changes hands, the running timer; then on PostgreSQL the
    update with its event(s) and the read of the entry's related rows, events and notes in
    one statement (made after the lock was granted, it sees every event a concurrent writer
    committed before). Stopping another timer adds its lock and update with its event."""
    check_editable(changes)
    wanted, nulls = _wanted_related(changes, actor)
    # Only a timer that starts, or one that changes hands, can need another one stopped.
    running = changes["ended_at"] is None if "ended_at" in changes else "user_id" in changes
    current, context = writes.update_lock(
        entry,
        ids=_asked(wanted),
        running=running,
        changeable_by=None if changeable_by is None else changeable_by.pk,
        entries=entries,
    )
    if current is None:
        raise NotFound("id")
    if precondition is not None:
        precondition(current)
    administration = current.administration
    values = update_values(current, changes)
    related = _resolved(changes, wanted, nulls, context)
    user_id = related["user"].pk if "user" in related else current.user_id
    guarded = administration.prevent_overlapping_entries and moves(current, values, user_id)
    if guarded:
        lock_people(administration, [user_id])
    if starts_running(current, values, user_id):
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
    events = _apply_changes(
        current, {**values, **related}, actor=actor, context=context, answer=answer
    )
    if answer is not None:
        if not events:  # nothing changed, so nothing read yet
            answer.read(current.administration_id, current.pk)
        return current
    if context.entry is None:  # nothing changed, so nothing read yet
        context.entry = writes.entry_details(current)
    return _with_details(current, related, context, events)


@transaction.atomic
def time_entry_stop(
    *,
    entry: TimeEntry,
    actor: User | None,
    answer: rows.Answer,
    precondition: Precondition | None = None,
) -> TimeEntry:
    """Stop a running timer now; a stopped entry is left unchanged. Only `entry`'s id and
    administration are used (see time_entry_update); it comes back with its own columns, and
    answer.row set to it as the API's dialect reads it. `precondition`
    (common.conditional.if_match) is checked on the locked entry."""
    current = _lock(entry)
    if precondition is not None:
        precondition(current)
    if current.ended_at is None:
        _stop(current, actor=actor, answer=answer)
    else:
        answer.read(current.administration_id, current.pk)
    return current


@transaction.atomic
def time_entry_resume(
    *,
    entry: TimeEntry,
    actor: User | None,
    answer: rows.Answer,
    precondition: Precondition | None = None,
) -> TimeEntry:
    """Run a stopped timer again. Only a timer that started today (in the administration's time
    zone) can resume; the person's other running timer is stopped first. Only `entry`'s id and
    administration are used (see time_entry_update); it comes back as time_entry_stop's does.
    `precondition` (common.conditional.if_match) is checked on the locked entry."""
    current = _lock(entry)
    if precondition is not None:
        precondition(current)
    if current.ended_at is None:  # running already: nothing to write
        answer.read(current.administration_id, current.pk)
        return current
    administration = current.administration
    today = timezone.now().astimezone(administration.tz).date()
    if current.started_at.astimezone(administration.tz).date() != today:
        raise ValidationFailed.single("base", "cannot_resume_timer", "Cannot resume timer")
    check_period_lock(administration, current.started_at)
    context = time_entry_write_context(
        administration, ids={}, running_for=current.user_id, running_except=current.pk
    )
    if administration.prevent_overlapping_entries:
        lock_people(administration, [current.user_id])
    _stop_running_timer(administration=administration, running_id=context.running_id, actor=actor)
    _refuse_overlap(
        administration,
        user_id=current.user_id,
        started_at=current.started_at,
        ended_at=None,
        exclude_id=current.pk,
    )
    _apply_changes(current, {"ended_at": None}, actor=actor, answer=answer)
    return current


def destroyed_data(entry: TimeEntry) -> dict[str, Any]:
    """time_entry_destroyed's data: the entry is gone after it, the event keeps what it was."""
    tz = entry.administration.tz
    return {
        "description": entry.description,
        "user_id": str(entry.user_id),
        "started_at": iso_local(entry.started_at, tz),
        "ended_at": iso_local(entry.ended_at, tz),
        "contact_id": str(entry.contact_id) if entry.contact_id else None,
        "project_id": str(entry.project_id) if entry.project_id else None,
        "sales_invoice_id": str(entry.sales_invoice_id) if entry.sales_invoice_id else None,
        "billable": entry.billable,
        "paused_duration": entry.paused_duration,
    }


@transaction.atomic
def time_entry_delete(
    *, entry: TimeEntry, actor: User | None, precondition: Precondition | None = None
) -> None:
    """Delete the entry and its notes. Only `entry`'s id and administration are used: like
    update, stop and resume, it is read afresh under a lock (so the event records what is
    deleted, not what the caller read earlier, and a concurrent delete is NotFound("id")), then
    checked against the `precondition` (common.conditional.if_match), if any."""
    entry = _lock(entry)
    if precondition is not None:
        precondition(entry)
    administration = entry.administration
    check_period_lock(administration, entry.started_at)
    event_record(
        administration=administration,
        actor=actor,
        action="time_entry_destroyed",
        entity=entry,
        data=destroyed_data(entry),
    )
    notes_delete_for(administration=administration, entity=entry)
    entry.delete()


class EntryRef(NamedTuple):
    """An inserted entry as events name it, without a model instance."""

    pk: int
    entity_type: str = TimeEntry.entity_type
