"""The import engine: writes the rows read from other tools' exports (see the modules beside
this one), a batch at a time, under time_entry_create's rules."""

import dataclasses
import hashlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from administrations.models import Administration, Project, User
from administrations.selectors import contacts_by_name, members_of
from administrations.services import contact_create, member_add, project_create
from common.db import insert_rows
from common.exceptions import FieldError, ValidationFailed
from common.ids import new_id, parse_id
from notes.services import events_record_bulk
from timeentries.imports.rows import ImportRow, RowError
from timeentries.models import TimeEntry
from timeentries.selectors import imported_keys, person_entries_between
from timeentries.services import EntryRef, entry_values, lock_people, overlaps_guarded

# --- imports ---------------------------------------------------------------------------------

IMPORT_BATCH_SIZE = 2000
# A name a dry run would create: valid for its rows, but it has no id.
WOULD_CREATE = -1
# What a looked-up name resolves to: an id, WOULD_CREATE, or why it cannot be used.
Resolved = int | str


@dataclasses.dataclass
class ImportLookups:
    """Names an import resolved so far, carried from batch to batch so that each is looked up
    (or created) once per import. Grows with the distinct names in a file, not its rows."""

    users_by_email: dict[str, Resolved] = dataclasses.field(default_factory=dict)
    users_by_ref: dict[str, int | None] = dataclasses.field(default_factory=dict)
    users_by_name: dict[str, Resolved] = dataclasses.field(default_factory=dict)
    projects: dict[str, Resolved] = dataclasses.field(default_factory=dict)
    contacts: dict[str, Resolved] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ImportBatchResult:
    imported: int = 0
    skipped: int = 0
    rejected: int = 0
    errors: list[RowError] = dataclasses.field(default_factory=list)
    # Names created for this batch (in a dry run: that would be created).
    created: dict[str, list[str]] = dataclasses.field(
        default_factory=lambda: {"users": [], "projects": [], "contacts": []}
    )


def _import_values(administration: Administration, row: ImportRow) -> dict[str, Any]:
    """The row's attributes under time_entry_create's rules; an import also needs an end."""
    errors: dict[str, list[FieldError]] = {}
    values: dict[str, Any] = {}
    try:
        values = entry_values(
            administration,
            started_at=row.started_at,
            ended_at=row.ended_at,
            description=row.description,
            paused_duration=row.paused_duration,
        )
    except ValidationFailed as exc:
        errors = exc.errors
    if row.ended_at is None:
        errors = {"ended_at": [FieldError("blank", "no end time")], **errors}
    if errors:
        raise ValidationFailed(errors)
    return values


def _import_key(row: ImportRow, values: dict[str, Any]) -> str:
    """The tool's id, or a SHA-256 of the normalised row (times rounded, text trimmed)."""
    if row.source_id and len(row.source_id) <= 100:
        return row.source_id
    parts = (
        row.source_id,
        row.user_email or row.user_ref or row.user_name.lower(),
        values["started_at"].isoformat(),
        values["ended_at"].isoformat(),
        str(values["paused_duration"]),
        values["description"],
        row.project,
        row.contact,
        "1" if row.billable else "0",
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _users_by_name(administration: Administration, names: set[str]) -> dict[str, Resolved]:
    found: dict[str, Resolved] = {}
    for name, pk in members_of(administration).filter(name__in=names).values_list("name", "pk"):
        # Two members of one name cannot be told apart: the rows wait for an email address.
        found[name] = f"more than one member is named {name!r}" if name in found else pk
    return found


class _Resolver:
    """Looks a batch's names up with one query per kind, creates missing ones through the
    services when asked (only those a valid row uses), and remembers them in `lookups`. If the
    batch fails, `forget_created` drops the names whose creation rolled back with it."""

    def __init__(
        self,
        *,
        administration: Administration,
        actor: User | None,
        lookups: ImportLookups,
        create_missing: bool,
        dry_run: bool,
        result: ImportBatchResult,
    ):
        self.administration = administration
        self.actor = actor
        self.lookups = lookups
        self.create_missing = create_missing
        self.dry_run = dry_run
        self.result = result
        self.created: list[tuple[dict[str, Resolved], str]] = []

    def resolve(
        self,
        kind: str,
        cache: dict[str, Resolved],
        names: set[str],
        find: Callable[[set[str]], Mapping[str, Resolved]],
        create: Callable[[str], int] | None,
        missing: str,
    ) -> None:
        wanted = {name for name in names if name not in cache}
        if not wanted:
            return
        found = find(wanted)
        for name in sorted(wanted):
            if name in found:
                cache[name] = found[name]
            elif create is None or not self.create_missing:
                cache[name] = missing.format(name=name)
            elif self.dry_run:
                cache[name] = WOULD_CREATE
                self.result.created[kind].append(name)
            else:
                try:
                    cache[name] = create(name)
                except ValidationFailed as exc:
                    cache[name] = f"cannot be created: {exc}"
                    continue
                self.created.append((cache, name))
                self.result.created[kind].append(name)

    def forget_created(self) -> None:
        for cache, name in self.created:
            cache.pop(name, None)

    def run(self, rows: list[ImportRow]) -> None:
        administration, actor, lookups = self.administration, self.actor, self.lookups
        first_name: dict[str, str] = {}
        for row in rows:
            if row.user_email:
                first_name.setdefault(row.user_email, row.user_name)
        self.resolve(
            "users",
            lookups.users_by_email,
            set(first_name),
            lambda emails: dict(
                members_of(administration).filter(email__in=emails).values_list("email", "pk")
            ),
            lambda email: (
                member_add(
                    administration=administration,
                    actor=actor,
                    email=email,
                    name=first_name.get(email, ""),
                ).user_id
            ),
            "no member with email {name}",
        )
        refs = {
            row.user_ref
            for row in rows
            if not row.user_email and row.user_ref and row.user_ref not in lookups.users_by_ref
        }
        if refs:
            numbers = {parse_id(ref) for ref in refs} - {None}
            members = set(
                members_of(administration).filter(pk__in=numbers).values_list("pk", flat=True)
            )
            for ref in refs:
                pk = parse_id(ref)
                lookups.users_by_ref[ref] = pk if pk in members else None
        self.resolve(
            "users",
            lookups.users_by_name,
            {
                row.user_name
                for row in rows
                if not row.user_email and row.user_name and not self._by_ref(row)
            },
            lambda names: _users_by_name(administration, names),
            None,
            "no member named {name!r}, and the file has no email address to add one by",
        )
        self.resolve(
            "projects",
            lookups.projects,
            {row.project for row in rows if row.project},
            lambda names: dict(
                Project.objects.filter(administration=administration, name__in=names).values_list(
                    "name", "pk"
                )
            ),
            lambda name: project_create(administration=administration, actor=actor, name=name).pk,
            "no project named {name!r}",
        )
        self.resolve(
            "contacts",
            lookups.contacts,
            {row.contact for row in rows if row.contact},
            lambda names: contacts_by_name(administration, names),
            lambda name: (
                contact_create(administration=administration, actor=actor, company_name=name).pk
            ),
            "no contact named {name!r}",
        )

    def _by_ref(self, row: ImportRow) -> int | None:
        return self.lookups.users_by_ref.get(row.user_ref) if row.user_ref else None

    def user(self, row: ImportRow) -> Resolved:
        if row.user_email:
            return self.lookups.users_by_email[row.user_email]
        by_ref = self._by_ref(row)
        if by_ref is not None:
            return by_ref
        if row.user_name:
            return self.lookups.users_by_name[row.user_name]
        return "no user: the row names nobody"

    def project(self, row: ImportRow) -> Resolved | None:
        return self.lookups.projects[row.project] if row.project else None

    def contact(self, row: ImportRow) -> Resolved | None:
        return self.lookups.contacts[row.contact] if row.contact else None


def time_entries_import_batch(
    *,
    administration: Administration,
    actor: User | None,
    rows: Sequence[ImportRow],
    source: str,
    file: str = "",
    create_missing: bool = False,
    dry_run: bool = False,
    lookups: ImportLookups | None = None,
) -> ImportBatchResult:
    """Import one batch of rows read from a file (see timeentries/imports/).

    Each row is trimmed, rounded and validated by time_entry_create's rules, and must have an
    end. People (members, by email; by the source's user id or by name where a format has no
    addresses), projects and contacts are looked up by name inside this administration, one
    query per kind for the batch; with `create_missing` the missing ones are created through
    their services (so they are audited). A row that was imported before (same source and
    source id or content hash, or the id of an entry of this administration) is skipped, once
    per batch too. The good rows and one time_entry_created event each (data: which import)
    are written with two bulk inserts in one transaction: the batch is written whole or not
    at all. A dry run does everything but write (so it cannot see a row repeated in a later
    batch of the same file). Bad rows come back as errors naming their row, column and reason;
    they never stop the batch.
    """
    result = ImportBatchResult()
    lookups = lookups if lookups is not None else ImportLookups()
    valid: list[tuple[ImportRow, dict[str, Any]]] = []
    for row in rows:
        try:
            valid.append((row, _import_values(administration, row)))
        except ValidationFailed as exc:
            result.rejected += 1
            result.errors.extend(
                RowError(row.row, row.column(name), problem.message)
                for name, problems in exc.errors.items()
                for problem in problems
            )
    resolver = _Resolver(
        administration=administration,
        actor=actor,
        lookups=lookups,
        create_missing=create_missing,
        dry_run=dry_run,
        result=result,
    )
    try:
        with nullcontext() if dry_run else transaction.atomic():
            resolver.run([row for row, _ in valid])
            fresh = _import_fresh_rows(administration, resolver, valid, source, result)
            if overlaps_guarded(administration):
                column = valid[0][0].column("started_at") if valid else "started_at"
                fresh = _import_refuse_overlaps(
                    administration, fresh, result, column=column, lock=not dry_run
                )
            if fresh and not dry_run:
                _import_write(administration, actor, fresh, source=source, file=file)
            result.imported = len(fresh)
    except BaseException:
        resolver.forget_created()
        raise
    return result


def _import_fresh_rows(
    administration: Administration,
    resolver: _Resolver,
    valid: list[tuple[ImportRow, dict[str, Any]]],
    source: str,
    result: ImportBatchResult,
) -> list[tuple[int, dict[str, Any]]]:
    """(row number, the entry's columns) for the rows to insert: those whose names resolved
    and that are not present yet."""
    resolved = []
    for row, values in valid:
        user, project, contact = resolver.user(row), resolver.project(row), resolver.contact(row)
        if isinstance(user, str) or isinstance(project, str) or isinstance(contact, str):
            result.rejected += 1
            result.errors.extend(
                RowError(row.row, row.column(name), reason)
                for name, reason in (("user", user), ("project", project), ("contact", contact))
                if isinstance(reason, str)
            )
            continue
        values.update(user_id=user, project_id=project, contact_id=contact, billable=row.billable)
        resolved.append((row, values, _import_key(row, values)))
    keys = [key for *_, key in resolved]
    present = imported_keys(administration, source, keys)
    # An export of this same administration names its entries by their own ids.
    ids = {pk for row, *_ in resolved if (pk := parse_id(row.source_id)) is not None}
    if ids:
        present.update(
            str(pk)
            for pk in TimeEntry.objects.filter(administration=administration, pk__in=ids)
            .order_by()
            .values_list("pk", flat=True)
        )
    fresh = []
    for row, values, key in resolved:
        if key in present or (row.source_id and row.source_id in present):
            result.skipped += 1
            continue
        present.add(key)
        values["import_key"] = key
        fresh.append((row.row, values))
    return fresh


def _import_refuse_overlaps(
    administration: Administration,
    fresh: list[tuple[int, dict[str, Any]]],
    result: ImportBatchResult,
    *,
    column: str,
    lock: bool,
) -> list[tuple[int, dict[str, Any]]]:
    """The rows of `fresh` that overlap neither an entry of their person nor an earlier row of
    the batch; the others are rejected naming what they overlap. One query for the batch,
    after locking its people (see lock_people)."""
    if not fresh:
        return fresh
    people = {values["user_id"] for _, values in fresh if values["user_id"] != WOULD_CREATE}
    if lock:
        lock_people(administration, sorted(people))
    now = timezone.now()
    taken: dict[int, list[tuple[datetime, datetime, str]]] = {}
    if people:
        start = min(values["started_at"] for _, values in fresh)
        end = max(values["ended_at"] for _, values in fresh)
        for pk, user_id, started, ended in person_entries_between(
            administration, user_ids=people, start=start, end=end, now=now
        ):
            taken.setdefault(user_id, []).append(
                (started, ended or now, f"overlaps time entry {pk}")
            )
    kept = []
    for number, values in fresh:
        if values["user_id"] == WOULD_CREATE:  # a dry run's new person: nothing to overlap yet
            kept.append((number, values))
            continue
        spans = taken.setdefault(values["user_id"], [])
        started, ended = values["started_at"], values["ended_at"]
        clash = next((why for s, e, why in spans if s < ended and started < e), None)
        if clash is not None:
            result.rejected += 1
            result.errors.append(RowError(number, column, clash))
            continue
        spans.append((started, ended, f"overlaps row {number}"))
        kept.append((number, values))
    return kept


def _import_write(
    administration: Administration,
    actor: User | None,
    fresh: list[tuple[int, dict[str, Any]]],
    *,
    source: str,
    file: str,
) -> None:
    """Two bulk inserts inside the caller's transaction: the entries, then their events."""
    for _, values in fresh:
        values.update(id=new_id(), administration_id=administration.pk, import_source=source)
    insert_rows(TimeEntry, [values for _, values in fresh])
    events_record_bulk(
        administration=administration,
        actor=actor,
        action="time_entry_created",
        entries=(
            (EntryRef(values["id"]), {"import": {"source": source, "file": file, "row": number}})
            for number, values in fresh
        ),
    )
