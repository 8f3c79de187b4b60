"""Reads for time entries. Every query starts from `time_entries_of(administration)`."""

from django.db.models import QuerySet

from administrations.models import Administration
from common.db import deferred_page
from notes.selectors import events_json, notes_json
from timeentries.models import TimeEntry


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
