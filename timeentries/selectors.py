"""Reads for time entries. Every query starts from `time_entries_of(administration)`."""

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject

from administrations.models import Administration
from common.db import JSONGroupArray, JSONValue
from notes.models import Event, Note
from timeentries.models import TimeEntry


def time_entries_of(administration: Administration) -> QuerySet:
    return TimeEntry.objects.filter(administration=administration)


def _children(model, fields: dict) -> Subquery:
    """Each entry's events (or notes) as one JSON array computed inside the list query."""
    rows = (
        model.objects.filter(
            administration_id=OuterRef("administration_id"),
            subject_type=TimeEntry.entity_type,
            entity_id=OuterRef("pk"),
        )
        .values("entity_id")
        .annotate(items=JSONGroupArray(JSONObject(**fields)))
        .values("items")
    )
    return Subquery(rows)


EVENT_FIELDS = {
    "id": F("id"),
    "administration_id": F("administration_id"),
    "user_id": F("user_id"),
    "action": F("action"),
    "link_entity_id": F("link_entity_id"),
    "link_entity_type": F("link_entity_type"),
    "data": JSONValue("data"),
    "created_at": F("created_at"),
}
NOTE_FIELDS = {
    "id": F("id"),
    "administration_id": F("administration_id"),
    "entity_id": F("entity_id"),
    "entity_type": F("subject_type"),
    "user_id": F("user_id"),
    "assignee_id": F("assignee_id"),
    "todo": F("todo"),
    "note": F("note"),
    "completed_at": F("completed_at"),
    "completed_by_id": F("completed_by_id"),
    "todo_type": F("todo_type"),
    "data": JSONValue("data"),
    "created_at": F("created_at"),
    "updated_at": F("updated_at"),
}


def with_details(queryset: QuerySet) -> QuerySet:
    """Everything an API rendering needs, in the one query: related rows joined, events and
    notes aggregated per entry."""
    return queryset.select_related("user", "contact", "project").annotate(
        events_json=_children(Event, EVENT_FIELDS),
        notes_json=_children(Note, NOTE_FIELDS),
    )


def time_entry_detail(administration: Administration, entry_id: int) -> TimeEntry | None:
    return with_details(time_entries_of(administration).filter(pk=entry_id)).first()
