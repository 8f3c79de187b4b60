"""Reads for time entries. Every query starts from `time_entries_of(administration)`."""

from django.db import connection
from django.db.models import QuerySet

from administrations.models import Administration
from common.db import deferred_page
from notes.selectors import events_json, notes_json
from timeentries.models import IMPORTED, TimeEntry


def time_entries_of(administration: Administration) -> QuerySet:
    return TimeEntry.objects.filter(administration=administration)


def with_details(queryset: QuerySet) -> QuerySet:
    """Everything an API rendering needs, in the one query: related rows joined, events and
    notes aggregated per entry."""
    return queryset.select_related("user", "contact", "project", "sales_invoice").annotate(
        events_json=events_json(TimeEntry.entity_type),
        notes_json=notes_json(TimeEntry.entity_type),
    )


LIST_ORDER = ("-started_at", "id")


def page_with_details(queryset: QuerySet, *, offset: int, limit: int) -> QuerySet:
    """One page of entries in list order with everything the API renders."""
    return with_details(deferred_page(queryset, ordering=LIST_ORDER, offset=offset, limit=limit))


def time_entry_detail(administration: Administration, entry_id: int) -> TimeEntry | None:
    return with_details(time_entries_of(administration).filter(pk=entry_id)).first()


def imported_keys(administration: Administration, source: str, keys: list[str]) -> set[str]:
    """Those of `keys` that an earlier import from `source` stored in this administration.

    On PostgreSQL one probe of the unique (administration, source, key) index per key: the
    LATERAL subquery names the key, which makes the plan a nested loop whatever the statistics
    say. Left to choose, the planner hashes every entry of the source for each batch (it knows
    the 2,000 keys, not that the table holds a million rows more than at its last ANALYZE),
    which makes an import slow down with each batch."""
    if connection.vendor != "postgresql":
        return set(
            time_entries_of(administration)
            .filter(IMPORTED, import_source=source, import_key__in=keys)
            .order_by()
            .values_list("import_key", flat=True)
        )
    table = connection.ops.quote_name(TimeEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT key FROM unnest(%s::text[]) AS key, LATERAL (SELECT 1 FROM {table} "
            "WHERE administration_id = %s AND import_source = %s AND import_key = key "
            "AND import_key <> '' LIMIT 1) AS hit WHERE key <> ''",
            [keys, administration.pk, source],
        )
        return {key for (key,) in cursor.fetchall()}
