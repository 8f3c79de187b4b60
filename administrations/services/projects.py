"""Writes for projects."""

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from administrations.models import Administration, Project, User
from administrations.selectors import contact_get
from administrations.services.base import _blank
from administrations.services.tenants import _administration_clean
from common.conditional import Precondition
from common.diff import apply_diff
from common.exceptions import NotFound, ValidationFailed
from common.limits import max_length
from notes.services import event_record

# --- projects -------------------------------------------------------------------------------

PROJECT_FIELDS = ("name", "state", "budget", "contact_id", "hourly_rate", "currency")
PROJECT_NAME_MAX = max_length(Project, "name")
PROJECT_BUDGET_MAX = 2_147_483_647  # a PositiveIntegerField's ceiling on every database


def _project_apply(project: Project, changes: dict[str, Any]) -> dict[str, list[Any]]:
    values: dict[str, Any] = {}
    for field, value in changes.items():
        if field not in PROJECT_FIELDS:
            raise ValidationFailed.single(field, "unknown", "is not a project field")
        if field == "name":
            value = ("" if value is None else str(value)).strip()
            if not value:
                raise _blank("name")
            if len(value) > PROJECT_NAME_MAX:
                # PostgreSQL would refuse the row (a 500); SQLite would silently keep it.
                raise ValidationFailed.single(
                    "name", "too_long", f"is too long (maximum is {PROJECT_NAME_MAX} characters)"
                )
        elif field == "state" and value not in Project.State.values:
            raise ValidationFailed.single("state", "inclusion", "must be active or archived")
        elif field == "budget" and value is not None:
            # bool is an int to Python, not a number of hours.
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValidationFailed.single(
                    "budget", "invalid", "must be a whole number of hours"
                )
            if value > PROJECT_BUDGET_MAX:
                raise ValidationFailed.single(
                    "budget",
                    "less_than_or_equal_to",
                    f"must be less than or equal to {PROJECT_BUDGET_MAX}",
                )
        elif field == "contact_id" and value is not None:
            value = contact_get(project.administration, value, field="contact_id").pk
        elif field == "currency":
            value = _administration_clean({"currency": value})["currency"]
        elif field == "hourly_rate" and value is not None:
            value = Decimal(str(value))
            if value < 0:
                raise ValidationFailed.single("hourly_rate", "invalid", "must not be negative")
        values[field] = value
    diff = apply_diff(project, values)
    if "name" in diff:
        clash = Project.objects.filter(
            administration_id=project.administration_id, name__iexact=project.name
        ).exclude(pk=project.pk)
        if clash.exists():
            raise ValidationFailed.single("name", "taken", "has already been taken")
    return diff


@transaction.atomic
def project_create(
    *, administration: Administration, actor: User | None, name: str, **fields: Any
) -> Project:
    project = Project(administration=administration, currency=administration.currency)
    _project_apply(project, {"name": name, **fields})
    try:
        with transaction.atomic():
            project.save(force_insert=True)
    except IntegrityError:
        raise ValidationFailed.single("name", "taken", "has already been taken") from None
    event_record(
        administration=administration, actor=actor, action="project_created", entity=project
    )
    return project


@transaction.atomic
def project_update(
    *,
    project: Project,
    actor: User | None,
    changes: dict[str, Any],
    precondition: Precondition | None = None,
) -> Project:
    current = _project_lock(project)
    if precondition is not None:
        precondition(current)
    diff = _project_apply(current, changes)
    if not diff:
        return current
    try:
        with transaction.atomic():
            current.save()
    except IntegrityError:
        # Another request took the name between our check and this write.
        raise ValidationFailed.single("name", "taken", "has already been taken") from None
    action = "project_updated"
    if diff.keys() == {"state"}:
        action = "project_archived" if current.state == "archived" else "project_activated"
    event_record(
        administration=current.administration, actor=actor, action=action, entity=current, data=diff
    )
    return current


@transaction.atomic
def project_delete(
    *, project: Project, actor: User | None, precondition: Precondition | None = None
) -> Project | None:
    """Deletes the project, or archives it when time entries still refer to it (Moneybird's
    rule). Returns the archived project, or None when it was deleted."""
    # The row lock orders this against a time entry being linked to the project meanwhile: that
    # insert either commits first (and is seen below) or waits on the lock and then fails its
    # foreign key, so a delete never trips over an entry (TimeEntry.project is PROTECT).
    current = _project_lock(project)
    if precondition is not None:
        precondition(current)
    if current.time_entries.exists():
        return project_update(project=current, actor=actor, changes={"state": "archived"})
    event_record(
        administration=current.administration,
        actor=actor,
        action="project_destroyed",
        entity=current,
        data={"name": current.name},
    )
    current.delete()
    return None


def _project_lock(project: Project) -> Project:
    """The project's row, locked for this transaction; NotFound when it is gone meanwhile."""
    current = Project.objects.select_for_update().filter(pk=project.pk).first()
    if current is None:
        raise NotFound("id")
    return current
