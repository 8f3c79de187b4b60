"""Writes for notes, and the one function that records audit events."""

from collections.abc import Iterable
from typing import Any

from django.db import models, transaction

from administrations.models import Administration, User
from administrations.selectors import member_get
from common.db import insert_rows
from common.exceptions import ValidationFailed
from common.ids import new_id
from common.limits import DESCRIPTION_MAX_LENGTH, too_long_message
from notes.models import Event, Note


def event_record(
    *,
    administration: Administration | None,
    actor: User | None,
    action: str,
    entity: models.Model,
    link: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Append one audit event. Every write service calls this inside its own transaction, so an
    event exists exactly when its change does, whether the change came from an API, the admin or
    a command."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("event_record must run inside the transaction of the change it records")
    event = Event(
        administration=administration,
        user=actor,
        action=action,
        subject_type=entity.entity_type,
        entity_id=entity.pk,
        link_entity_type=link.entity_type if link is not None else None,
        link_entity_id=link.pk if link is not None else None,
        data=data or {},
    )
    event.save(force_insert=True)
    return event


@transaction.atomic
def note_create(
    *,
    administration: Administration,
    actor: User | None,
    entity: models.Model,
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
def notes_delete_for(*, administration: Administration, entity: models.Model) -> int:
    """Remove an entity's notes along with the entity (its own destroyed event records that)."""
    deleted, _ = Note.objects.filter(
        administration=administration, subject_type=entity.entity_type, entity_id=entity.pk
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
) -> int:
    """event_record for many entities at once (bulk imports): one `action` event per
    (entity, data) pair, shaped as event_record shapes one, written in one bulk insert inside
    the caller's transaction. An entity is anything with `entity_type` and `pk`, so a bulk
    writer need not build model instances. Returns the number of events."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("events_record_bulk must run inside the transaction of the change")
    rows = [
        {
            "id": new_id(),
            "administration_id": administration.pk if administration is not None else None,
            "user_id": actor.pk if actor is not None else None,
            "action": action,
            "subject_type": entity.entity_type,
            "entity_id": entity.pk,
            "link_entity_type": None,
            "link_entity_id": None,
            "data": data or {},
        }
        for entity, data in entries
    ]
    insert_rows(Event, rows)
    return len(rows)
