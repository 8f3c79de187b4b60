"""Reads for the events and notes that hang off other records. A list annotates each row with its
events and notes as JSON arrays computed inside its own query, so a page costs the same number of
queries whatever its size."""

from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import JSONObject

from common.db import JSONGroupArray, JSONValue
from notes.models import Event, Note

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


def _children_json(model, fields: dict, entity_type: str) -> Subquery:
    """The outer row's children as one JSON array (NULL when it has none). The outer queryset
    must have `administration_id` and `pk`: the children are matched on both, so the subquery
    never reaches across administrations."""
    rows = (
        model.objects.filter(
            administration_id=OuterRef("administration_id"),
            subject_type=entity_type,
            entity_id=OuterRef("pk"),
        )
        .values("entity_id")
        .annotate(items=JSONGroupArray(JSONObject(**fields)))
        .values("items")
    )
    return Subquery(rows)


def events_json(entity_type: str) -> Subquery:
    """Annotate with this: `queryset.annotate(events_json=events_json(Model.entity_type))`."""
    return _children_json(Event, EVENT_FIELDS, entity_type)


def notes_json(entity_type: str) -> Subquery:
    """Annotate with this: `queryset.annotate(notes_json=notes_json(Model.entity_type))`."""
    return _children_json(Note, NOTE_FIELDS, entity_type)
