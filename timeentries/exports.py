"""Streaming writers for export_time_entries: our CSV (the columns the CSV import reads) and
Moneybird's JSON rendering as one array. Both take an iterator of entries and write as they go,
so an export of any size needs the memory of one chunk of the query."""

import csv
from collections.abc import Iterable
from typing import TextIO

import orjson

from administrations.models import Contact
from common.timefmt import iso_utc_seconds
from timeentries.api.moneybird import render_time_entry
from timeentries.imports.uurwerk_csv import FIELDS
from timeentries.models import TimeEntry

CSV_COLUMNS = FIELDS


def contact_name(contact: Contact | None) -> str:
    """The name the import looks a contact up by: its company name, else first and last."""
    if contact is None:
        return ""
    return contact.company_name or f"{contact.firstname} {contact.lastname}".strip()


def csv_record(entry: TimeEntry) -> list[str]:
    return [
        str(entry.pk),
        entry.user.email,
        iso_utc_seconds(entry.started_at),
        iso_utc_seconds(entry.ended_at),
        str(entry.paused_duration),
        entry.description,
        entry.project.name if entry.project_id else "",
        contact_name(entry.contact),
        "true" if entry.billable else "false",
    ]


def write_csv(entries: Iterable[TimeEntry], out: TextIO) -> int:
    """Entries need user, project and contact joined (select_related). Returns the count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for entry in entries:
        writer.writerow(csv_record(entry))
        count += 1
    return count


def json_item(entry: TimeEntry) -> dict:
    """Moneybird's rendering of the entry, its user with the `email` of Moneybird's extended
    user: the key the JSON import matches people by. Needs selectors.with_details."""
    body = render_time_entry(entry)
    body["user"]["email"] = entry.user.email
    return body


def write_json(entries: Iterable[TimeEntry], out: TextIO) -> int:
    """One JSON array, one entry per line. Returns the count."""
    out.write("[")
    count = 0
    for entry in entries:
        out.write(",\n" if count else "\n")
        out.write(orjson.dumps(json_item(entry)).decode())
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count
