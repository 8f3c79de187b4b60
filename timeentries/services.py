"""Writes for time entries: the only code that creates, changes or deletes them. Each function
validates, rounds, saves and records its event inside one transaction."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from administrations.models import Administration, User
from administrations.selectors import contact_get, member_get, project_get
from common.exceptions import FieldError, ValidationFailed
from common.timefmt import ONE_MINUTE, floor_minute, iso_local
from invoices.selectors import sales_invoice_get
from notes.services import event_record, notes_delete_for
from timeentries.models import TimeEntry

# Fields a client may set, in the order Moneybird lists them.
EDITABLE_FIELDS = (
    "user_id",
    "started_at",
    "ended_at",
    "description",
    "contact_id",
    "project_id",
    "sales_invoice_id",
    "billable",
    "paused_duration",
)


# Foreign keys, which events name by their `_id` column, as the API does.
RELATED_FIELDS = ("user", "contact", "project", "sales_invoice")


def _round(values: dict[str, Any]) -> None:
    """Moneybird rounds times and pauses down to whole minutes."""
    for field in ("started_at", "ended_at"):
        if values.get(field) is not None:
            values[field] = floor_minute(values[field])
    if values.get("paused_duration") is not None:
        values["paused_duration"] = (int(values["paused_duration"]) // 60) * 60


def _validate(administration: Administration, values: dict[str, Any]) -> None:
    """Rules on the complete, rounded entry. Collects every broken rule, as Moneybird does."""
    errors: dict[str, list[FieldError]] = {}

    def add(field: str, code: str, message: str) -> None:
        errors.setdefault(field, []).append(FieldError(code, message))

    started, ended = values.get("started_at"), values.get("ended_at")
    if started is None:
        add("started_at", "blank", "can't be blank")
    if started is not None and ended is not None:
        if ended < started:
            add("ended_at", "ended_at_before_started_at", "cannot be before the start time")
        elif ended - started < ONE_MINUTE:
            add("ended_at", "too_short", "must be at least one minute after the start time")
    if not (values.get("description") or "").strip():
        add("description", "blank", "can't be blank")
    pause = values.get("paused_duration") or 0
    if pause < 0:
        add("paused_duration", "greater_than_or_equal_to", "must be greater than or equal to 0")
    elif started and ended and ended > started and pause >= (ended - started).total_seconds():
        add("paused_duration", "less_than", "must be less than the duration of the entry")
    if errors:
        raise ValidationFailed(errors)
    _check_period_lock(administration, started)


def _check_period_lock(administration: Administration, started_at: datetime | None) -> None:
    locked = administration.period_locked_until
    if locked and started_at and started_at.astimezone(administration.tz).date() <= locked:
        raise ValidationFailed.single(
            "base", "period_locked", f"The period until {locked.isoformat()} is locked"
        )


def _resolve_related(
    administration: Administration, values: Mapping[str, Any], actor: User | None
) -> dict[str, Any]:
    """Look related ids up inside this administration only; a foreign id is not found."""
    resolved: dict[str, Any] = {}
    if "user_id" in values:
        user_id = values["user_id"]
        if user_id is None:
            if actor is None:
                raise ValidationFailed.single("user_id", "blank", "can't be blank")
            user_id = actor.pk
        resolved["user"] = member_get(administration, user_id, field="user_id")
    if "contact_id" in values:
        cid = values["contact_id"]
        resolved["contact"] = (
            None if cid is None else contact_get(administration, cid, field="contact_id")
        )
    if "project_id" in values:
        pid = values["project_id"]
        resolved["project"] = (
            None if pid is None else project_get(administration, pid, field="project_id")
        )
    if "sales_invoice_id" in values:
        sid = values["sales_invoice_id"]
        resolved["sales_invoice"] = None
        if sid is not None:
            resolved["sales_invoice"] = sales_invoice_get(
                administration, sid, field="sales_invoice_id"
            )
    return resolved


def _stop_running_timer(
    *, administration: Administration, user: User, actor: User | None, exclude: int | None
) -> None:
    running = (
        TimeEntry.objects.select_for_update()
        .filter(administration=administration, user=user, ended_at__isnull=True)
        .exclude(pk=exclude)
        .first()
    )
    if running is not None:
        _stop(running, actor=actor)


def _stop(entry: TimeEntry, *, actor: User | None) -> TimeEntry:
    # A stopped timer counts at least the one minute every entry has.
    ended = max(floor_minute(timezone.now()), entry.started_at + ONE_MINUTE)
    return _apply_changes(entry, {"ended_at": ended}, actor=actor)


def _render(value: Any, administration: Administration) -> Any:
    if isinstance(value, datetime):
        return iso_local(value, administration.tz)
    if hasattr(value, "pk"):
        return str(value.pk)
    return value


def _record_invoiced(entry: TimeEntry, *, actor: User | None) -> None:
    """Moneybird's "time entry invoiced": the entry now sits on `entry.sales_invoice`."""
    event_record(
        administration=entry.administration,
        actor=actor,
        action="time_entry_sales_invoice_created",
        entity=entry,
        link=entry.sales_invoice,
    )


def _apply_changes(entry: TimeEntry, changes: dict[str, Any], *, actor: User | None) -> TimeEntry:
    """Set changed attributes, save, and record time_entry_updated with [old, new] per field;
    linking the entry to a (different) invoice also records time_entry_sales_invoice_created."""
    administration = entry.administration
    diff: dict[str, list[Any]] = {}
    for field, new in changes.items():
        old = getattr(entry, field)
        if old != new:
            diff[f"{field}_id" if field in RELATED_FIELDS else field] = [
                _render(old, administration),
                _render(new, administration),
            ]
            setattr(entry, field, new)
    if not diff:
        return entry
    old_updated_at = entry.updated_at
    entry.save()
    diff["updated_at"] = [
        _render(old_updated_at, administration),
        _render(entry.updated_at, administration),
    ]
    event_record(
        administration=administration,
        actor=actor,
        action="time_entry_updated",
        entity=entry,
        data=diff,
    )
    if "sales_invoice_id" in diff and entry.sales_invoice is not None:
        _record_invoiced(entry, actor=actor)
    return entry


@transaction.atomic
def time_entry_create(
    *,
    administration: Administration,
    actor: User | None,
    started_at: datetime | None = None,
    description: str | None = None,
    user_id: int | str | None = None,
    ended_at: datetime | None = None,
    contact_id: int | str | None = None,
    project_id: int | str | None = None,
    sales_invoice_id: int | str | None = None,
    billable: bool = True,
    paused_duration: int = 0,
    event_data: dict[str, Any] | None = None,
) -> TimeEntry:
    """Create an entry; without ended_at it is a running timer, and the person's other running
    timer in this administration is stopped first. user_id defaults to the actor."""
    values: dict[str, Any] = {
        "started_at": started_at,
        "ended_at": ended_at,
        "description": (description or "").strip(),
        "paused_duration": paused_duration or 0,
    }
    _round(values)
    _validate(administration, values)
    related = _resolve_related(
        administration,
        {
            "user_id": user_id,
            "contact_id": contact_id,
            "project_id": project_id,
            "sales_invoice_id": sales_invoice_id,
        },
        actor,
    )
    if values["ended_at"] is None:
        _stop_running_timer(
            administration=administration, user=related["user"], actor=actor, exclude=None
        )
    entry = TimeEntry(administration=administration, billable=bool(billable), **values, **related)
    entry.save(force_insert=True)
    event_record(
        administration=administration,
        actor=actor,
        action="time_entry_created",
        entity=entry,
        data=event_data or {},
    )
    if entry.sales_invoice is not None:
        _record_invoiced(entry, actor=actor)
    return entry


@transaction.atomic
def time_entry_update(
    *, entry: TimeEntry, actor: User | None, changes: Mapping[str, Any]
) -> TimeEntry:
    """Partial update: only the fields in `changes` (see EDITABLE_FIELDS) are touched."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed.single(sorted(unknown)[0], "unknown", "is not a time entry field")
    current = (
        TimeEntry.objects.select_for_update()
        .select_related("administration")
        .get(pk=entry.pk, administration_id=entry.administration_id)
    )
    administration = current.administration
    # The entry as it stands may sit in a locked period: then it cannot change at all.
    _check_period_lock(administration, current.started_at)
    values = {
        field: changes.get(field, getattr(current, field))
        for field in ("started_at", "ended_at", "description", "paused_duration")
    }
    if "description" in changes:
        values["description"] = (changes["description"] or "").strip()
    if "paused_duration" in changes and changes["paused_duration"] is None:
        values["paused_duration"] = 0
    _round(values)
    _validate(administration, values)
    related = _resolve_related(administration, changes, actor)
    if "billable" in changes and changes["billable"] is not None:
        values["billable"] = bool(changes["billable"])
    user = related.get("user", current.user)
    if values["ended_at"] is None and (current.ended_at is not None or user.pk != current.user_id):
        _stop_running_timer(
            administration=administration, user=user, actor=actor, exclude=current.pk
        )
    return _apply_changes(current, {**values, **related}, actor=actor)


@transaction.atomic
def time_entry_stop(*, entry: TimeEntry, actor: User | None) -> TimeEntry:
    """Stop a running timer now; a stopped entry is returned unchanged."""
    current = (
        TimeEntry.objects.select_for_update().select_related("administration").get(pk=entry.pk)
    )
    if current.ended_at is not None:
        return current
    return _stop(current, actor=actor)


@transaction.atomic
def time_entry_resume(*, entry: TimeEntry, actor: User | None) -> TimeEntry:
    """Run a stopped timer again. Only a timer that started today (in the administration's time
    zone) can resume; the person's other running timer is stopped first."""
    current = (
        TimeEntry.objects.select_for_update().select_related("administration").get(pk=entry.pk)
    )
    administration = current.administration
    today = timezone.now().astimezone(administration.tz).date()
    if current.ended_at is None:
        return current
    if current.started_at.astimezone(administration.tz).date() != today:
        raise ValidationFailed.single("base", "cannot_resume_timer", "Cannot resume timer")
    _check_period_lock(administration, current.started_at)
    _stop_running_timer(
        administration=administration, user=current.user, actor=actor, exclude=current.pk
    )
    return _apply_changes(current, {"ended_at": None}, actor=actor)


@transaction.atomic
def time_entry_delete(*, entry: TimeEntry, actor: User | None) -> None:
    administration = entry.administration
    _check_period_lock(administration, entry.started_at)
    event_record(
        administration=administration,
        actor=actor,
        action="time_entry_destroyed",
        entity=entry,
        # The entry is gone after this; the event keeps what it was.
        data={
            "description": entry.description,
            "user_id": str(entry.user_id),
            "started_at": iso_local(entry.started_at, administration.tz),
            "ended_at": iso_local(entry.ended_at, administration.tz),
            "contact_id": str(entry.contact_id) if entry.contact_id else None,
            "project_id": str(entry.project_id) if entry.project_id else None,
            "sales_invoice_id": str(entry.sales_invoice_id) if entry.sales_invoice_id else None,
            "billable": entry.billable,
            "paused_duration": entry.paused_duration,
        },
    )
    notes_delete_for(administration=administration, entity=entry)
    entry.delete()
