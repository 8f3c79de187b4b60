"""The loop behind `manage.py import_moneybird`: copy one administration's users, contacts,
projects and time entries from a Moneybird API (moneybird_api.py) into an administration here.

The first page of every list is fetched before anything is written, so a wrong token, scope,
URL or administration stops the import with nothing written. Then, in this order, each through
its service (so audited) and only where the target lacks it:

- users with an address become members (by email), as plain members whatever their rights
  there; deactivated users are not listed (or listed without an address), so their entries
  take the file import's fallback: a member of the same name;
- contacts, matched by company name, else "first last", as the file import matches them, with
  every attribute our contacts keep (the customer id too, unless it is taken here); archived
  ones are archived;
- projects, matched by name (case aside, as their uniqueness goes), with state and budget;
- time entries, page by page: each page is one batch of the import service
  (time_entries_import_batch), written whole or not at all, keyed by the entry's id under a
  source naming this server and administration, so a re-run adds only what is new. Running
  timers have no end: they are rejected rows, as in a file import.

Records that cannot be created are reported and their entries rejected; nothing else stops
the import but the API (MoneybirdApiError), and then the pages before it are kept.
"""

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import date
from typing import Any

from django.db import reset_queries, transaction

from administrations.models import Administration, Project
from administrations.selectors import contacts_by_name, members_of
from administrations.services import (
    CONTACT_FIELDS,
    contact_create,
    contact_update,
    member_add,
    project_create,
)
from common.exceptions import ValidationFailed
from timeentries.imports.engine import (
    WOULD_CREATE,
    ImportBatchResult,
    ImportLookups,
    time_entries_import_batch,
)
from timeentries.imports.moneybird_api import PER_PAGE_MAX, MoneybirdClient
from timeentries.imports.moneybird_json import contact_name, element_row
from timeentries.imports.rows import ImportRow, RowError
from timeentries.imports.runner import ImportSummary

NAME = "moneybird-api"
# Moneybird's time-entry list shows this year unless told otherwise, and has no "all" period:
# a range beyond any time tracking. include_active lists running timers, so that they are
# reported rather than silently missing.
EVERY_ENTRY = "period:19700101..20991231,state:all,include_active:true"
# Option attributes of a contact, by the type the service takes.
_CONTACT_CHOICES = ("delivery_method", "sepa_sequence_type")
_CONTACT_FLAGS = ("email_ubl", "direct_debit", "sepa_active")


def list_params(resource: str, per_page: int) -> dict[str, str | int]:
    """What each list is asked for: everything, archived and running included."""
    if resource == "users":
        return {}  # one unpaged list
    params: dict[str, str | int] = {"per_page": per_page}
    if resource == "contacts":
        params["include_archived"] = "true"
    elif resource == "projects":
        params["filter"] = "state:all"
    elif resource == "time_entries":
        params["filter"] = EVERY_ENTRY
    return params


@dataclasses.dataclass
class Tally:
    """One kind of record: how many the source listed, how many were here already, which
    could not be created (name: reason). Created names are in ImportSummary.created."""

    read: int = 0
    present: int = 0
    failed: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class MoneybirdImportSummary(ImportSummary):
    source: str = ""
    records: dict[str, Tally] = dataclasses.field(
        default_factory=lambda: {"users": Tally(), "contacts": Tally(), "projects": Tally()}
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _whole_hours(value: Any) -> int | None:
    """A budget as the service takes it; Moneybird's are whole hours, anything else is left
    out rather than failing the project."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(str(value).replace(",", "."))
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def contact_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The attributes of a rendered contact that contact_create takes, in its types."""
    fields = {name: item[name] for name in CONTACT_FIELDS if item.get(name) is not None}
    fields.update((name, item[name]) for name in _CONTACT_CHOICES if item.get(name))
    fields.update((name, item[name]) for name in _CONTACT_FLAGS if isinstance(item.get(name), bool))
    mandate = item.get("sepa_mandate_date")
    if isinstance(mandate, str) and mandate:
        # Unreadable, it is left out: the service then names what an active mandate lacks.
        with suppress(ValueError):
            fields["sepa_mandate_date"] = date.fromisoformat(mandate)
    return fields


class MoneybirdImport:
    """An import from one source administration into `administration`. Creating it fetches
    the first page of each list (and raises MoneybirdApiError when one fails): nothing is
    written before every list has answered. `run` then imports; `summary` holds what was done
    so far, also after `run` was stopped by an error."""

    ORDER = ("users", "contacts", "projects", "time_entries")

    def __init__(
        self,
        client: MoneybirdClient,
        *,
        administration: Administration,
        per_page: int = PER_PAGE_MAX,
        dry_run: bool = False,
    ):
        self.client = client
        self.administration = administration
        self.dry_run = dry_run
        self.first = {
            name: client.first_page(name, list_params(name, per_page)) for name in self.ORDER
        }
        self.summary = MoneybirdImportSummary(
            format=NAME, dry_run=dry_run, source=client.administration_url
        )
        self.lookups = ImportLookups()
        # The source's user ids and their addresses: entries name their user by id only.
        self.emails: dict[str, str] = {}

    @property
    def entries_total(self) -> int | None:
        """How many time entries the source announces, when it says."""
        return self.first["time_entries"].total

    def items(self, resource: str) -> Iterator[list[dict[str, Any]]]:
        """Each page's objects (anything else in a page is no record and is passed over)."""
        for page in self.client.pages(self.first[resource]):
            yield [item for item in page.items if isinstance(item, dict)]

    def run(
        self,
        *,
        on_error: Callable[[RowError], None] = lambda error: None,
        on_note: Callable[[str], None] = lambda line: None,
        on_progress: Callable[[ImportSummary, int], None] = lambda summary, done: None,
    ) -> MoneybirdImportSummary:
        """Import everything. `on_error` gets each rejected entry, `on_note` a line per kind
        of record and per record that could not be created, `on_progress` the running totals
        and the entries read so far after each page."""
        for kind, step in (
            ("users", self.users),
            ("contacts", self.contacts),
            ("projects", self.projects),
        ):
            step()
            tally = self.summary.records[kind]
            for name, reason in tally.failed.items():
                on_note(f"{kind}: {name}: {reason}")
            on_note(
                f"{kind}: {tally.read} read, {len(self.summary.created[kind])} "
                f"{'to create' if self.dry_run else 'created'}, {tally.present} present"
                + (f", {len(tally.failed)} failed" if tally.failed else "")
            )
        self.entries(on_error, on_progress)
        return self.summary

    def _resolved(
        self, kind: str, cache: dict[str, Any], name: str, create: Callable[[], int]
    ) -> None:
        """Remember `name` as created (or to be created in a dry run), or as failed."""
        if self.dry_run:
            cache[name] = WOULD_CREATE
        else:
            try:
                cache[name] = create()
            except ValidationFailed as exc:
                # Entries naming it are rejected with this reason.
                cache[name] = f"could not be created: {exc}"
                self.summary.records[kind].failed[name] = str(exc)
                return
        self.summary.created[kind].append(name)

    def users(self) -> None:
        tally, cache = self.summary.records["users"], self.lookups.users_by_email
        members = dict(members_of(self.administration).values_list("email", "pk"))
        for items in self.items("users"):
            for item in items:
                tally.read += 1
                email = _text(item.get("email")).lower()
                if not email:
                    label = f"id {_text(item.get('id'))} ({_text(item.get('name'))})"
                    tally.failed[label] = "has no email address; its entries go by name"
                    continue
                self.emails[_text(item.get("id"))] = email
                if email in cache:
                    tally.present += 1
                elif email in members:
                    cache[email] = members[email]
                    tally.present += 1
                else:
                    self._resolved(
                        "users",
                        cache,
                        email,
                        lambda email=email, item=item: (
                            member_add(
                                administration=self.administration,
                                actor=None,
                                email=email,
                                name=_text(item.get("name")),
                            ).user_id
                        ),
                    )

    def contacts(self) -> None:
        tally, cache = self.summary.records["contacts"], self.lookups.contacts
        for items in self.items("contacts"):
            names = {contact_name(item) for item in items} - set(cache) - {""}
            found = contacts_by_name(self.administration, names) if names else {}
            for item in items:
                tally.read += 1
                name = contact_name(item)
                if not name:
                    tally.failed[f"id {_text(item.get('id'))}"] = "has no name"
                elif name in cache:
                    tally.present += 1
                elif name in found:
                    cache[name] = found[name]
                    tally.present += 1
                else:
                    self._resolved(
                        "contacts", cache, name, lambda item=item: self._contact_create(item)
                    )

    @transaction.atomic
    def _contact_create(self, item: dict[str, Any]) -> int:
        """Created (and archived, when it is there) in one transaction."""
        fields = contact_fields(item)
        try:
            contact = contact_create(administration=self.administration, actor=None, **fields)
        except ValidationFailed as exc:
            if "customer_id" not in exc.errors or "customer_id" not in fields:
                raise
            # Taken here by another contact: this one gets the next free number.
            del fields["customer_id"]
            contact = contact_create(administration=self.administration, actor=None, **fields)
        if item.get("archived") is True:
            contact_update(contact=contact, actor=None, changes={"archived": True})
        return contact.pk

    def projects(self) -> None:
        tally, cache = self.summary.records["projects"], self.lookups.projects
        # Names are unique here regardless of case; the few names of an administration.
        existing = {
            name.lower(): pk
            for name, pk in Project.objects.for_administration(self.administration)
            .order_by()
            .values_list("name", "pk")
        }
        for items in self.items("projects"):
            for item in items:
                tally.read += 1
                name = _text(item.get("name"))
                if not name:
                    tally.failed[f"id {_text(item.get('id'))}"] = "has no name"
                elif name in cache:
                    tally.present += 1
                elif name.lower() in existing:
                    cache[name] = existing[name.lower()]
                    tally.present += 1
                else:
                    self._resolved(
                        "projects",
                        cache,
                        name,
                        lambda item=item, name=name: self._project_create(name, item),
                    )
                    existing[name.lower()] = cache[name]

    def _project_create(self, name: str, item: dict[str, Any]) -> int:
        fields: dict[str, Any] = {}
        if item.get("state") in Project.State.values:
            fields["state"] = item["state"]
        budget = _whole_hours(item.get("budget"))
        if budget is not None:
            fields["budget"] = budget
        return project_create(
            administration=self.administration, actor=None, name=name, **fields
        ).pk

    def entries(
        self,
        on_error: Callable[[RowError], None],
        on_progress: Callable[[ImportSummary, int], None],
    ) -> None:
        summary, tz = self.summary, self.administration.tz
        number = 0
        for page in self.client.pages(self.first["time_entries"]):
            rows: list[ImportRow] = []
            unreadable: list[RowError] = []
            for item in page.items:
                number += 1
                row = element_row(number, item, tz)
                if isinstance(row, RowError):
                    unreadable.append(row)
                    continue
                if not row.user_email:
                    row.user_email = self.emails.get(row.user_ref, "")
                rows.append(row)
            summary.rows += len(page.items)
            summary.rejected += len(unreadable)
            result = ImportBatchResult()
            if rows:
                result = time_entries_import_batch(
                    administration=self.administration,
                    actor=None,
                    rows=rows,
                    source=self.client.source,
                    file=self.client.administration_url,
                    dry_run=self.dry_run,
                    lookups=self.lookups,
                )
            summary.add(result)
            for error in sorted([*unreadable, *result.errors], key=lambda e: e.row):
                on_error(error)
            # With DEBUG on, Django keeps every query; an import has no use for them.
            reset_queries()
            on_progress(summary, summary.rows)
