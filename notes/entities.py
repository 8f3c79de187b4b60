"""Any audited entity rendered the Moneybird way, by (entity type, id).

Webhooks put this in a push's `entity` and the change feed in each item's `entity`: exactly what a
GET of that record answers in the Moneybird dialect, made by the dialect's own renderers (one
rendering per record kind, wherever it is shown). A record that no longer exists, or that is not
the administration's, renders as None.

The renderers live in the API modules, which import the services, which import notes: they are
imported inside the functions so that notes stays importable first."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from administrations.models import Administration

Rendering = dict[str, Any]


def entity_rendering(
    administration: Administration,
    subject_type: str,
    entity_id: int,
    *,
    base_url: str | None = None,
) -> Rendering | None:
    """The record `subject_type` #`entity_id` of `administration` as a Moneybird GET renders it
    now, or None when it is gone (or of another administration, or of a kind with no Moneybird
    rendering). `base_url` (scheme and host, no trailing slash) goes into the links a rendering
    carries (a contact's sales_invoices_url); by default settings.PUBLIC_URL."""
    return entity_renderings(administration, [(subject_type, entity_id)], base_url=base_url).get(
        (subject_type, int(entity_id))
    )


def entity_renderings(
    administration: Administration,
    entities: Iterable[tuple[str, int]],
    *,
    base_url: str | None = None,
) -> dict[tuple[str, int], Rendering]:
    """entity_rendering for many (subject_type, entity_id) pairs at once: one query per kind, not
    per record. Pairs that render as None are absent from the result."""
    wanted: dict[str, set[int]] = {}
    for subject_type, entity_id in entities:
        wanted.setdefault(subject_type, set()).add(int(entity_id))
    if base_url is None:
        base_url = getattr(settings, "PUBLIC_URL", "http://localhost:8000")
    base = base_url.rstrip("/")
    rendered: dict[tuple[str, int], Rendering] = {}
    for subject_type, ids in wanted.items():
        renderer = _RENDERERS.get(subject_type)
        if renderer is None:
            continue
        for pk, body in renderer(administration, ids, base).items():
            rendered[(subject_type, pk)] = body
    return rendered


def _time_entries(administration: Administration, ids: set[int], base: str) -> dict:
    from timeentries.api.moneybird import render_time_entry_row
    from timeentries.selectors import RENDERED, time_entries_of, with_details

    entries = with_details(time_entries_of(administration).filter(pk__in=ids).order_by())
    rows = entries.values(*RENDERED, "events_json", "notes_json")
    return {row["id"]: render_time_entry_row(row) for row in rows}


def _contacts(administration: Administration, ids: set[int], base: str) -> dict:
    from administrations.api.moneybird.contacts import render_contact
    from administrations.selectors import contacts_of, with_details

    contacts = with_details(contacts_of(administration)).filter(pk__in=ids).order_by()
    return {contact.pk: render_contact(contact, base_url=base) for contact in contacts}


def _projects(administration: Administration, ids: set[int], base: str) -> dict:
    from administrations.api.moneybird.projects import render_project
    from administrations.selectors import projects_of

    projects = projects_of(administration).filter(pk__in=ids).order_by()
    return {project.pk: render_project(project) for project in projects}


def _users(administration: Administration, ids: set[int], base: str) -> dict:
    """A member as the administration's /users list renders them."""
    from administrations.api.moneybird.users import render_member
    from administrations.models import Membership

    memberships = Membership.objects.filter(
        administration=administration, user_id__in=ids
    ).select_related("user")
    return {m.user_id: render_member(m, administration) for m in memberships}


def _notes(administration: Administration, ids: set[int], base: str) -> dict:
    from notes.api.moneybird import note_as_row, render_note
    from notes.models import Note

    notes = Note.objects.for_administration(administration).filter(pk__in=ids).order_by()
    return {note.pk: render_note(note_as_row(note)) for note in notes}


def _administrations(administration: Administration, ids: set[int], base: str) -> dict:
    from administrations.api.moneybird.administrations import (
        render_administration,
        with_first_entry,
    )

    if administration.pk not in ids:
        return {}
    current = with_first_entry(Administration.objects.filter(pk=administration.pk)).first()
    return {} if current is None else {current.pk: render_administration(current)}


_RENDERERS = {
    "TimeEntry": _time_entries,
    "Contact": _contacts,
    "Project": _projects,
    "User": _users,
    "Note": _notes,
    "Administration": _administrations,
}
