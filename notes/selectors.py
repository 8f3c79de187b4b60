"""Reads for the events and notes that hang off other records. A list annotates each row with its
events and notes as JSON arrays computed inside its own query, so a page costs the same number of
queries whatever its size."""

from typing import Any

from django.db.models import Expression, F, Model

from common.db import JSONTextField, JSONValue
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


class ChildrenJSON(Expression):
    """The outer row's children (events or notes) as one JSON array, NULL when it has none: a
    correlated subquery matching them on the outer row's administration and id, so it never
    reaches across administrations. The outer queryset's model needs `administration_id`.

    It is the SQL an ORM Subquery of JSONObject(**fields) under a JSON aggregate would be, written
    out once per database instead: Django builds and compiles those two dozen expressions anew
    for every queryset, which cost a request for one entry more than PostgreSQL's work for it.
    `fields` maps each JSON key to F(field) or JSONValue(field) (a JSON column embedded as
    JSON, not as a string). Children that point at their parent with a foreign key (a contact's
    people) name it in `parent` instead of an `entity_type`."""

    output_field = JSONTextField()

    def __init__(
        self,
        model: type[Model],
        fields: dict[str, Any],
        entity_type: str = "",
        *,
        parent: str | None = None,
    ):
        super().__init__(output_field=JSONTextField())
        self.model, self.fields, self.entity_type = model, fields, entity_type
        self.parent = parent
        self._sql: dict[str, str] = {}

    def _template(self, connection) -> str:
        quote = connection.ops.quote_name

        def column(name: str) -> str:
            # Only concrete fields are named here, never a reverse relation (which has none).
            return quote(self.model._meta.get_field(name).column)  # type: ignore[union-attr]

        postgres = connection.vendor == "postgresql"
        pairs = []
        for key, value in self.fields.items():
            source = value if isinstance(value, F) else value.source_expressions[0]
            selected = "c." + column(source.name)  # type: ignore[union-attr]  # F.name, unstubbed
            if isinstance(value, JSONValue) and not postgres:
                selected = f"json({selected})"
            pairs.append(f"'{key}', {selected}")
        if postgres:
            # json, not jsonb: building jsonb (parsed, keys sorted) took an entry with two
            # hundred events 6 ms against 1.6; a JSON column inside it is jsonb already, so
            # every value reads back the same. As text, which JSONTextField loads.
            items = f"json_agg(json_build_object({', '.join(pairs)}))::text"
        else:  # json_group_array gives [] for no rows; NULL, as on PostgreSQL
            items = f"NULLIF(json_group_array(json_object({', '.join(pairs)})), '[]')"
        meta = self.model._meta
        if self.parent is not None:
            match = f"c.{column(self.parent)} = {{outer}}.{{pk}}"
        else:
            match = (
                f"c.{column('subject_type')} = %s AND c.{column('entity_id')} = {{outer}}.{{pk}}"
            )
        return (
            f"(SELECT {items} FROM {quote(meta.db_table)} c "
            f"WHERE c.{column('administration')} = "
            "{outer}.administration_id "
            f"AND {match})"
        )

    def as_sql(self, compiler, connection):
        template = self._sql.get(connection.vendor)
        if template is None:
            template = self._sql[connection.vendor] = self._template(connection)
        query = compiler.query
        outer = compiler.quote_name_unless_alias(query.base_table)
        pk = connection.ops.quote_name(query.model._meta.pk.column)
        params = [] if self.parent is not None else [self.entity_type]
        return template.format(outer=outer, pk=pk), params


def events_json(entity_type: str) -> ChildrenJSON:
    """Annotate with this: `queryset.annotate(events_json=events_json(Model.entity_type))`."""
    return ChildrenJSON(Event, EVENT_FIELDS, entity_type)


def notes_json(entity_type: str) -> ChildrenJSON:
    """Annotate with this: `queryset.annotate(notes_json=notes_json(Model.entity_type))`."""
    return ChildrenJSON(Note, NOTE_FIELDS, entity_type)
