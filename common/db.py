"""Portable (SQLite and PostgreSQL) query expressions the ORM lacks, and a bulk insert faster
than bulk_create."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Func, JSONField, Model, QuerySet
from django.utils import timezone


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


def insert_rows(model: type[Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows given as {attname: value} with no model instances: bulk writes (imports)
    whose rows the caller has already validated. A field left out takes its default, an
    auto_now(_add) timestamp now. On PostgreSQL one COPY, which skips compiling SQL and
    adapting parameters in Python, the cost that dominates bulk_create; elsewhere
    bulk_create. As with bulk_create, neither save() nor signals run."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**row) for row in rows])
        return
    now = timezone.now()
    fields = model._meta.local_concrete_fields
    fill = []
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            fill.append(lambda row, f=field: row.get(f.attname) or now)
        elif isinstance(field, JSONField):
            fill.append(
                lambda row, f=field: f.get_db_prep_save(
                    row[f.attname] if f.attname in row else f.get_default(), connection
                )
            )
        else:
            fill.append(
                lambda row, f=field: row[f.attname] if f.attname in row else f.get_default()
            )
    quote = connection.ops.quote_name
    sql = "COPY {} ({}) FROM STDIN".format(
        quote(model._meta.db_table), ", ".join(quote(field.column) for field in fields)
    )
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([get(row) for get in fill])


def deferred_page(
    queryset: QuerySet, *, ordering: Sequence[str], offset: int, limit: int
) -> QuerySet:
    """One page of `queryset`, still one statement: the page's keys are found first (on the
    index), then only those rows are fetched, so whatever the caller annotates or joins onto the
    result (events, notes) is computed for the page and not for the rows an OFFSET skips."""
    keys = queryset.order_by(*ordering).values("pk")[offset : offset + limit]
    return queryset.model._default_manager.filter(pk__in=keys).order_by(*ordering)
