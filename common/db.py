"""Portable (SQLite and PostgreSQL) query expressions the ORM lacks."""

from django.db.models import Aggregate, Func, JSONField


class JSONGroupArray(Aggregate):
    """Aggregate rows into a JSON array, so a list can fetch each item's children (events,
    notes) inside its own query instead of one extra query per kind of child."""

    function = "json_group_array"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        # jsonb, not json: Django hands jsonb to JSONField as text, which it then decodes.
        return self.as_sql(compiler, connection, function="jsonb_agg", **extra_context)


class JSONValue(Func):
    """A JSON column embedded as JSON (not as a string) inside a JSON object."""

    function = "json"
    arity = 1
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="%(expressions)s", **extra_context)
