"""Writes for tenants (administrations) and their members."""

import re
from typing import Any
from zoneinfo import available_timezones

from django.db import transaction
from django.utils import timezone

from administrations.models import Administration, Membership, User
from administrations.services.base import _blank
from administrations.services.users import user_get_or_create
from common.diff import apply_diff
from common.exceptions import ValidationFailed
from notes.services import event_record

_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_LANGUAGE = re.compile(r"[a-z]{2}(-[a-z]{2})?")


def _administration_clean(values: dict[str, Any]) -> dict[str, Any]:
    """Normalise and check administration attributes; the one rule set for create and update."""
    cleaned = dict(values)
    if "name" in cleaned:
        cleaned["name"] = (cleaned["name"] or "").strip()
        if not cleaned["name"]:
            raise _blank("name")
        if len(cleaned["name"]) > 255:
            raise ValidationFailed.single("name", "too_long", "is too long (at most 255)")
    if "time_zone" in cleaned and cleaned["time_zone"] not in available_timezones():
        raise ValidationFailed.single("time_zone", "invalid", "is not a known time zone")
    for field, pattern, upper, message in (
        ("currency", _CURRENCY, True, "must be an ISO 4217 code"),
        ("country", _COUNTRY, True, "must be a two-letter ISO 3166 code"),
        ("language", _LANGUAGE, False, "must be a language code such as nl, en or nl-be"),
    ):
        if field in cleaned:
            value = str(cleaned[field] or "").strip()
            value = value.upper() if upper else value.lower()
            if not pattern.fullmatch(value):
                raise ValidationFailed.single(field, "invalid", message)
            cleaned[field] = value
    return cleaned


@transaction.atomic
def administration_create(
    *,
    name: str,
    actor: User | None = None,
    currency: str = "EUR",
    time_zone: str = "Europe/Amsterdam",
    language: str = "nl",
    country: str = "NL",
    prevent_overlapping_entries: bool = False,
) -> Administration:
    values = _administration_clean(
        {
            "name": name,
            "currency": currency,
            "time_zone": time_zone,
            "language": language,
            "country": country,
        }
    )
    values["prevent_overlapping_entries"] = bool(prevent_overlapping_entries)
    administration = Administration.objects.create(**values)
    event_record(
        administration=administration,
        actor=actor,
        action="administration_added",
        entity=administration,
        data={"name": administration.name},
    )
    return administration


@transaction.atomic
def administration_update(
    *, administration: Administration, actor: User | None, changes: dict[str, Any]
) -> Administration:
    allowed = {
        "name",
        "currency",
        "time_zone",
        "language",
        "country",
        "period_locked_until",
        "prevent_overlapping_entries",
    }
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationFailed.single(unknown[0], "unknown", "is not a field you can change")
    changes = _administration_clean(changes)
    current = Administration.objects.select_for_update().get(pk=administration.pk)
    if changes.get("prevent_overlapping_entries") and not current.prevent_overlapping_entries:
        _refuse_existing_overlaps(current)
    diff = apply_diff(current, changes)
    if diff:
        current.save()
        event_record(
            administration=current,
            actor=actor,
            action="administration_changed",
            entity=current,
            data=diff,
        )
    return current


@transaction.atomic
def administration_suspension_set(
    *, administration: Administration, actor: User | None, suspended: bool
) -> Administration:
    """Suspend an administration (its data stays readable; every write is refused, 402 in the
    APIs) or reactivate it. Recorded as Moneybird names it: administration_suspended,
    administration_reactivated. Setting what already holds changes and records nothing."""
    current = Administration.objects.select_for_update().get(pk=administration.pk)
    if current.suspended == suspended:
        return current
    current.suspended = suspended
    current.save(update_fields=["suspended"])
    event_record(
        administration=current,
        actor=actor,
        action="administration_suspended" if suspended else "administration_reactivated",
        entity=current,
        data={"suspended": [not suspended, suspended]},
    )
    return current


def _refuse_existing_overlaps(administration: Administration) -> None:
    """Overlaps cannot be refused from now on while some exist: they would stay, and every
    change of those entries would be refused. FOR UPDATE on the administration (taken by the
    caller) waits for the entry writes under way, which hold a lock on it until they commit."""
    from timeentries.selectors import overlapping_entries_count

    count = overlapping_entries_count(administration, now=timezone.now())
    if count:
        raise ValidationFailed.single(
            "prevent_overlapping_entries",
            "overlaps_exist",
            f"{count} time entries overlap another entry of the same person; "
            "change or delete them first",
        )


@transaction.atomic
def member_add(
    *,
    administration: Administration,
    actor: User | None,
    email: str,
    name: str = "",
    role: str = Membership.Role.MEMBER,
    password: str | None = None,
) -> Membership:
    if role not in Membership.Role.values:
        raise ValidationFailed.single("role", "inclusion", "must be owner, admin or member")
    user, _ = user_get_or_create(email=email, name=name, password=password, actor=actor)
    membership, created = Membership.objects.get_or_create(
        administration=administration, user=user, defaults={"role": role}
    )
    if not created and membership.role != role:
        _keep_an_owner(membership)
        old_role = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        event_record(
            administration=administration,
            actor=actor,
            action="user_role_changed",
            entity=user,
            data={"role": [old_role, role]},
        )
    elif created:
        event_record(
            administration=administration,
            actor=actor,
            action="user_invited",
            entity=user,
            data={"email": user.email, "role": role},
        )
    return membership


def _keep_an_owner(membership: Membership) -> None:
    if membership.role != Membership.Role.OWNER:
        return
    owners = Membership.objects.select_for_update().filter(
        administration_id=membership.administration_id, role=Membership.Role.OWNER
    )
    if owners.count() <= 1:
        raise ValidationFailed.single(
            "role", "last_owner", "an administration must keep at least one owner"
        )


@transaction.atomic
def member_remove(*, membership: Membership, actor: User | None) -> None:
    _keep_an_owner(membership)
    event_record(
        administration=membership.administration,
        actor=actor,
        action="user_removed",
        entity=membership.user,
        data={"email": membership.user.email, "role": membership.role},
    )
    membership.delete()
