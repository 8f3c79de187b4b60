"""The statements of a single entry's write (timeentries.services calls these; nothing else
should): each query shape (which related ids a write names, whether it looks for a running
timer) is built once and compiled once per connection (common.db.Prepared), since compiling
costs Django more than the statement costs the database; the insert and update are SQL built
from the model's `_meta` with only the values new per request.

On PostgreSQL a write is then two statements: the read it begins with (a create's related ids
and overlap setting under a share lock of the administration; an update's lock of the entry
and its administration, with the related ids it names), and the change with its events, as
one statement (a WITH clause), which for an update also reads the entry: its related rows,
events and notes for the service's caller, or an API's answer as the API's row
(timeentries.rows.Answer), from what the update and the events' insert return. That read runs
after the lock was granted, so it sees every event a concurrent writer of the entry committed
before this one could lock it. Elsewhere (SQLite, no data-modifying WITH) the insert or update
and each event are statements of their own, and the read one more (before them, or after them
for an API's answer)."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, OuterRef, QuerySet, Subquery

from administrations.models import Administration
from common.db import Prepared, client_cursor, db_params, server_cursor
from notes.models import Event
from notes.services import events_insert
from timeentries.models import TimeEntry
from timeentries.rows import Answer
from timeentries.selectors import (
    WriteContext,
    found_related,
    related_lookups,
    time_entries_changeable,
    with_details,
)

# The related ids a write may name, in the order events and errors name them.
RELATED = ("user", "contact", "project", "sales_invoice")

_SHAPES: dict[tuple, Prepared] = {}


def _running(administration: Any, user: Any, *, other_than: Any = None) -> Subquery:
    """The id of that person's running timer (other than `other_than`)."""
    running = TimeEntry.objects.filter(
        administration_id=administration, user_id=user, ended_at__isnull=True
    )
    if other_than is not None:
        running = running.exclude(pk=other_than)
    return Subquery(running.order_by().values("pk")[:1])


def _with_lookups(queryset: QuerySet, annotations: dict[str, Any], select: list[str]) -> QuerySet:
    queryset = queryset.annotate(**annotations).order_by()
    # select_related() with nothing named would follow every non-null key instead.
    return queryset.select_related(*select) if select else queryset


# --- the read a create begins with ----------------------------------------------------------


def _create_shape(fields: tuple[str, ...], running: bool) -> Prepared:
    key = ("create", fields, running)
    prepared = _SHAPES.get(key)
    if prepared is None:

        def build(administration_id: Any, *values: Any) -> QuerySet:
            annotations, select = related_lookups(dict(zip(fields, values, strict=False)), "")
            if running:
                annotations["running_id"] = _running(OuterRef("pk"), values[len(fields)])
            queryset = Administration.objects.filter(pk=administration_id)
            return _with_lookups(queryset, annotations, select)

        # FOR KEY SHARE: see services._overlaps_guarded, whose read this one is.
        lock = f'FOR KEY SHARE OF "{Administration._meta.db_table}"'
        kinds = ["int"] * (1 + len(fields) + running)
        prepared = _SHAPES[key] = Prepared(build, *kinds, lock_postgresql=lock)
    return prepared


def create_context(
    administration: Administration, *, ids: Mapping[str, int], running_for: int | None
) -> WriteContext:
    """What a create reads before it writes, in one statement: the rows `ids` names in this
    administration (see selectors.related_lookups), the person's running timer when
    `running_for`, and prevent_overlapping_entries as it stands now, under the lock and with
    the reasons of services._overlaps_guarded; it is set on `administration`."""
    fields = tuple(field for field in RELATED if field in ids)
    values = [ids[field] for field in fields]
    if running_for is not None:
        values.append(running_for)
    row = _create_shape(fields, running_for is not None).first(administration.pk, *values)
    administration.prevent_overlapping_entries = row.prevent_overlapping_entries
    return WriteContext(
        found=found_related(row, fields),
        entry=None,
        running_id=getattr(row, "running_id", None),
    )


# --- the lock an update begins with ---------------------------------------------------------


def _lock_query(
    entries: QuerySet,
    fields: tuple[str, ...],
    values: Sequence[Any],
    running: bool,
    *,
    lock: bool = True,
) -> QuerySet:
    """`entries` (one entry) with its administration, the related rows `fields` name
    (`values`) joined, and with `running` the running timer of the person the entry has
    after the write (the user named, else its own) other than this entry; with `lock`, both
    locked FOR NO KEY UPDATE (else the caller writes its lock, _UPDATE_LOCK)."""
    annotations, select = related_lookups(
        dict(zip(fields, values, strict=True)), "administration__"
    )
    if running:
        person = values[fields.index("user")] if "user" in fields else OuterRef("user_id")
        annotations["running_id"] = _running(
            OuterRef("administration_id"), person, other_than=OuterRef("pk")
        )
    # Only the entry and its administration are locked, and only their keys are joined on:
    # the rows the related ids name are joined on the administration, never on a column of
    # the entry that a writer who held the lock before may have changed.
    if lock:
        entries = entries.select_for_update(no_key=True, of=("self", "administration"))
    return _with_lookups(entries.select_related("administration"), annotations, select)


# The entry FOR NO KEY UPDATE (see services._lock); its administration FOR SHARE, which keeps
# out every change of it until the write commits (a period lock, overlap prevention turned
# on: an UPDATE or FOR UPDATE), and the row as it stands when the lock is granted is the one
# read, so a change committed meanwhile is seen. Unlike FOR NO KEY UPDATE, FOR SHARE does not
# make two updates of entries of one administration wait for each other.
_UPDATE_LOCK = (
    f'FOR NO KEY UPDATE OF "{TimeEntry._meta.db_table}" '
    f'FOR SHARE OF "{Administration._meta.db_table}"'
)


def _update_shape(fields: tuple[str, ...], running: bool, changeable: bool) -> Prepared:
    key = ("update", fields, running, changeable)
    prepared = _SHAPES.get(key)
    if prepared is None:

        def build(administration_id: Any, entry_id: Any, *values: Any) -> QuerySet:
            if changeable:
                entries = time_entries_changeable(administration_id, values[0])
                values = values[1:]
            else:
                entries = TimeEntry.objects.filter(administration_id=administration_id)
            query = _lock_query(entries.filter(pk=entry_id), fields, values, running, lock=False)
            return query

        kinds = ["int"] * (2 + changeable + len(fields))
        prepared = _SHAPES[key] = Prepared(build, *kinds, lock_postgresql=_UPDATE_LOCK)
    return prepared


def update_lock(
    entry: TimeEntry,
    *,
    ids: Mapping[str, int],
    running: bool,
    changeable_by: int | None = None,
    entries: QuerySet | None = None,
) -> tuple[TimeEntry | None, WriteContext]:
    """The entry read afresh and locked with its administration (None: not among the
    entries of its administration that `changeable_by` may change, see
    selectors.time_entries_changeable, or of `entries` when given), in the statement that
    also reads the rows `ids` names in the administration and, with `running`, the running
    timer of the person the entry has after the write. The context's `entry` is left unread
    (entry_update reads it after the change)."""
    fields = tuple(field for field in RELATED if field in ids)
    values = [ids[field] for field in fields]
    if entries is not None:  # a caller's own queryset: compiled for this call only
        query = _lock_query(entries.filter(pk=entry.pk), fields, values, running)
        current = next(iter(query), None)
    else:
        prepared = _update_shape(fields, running, changeable_by is not None)
        scope = [] if changeable_by is None else [changeable_by]
        current = prepared.first(entry.administration_id, entry.pk, *scope, *values)
    context = WriteContext(
        found=found_related(current, fields),
        entry=None,
        running_id=getattr(current, "running_id", None),
    )
    return current, context


# --- the write ------------------------------------------------------------------------------

# What either dialect renders of an entry's related rows (timeentries.api.moneybird's
# RELATED_COLUMNS, expensicat's RENDERED_COLUMNS), read alone: a contact has forty columns,
# and loading them cost more than the rest of the read.
DETAIL_COLUMNS = {
    "user": ("name", "email", "avatar_url", "created_at", "updated_at"),
    "contact": ("firstname", "lastname", "company_name", "customer_id"),
    "project": ("name", "state", "budget", "contact_id", "hourly_rate", "currency"),
    "project__contact": ("firstname", "lastname", "company_name", "customer_id"),
    "sales_invoice": (
        *("administration_id", "contact_id", "invoice_id", "state"),
        *("invoice_date", "due_date", "created_at", "updated_at"),
    ),
}

# An entry as a get renders it: its related rows (a project with its contact), its events and
# notes; the columns of the entry itself are the caller's, who has just written them.
_DETAILS = Prepared(
    lambda administration_id, pk: (
        with_details(TimeEntry.objects.filter(administration_id=administration_id, pk=pk))
        .select_related("project__contact")
        .only(
            *(f"{key}_id" for key in RELATED),
            *(
                f"{relation}__{name}"
                for relation, names in DETAIL_COLUMNS.items()
                for name in names
            ),
        )
        .order_by()
    ),
    "int",
    "int",
)

_ENTRY_FIELDS: list[Field] = list(TimeEntry._meta.local_concrete_fields)


def _run(statements: list[tuple[str, list[Any]]]) -> None:
    with client_cursor() as cursor:
        if connection.vendor == "postgresql" and len(statements) > 1:
            cursor.execute(*_together(statements))
        else:
            for sql, params in statements:
                cursor.execute(sql, params)


def _with_clause(statements: list[tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
    """WITH w0 AS (first), w1 AS (second) ...: PostgreSQL runs each data-modifying statement
    of a WITH once, whether or not the statement it heads reads it."""
    parts = ", ".join(f"w{n} AS ({sql})" for n, (sql, _) in enumerate(statements))
    return f"WITH {parts}", [param for _, params in statements for param in params]


def _together(statements: list[tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
    head, params = _with_clause(statements[:-1])
    sql, last = statements[-1]
    return f"{head} {sql}", [*params, *last]


def entry_insert(entry: TimeEntry, events: list[Event], *, answer: Answer | None = None) -> None:
    """Insert `entry`, every field set (created_at and updated_at too), and its `events` (made
    by notes.services.event_new), with `answer` setting its row to the entry as written: one
    statement on PostgreSQL. The caller then hands the events to
    notes.services.events_recorded."""
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(TimeEntry._meta.db_table),
        ", ".join(quote(field.column) for field in _ENTRY_FIELDS),
        ", ".join(["%s"] * len(_ENTRY_FIELDS)),
    )
    statements = [(sql, db_params(_ENTRY_FIELDS, entry)), *events_insert(events)]
    if answer is None:
        _run(statements)
    else:
        _answered(entry, statements, answer)
    entry._state.adding, entry._state.db = False, connection.alias


def entry_update(
    entry: TimeEntry,
    names: Sequence[str],
    events: list[Event],
    *,
    read: bool = False,
    answer: Answer | None = None,
) -> TimeEntry | None:
    """Save the fields `names` of `entry` (updated_at among them) and insert its `events`;
    with `read`, also the entry as with_details reads it, of which its related rows, events
    and notes count (its own columns are the ones before this change, and the events leave
    out these); with `answer` (which `read` then asks nothing more of), its row is set to the
    entry as it is after the write. One statement on PostgreSQL."""
    quote = connection.ops.quote_name
    fields = [TimeEntry._meta.get_field(name) for name in names]
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        quote(TimeEntry._meta.db_table),
        ", ".join(f"{quote(field.column)} = %s" for field in fields),  # type: ignore[union-attr]
        quote(TimeEntry._meta.pk.column),  # type: ignore[union-attr]
    )
    params = db_params(fields, entry)  # type: ignore[arg-type]
    statements = [(sql, [*params, entry.pk]), *events_insert(events)]
    if answer is not None:
        _answered(entry, statements, answer)
        return None
    if not read:
        _run(statements)
        return None
    if connection.vendor == "postgresql":
        return _DETAILS.first(entry.administration_id, entry.pk, before=_with_clause(statements))
    # Read first, as the WITH clause's read sees nothing of its own statement: a writer of
    # SQLite holds its one write lock, so nothing commits between this read and the change.
    details = entry_details(entry)
    _run(statements)
    return details


def _answered(entry: TimeEntry, statements: list[tuple[str, list[Any]]], answer: Answer) -> None:
    """Run a write's `statements`, the entry's insert or update first, then its events' insert
    (events_insert: one statement on PostgreSQL), and set answer.row to the entry as written."""
    if connection.vendor != "postgresql":  # no data-modifying WITH: the read comes after
        _run(statements)
        answer.read(entry.administration_id, entry.pk)
        return
    returning = [(f"{sql} RETURNING *", params) for sql, params in statements]
    head, params = _with_clause(returning)
    select = answer.after_write("w0", "w1" if len(returning) > 1 else None)
    # Prepared (bound on the server): its text is one of a few per changed column set, and
    # planning it anew cost PostgreSQL about half a millisecond per update.
    with server_cursor() as cursor:
        cursor.execute(f"{head} {select}", params)
        answer.row = cursor.fetchone()


def entry_details(entry: TimeEntry) -> TimeEntry | None:
    """The entry as with_details reads it (its related rows, events and notes)."""
    return _DETAILS.first(entry.administration_id, entry.pk)
