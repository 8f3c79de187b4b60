"""Writes for notes, and the one function that records audit events."""

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from django.db import connection, transaction
from django.utils import timezone

from administrations.models import Administration, User
from administrations.selectors import member_get
from common.db import db_params, insert_rows
from common.exceptions import Suspended, ValidationFailed
from common.ids import new_id
from common.limits import DESCRIPTION_MAX_LENGTH, too_long_message
from notes.models import Event, NextPosition, Note, position_default

# The only changes a suspended administration records: suspending and reactivating it, and a
# member's tokens (a person's credentials, not the administration's data: a suspended
# administration stays readable, which takes a token, and revoking one must always work).
ALLOWED_WHILE_SUSPENDED = frozenset(
    {
        "administration_suspended",
        "administration_reactivated",
        "access_token_created",
        "access_token_revoked",
    }
)


class Subject(Protocol):
    """What an event or a note addresses: a model with its Moneybird entity type, or a stand-in
    carrying the same two values."""

    entity_type: str
    pk: Any


def event_record(
    *,
    administration: Administration | None,
    actor: User | None,
    action: str,
    entity: Subject,
    link: Subject | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Append one audit event. Every write service calls this inside its own transaction, so an
    event exists exactly when its change does, whether the change came from an API, the admin or
    a command. (A service that inserts the event in the statement of its change uses event_new,
    events_insert and events_recorded, the three steps of this one.)"""
    event = event_new(
        administration=administration,
        actor=actor,
        action=action,
        entity=entity,
        link=link,
        data=data,
    )
    event.save(force_insert=True)
    _push(administration, [event])
    return event


def _refuse_when_suspended(administration: Administration | None, action: str) -> None:
    # Every write records its events here (one by one or in bulk), whoever makes it: so no
    # change of a suspended administration commits (the APIs refuse it earlier, common.api).
    if (
        administration is not None
        and administration.suspended
        and action not in ALLOWED_WHILE_SUSPENDED
    ):
        raise Suspended()


def event_new(
    *,
    administration: Administration | None,
    actor: User | None,
    action: str,
    entity: Subject,
    link: Subject | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """The event event_record would append, checked as it checks one, not yet inserted: for a
    service that writes it in the same statement as its change (events_insert), and then
    hands it to events_recorded."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("event_record must run inside the transaction of the change it records")
    _refuse_when_suspended(administration, action)
    return Event(
        administration=administration,
        user=actor,
        action=action,
        subject_type=entity.entity_type,
        entity_id=entity.pk,
        link_entity_type=link.entity_type if link is not None else None,
        link_entity_id=link.pk if link is not None else None,
        data=data or {},
        created_at=timezone.now(),
    )


# Every column but xact, which the database fills (PostgreSQL's column default; elsewhere the
# NextPosition subquery in the insert).
_EVENT_FIELDS = [f for f in Event._meta.local_concrete_fields if f.attname != "xact"]


def events_insert(events: Sequence[Event]) -> list[tuple[str, list[Any]]]:
    """The INSERT statements (SQL, parameters) of `events` made by event_new: on PostgreSQL
    one, which a service may run as part of the statement that makes its change (a WITH
    clause); elsewhere one per event, each numbered under the write lock (NextPosition). The
    caller runs them and then calls events_recorded."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in _EVENT_FIELDS)
    table = quote(Event._meta.db_table)
    row = ", ".join(["%s"] * len(_EVENT_FIELDS))

    if connection.vendor == "postgresql":
        rows = ", ".join(f"({row})" for _ in events)
        params = [value for event in events for value in db_params(_EVENT_FIELDS, event)]
        return [(f"INSERT INTO {table} ({columns}) VALUES {rows}", params)]
    xact = quote(str(Event._meta.get_field("xact").column))
    statements = []
    for event in events:
        position, position_params = NextPosition(event.administration_id).as_sql(None, connection)
        statements.append(
            (
                f"INSERT INTO {table} ({columns}, {xact}) VALUES ({row}, {position})",
                [*db_params(_EVENT_FIELDS, event), *position_params],
            )
        )
    return statements


def events_recorded(administration: Administration | None, events: list[Event]) -> None:
    """What event_record does after its insert, for `events` that their service inserted
    itself (events_insert): fill the webhooks' outbox."""
    _push(administration, events)


def _push(administration: Administration | None, events: list[Event]) -> None:
    """The webhooks' outbox, filled in the change's transaction. An administration without an
    active webhook costs nothing more than reading the flag it was loaded with."""
    if administration is None or not administration.webhooks_active or not events:
        return
    from webhooks.services import deliveries_enqueue  # webhooks builds on notes

    deliveries_enqueue(administration=administration, events=events)


@transaction.atomic
def note_create(
    *,
    administration: Administration,
    actor: User | None,
    entity: Subject,
    note: str | None,
    todo: bool = False,
    assignee_id: int | None = None,
) -> Note:
    text = (note or "").strip()
    if not text:
        raise ValidationFailed.single("note", "blank", "can't be blank")
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise ValidationFailed.single("note", "too_long", too_long_message(DESCRIPTION_MAX_LENGTH))
    assignee = (
        member_get(administration, assignee_id, field="assignee_id")
        if assignee_id is not None
        else None
    )
    created = Note.objects.create(
        administration=administration,
        subject_type=entity.entity_type,
        entity_id=entity.pk,
        user=actor,
        note=text,
        # Moneybird: an assignee makes the note a to-do.
        todo=bool(todo) or assignee is not None,
        assignee=assignee,
    )
    event_record(
        administration=administration,
        actor=actor,
        action="note_created",
        entity=entity,
        link=created,
        data={"note": text, "todo": created.todo},
    )
    return created


@transaction.atomic
def note_delete(*, note: Note, actor: User | None) -> None:
    event_record(
        administration=note.administration,
        actor=actor,
        action="note_destroyed",
        entity=_NoteSubject(note),
        link=note,
        data={"note": note.note, "todo": note.todo},
    )
    note.delete()


@transaction.atomic
def notes_delete_for(*, administration: Administration, entity: Subject) -> int:
    """Remove an entity's notes along with the entity (its own destroyed event records that)."""
    deleted, _ = Note.objects.filter(
        administration=administration, subject_type=entity.entity_type, entity_id=entity.pk
    ).delete()
    return deleted


@transaction.atomic(savepoint=False)  # one statement: nothing to undo on its own
def notes_delete_for_many(
    *, administration: Administration, entity_type: str, ids: list[int]
) -> int:
    """notes_delete_for for many entities of one type, in one statement."""
    deleted, _ = Note.objects.filter(
        administration=administration, subject_type=entity_type, entity_id__in=ids
    ).delete()
    return deleted


class _NoteSubject:
    """The entity a note hangs off, as events need it (type and id), without loading it."""

    def __init__(self, note: Note):
        self.entity_type = note.subject_type
        self.pk = note.entity_id


def events_record_bulk(
    *,
    administration: Administration | None,
    actor: User | None,
    action: str,
    entries: Iterable[tuple[Any, dict[str, Any] | None]],
    link: Subject | None = None,
) -> int:
    """event_record for many entities at once (bulk writes, imports): one `action` event per
    (entity, data) pair, each linked to `link` if given, shaped as event_record shapes one,
    written in one bulk insert inside the caller's transaction. An entity is anything with
    `entity_type` and `pk`, so a bulk writer need not build model instances. Returns the
    number of events."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("events_record_bulk must run inside the transaction of the change")
    _refuse_when_suspended(administration, action)
    administration_id = administration.pk if administration is not None else None
    position = position_default(administration_id)
    rows = [
        {
            "id": new_id(),
            "administration_id": administration_id,
            "user_id": actor.pk if actor is not None else None,
            "action": action,
            "subject_type": entity.entity_type,
            "entity_id": entity.pk,
            "link_entity_type": None if link is None else link.entity_type,
            "link_entity_id": None if link is None else link.pk,
            "data": data or {},
            # Left out on PostgreSQL, where the column default records the transaction.
            **({} if position is None else {"xact": position}),
        }
        for entity, data in entries
    ]
    insert_rows(Event, rows)
    if administration is not None and administration.webhooks_active:
        _push(administration, [_event(row) for row in rows])
    return len(rows)


def _event(row: dict[str, Any]) -> Event:
    """An inserted event row as the instance event_record would have returned."""
    return Event(**row)
