"""Writes for tenants, members, contacts, projects and tokens. Every function runs in one
transaction and records its audit event in it."""

import re
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from administrations.models import Administration, ApiToken, Contact, Membership, Project, User
from administrations.selectors import contact_get
from common.auth import generate_token, hash_token
from common.exceptions import ValidationFailed
from notes.services import event_record, notes_delete_for

KNOWN_SCOPES = frozenset(
    {
        "time_entries",
        "settings",
        "sales_invoices",
        "documents",
        "estimates",
        "bank",
        "entries:read",
        "entries:write",
        "invoices:read",
        "invoices:write",
        "team:read",
    }
)
DEFAULT_SCOPES = ("time_entries", "settings", "sales_invoices")


def _blank(field: str) -> ValidationFailed:
    return ValidationFailed.single(field, "blank", "can't be blank")


# --- users and administrations ---------------------------------------------------------------


@transaction.atomic
def user_get_or_create(
    *, email: str, name: str = "", password: str | None = None
) -> tuple[User, bool]:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed.single("email", "invalid", "is not a valid email address") from None
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user, False
    user = User(email=email, name=name.strip())
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save(force_insert=True)
    return user, True


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
    allowed = {"name", "currency", "time_zone", "language", "country", "period_locked_until"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationFailed.single(unknown[0], "unknown", "is not a field you can change")
    changes = _administration_clean(changes)
    current = Administration.objects.select_for_update().get(pk=administration.pk)
    diff = {}
    for field, value in changes.items():
        old = getattr(current, field)
        if old != value:
            setattr(current, field, value)
            diff[field] = [_plain(old), _plain(value)]
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
    user, _ = user_get_or_create(email=email, name=name, password=password)
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


@transaction.atomic
def token_create(
    *,
    user: User,
    actor: User | None = None,
    scopes: list[str] | tuple[str, ...] = DEFAULT_SCOPES,
    name: str = "",
    administration: Administration | None = None,
) -> tuple[ApiToken, str]:
    """Returns the token and its secret; the secret is not stored and cannot be shown again."""
    unknown = sorted(set(scopes) - KNOWN_SCOPES)
    if unknown:
        raise ValidationFailed.single(
            "scopes", "inclusion", f"unknown scope(s): {', '.join(unknown)}"
        )
    if not scopes:
        raise _blank("scopes")
    if (
        administration is not None
        and not user.memberships.filter(administration=administration).exists()
    ):
        raise ValidationFailed.single(
            "administration", "invalid", "the user is not a member of this administration"
        )
    secret = generate_token()
    token = ApiToken.objects.create(
        user=user,
        administration=administration,
        name=name,
        key_hash=hash_token(secret),
        prefix=secret[:8],
        scopes=sorted(set(scopes)),
    )
    _token_event(token, "access_token_created", actor or user, {"name": name, "scopes": token.scopes})
    return token, secret


def _token_event(token: ApiToken, action: str, actor: User | None, data: dict[str, Any]) -> None:
    """One event in each administration the token reaches; a user of none still gets one."""
    memberships = token.user.memberships.select_related("administration")
    if token.administration_id is not None:
        memberships = memberships.filter(administration_id=token.administration_id)
    administrations = [m.administration for m in memberships] or [None]
    for administration in administrations:
        event_record(
            administration=administration,
            actor=actor,
            action=action,
            entity=token.user,
            link=token,
            data=data,
        )


@transaction.atomic
def token_revoke(*, token: ApiToken, actor: User | None) -> ApiToken:
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    _token_event(token, "access_token_revoked", actor, {"name": token.name})
    return token


# --- contacts -------------------------------------------------------------------------------

CONTACT_FIELDS = (
    "company_name",
    "firstname",
    "lastname",
    "email",
    "phone",
    "address1",
    "address2",
    "zipcode",
    "city",
    "country",
    "customer_id",
)


def _next_customer_id(administration: Administration) -> str:
    numbers = [
        int(c)
        for c in Contact.objects.filter(administration=administration).values_list(
            "customer_id", flat=True
        )
        if c.isdigit()
    ]
    return str(max(numbers, default=0) + 1)


def _contact_validate(contact: Contact) -> None:
    if not contact.customer_id:
        raise _blank("customer_id")
    if not (contact.company_name.strip() or contact.firstname.strip() or contact.lastname.strip()):
        raise ValidationFailed.single(
            "base", "company_name_or_name_required", "Company name or first/last name required"
        )
    clash = Contact.objects.filter(
        administration_id=contact.administration_id, customer_id=contact.customer_id
    ).exclude(pk=contact.pk)
    if clash.exists():
        raise ValidationFailed.single("customer_id", "taken", "has already been taken")


@transaction.atomic
def contact_create(*, administration: Administration, actor: User | None, **fields: Any) -> Contact:
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationFailed.single(sorted(unknown)[0], "unknown", "is not a contact field")
    values = {k: ("" if v is None else str(v).strip()) for k, v in fields.items()}
    contact = Contact(administration=administration, **values)
    if not contact.customer_id:
        contact.customer_id = _next_customer_id(administration)
    _contact_validate(contact)
    contact.save(force_insert=True)
    event_record(
        administration=administration, actor=actor, action="contact_created", entity=contact
    )
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, actor: User | None, changes: dict[str, Any]) -> Contact:
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    diff = {}
    for field, value in changes.items():
        if field not in (*CONTACT_FIELDS, "archived"):
            raise ValidationFailed.single(field, "unknown", "is not a contact field")
        value = (
            bool(value) if field == "archived" else ("" if value is None else str(value).strip())
        )
        old = getattr(current, field)
        if old != value:
            setattr(current, field, value)
            diff[field] = [old, value]
    if not diff:
        return current
    _contact_validate(current)
    current.save()
    action = "contact_changed"
    if diff.keys() == {"archived"}:
        action = "contact_archived" if current.archived else "contact_activated"
    event_record(
        administration=current.administration, actor=actor, action=action, entity=current, data=diff
    )
    return current


def contact_archive(*, contact: Contact, actor: User | None) -> Contact:
    return contact_update(contact=contact, actor=actor, changes={"archived": True})


@transaction.atomic
def contact_delete(*, contact: Contact, actor: User | None) -> None:
    if contact.time_entries.exists() or contact.projects.exists():
        raise ValidationFailed.single(
            "base", "contact_in_use", "Contact has time entries or projects; archive it instead"
        )
    event_record(
        administration=contact.administration,
        actor=actor,
        action="contact_destroyed",
        entity=contact,
        data={"customer_id": contact.customer_id, "name": contact.display_name},
    )
    notes_delete_for(administration=contact.administration, entity=contact)
    contact.delete()


# --- projects -------------------------------------------------------------------------------

PROJECT_FIELDS = ("name", "state", "budget", "contact_id", "hourly_rate", "currency")


def _project_apply(project: Project, changes: dict[str, Any]) -> dict[str, list[Any]]:
    diff: dict[str, list[Any]] = {}
    for field, value in changes.items():
        if field not in PROJECT_FIELDS:
            raise ValidationFailed.single(field, "unknown", "is not a project field")
        if field == "name":
            value = (value or "").strip()
            if not value:
                raise _blank("name")
        elif field == "state" and value not in Project.State.values:
            raise ValidationFailed.single("state", "inclusion", "must be active or archived")
        elif field == "budget" and value is not None:
            if not isinstance(value, int) or value < 0:
                raise ValidationFailed.single(
                    "budget", "invalid", "must be a whole number of hours"
                )
        elif field == "contact_id" and value is not None:
            value = contact_get(project.administration, value, field="contact_id").pk
        elif field == "currency":
            value = _administration_clean({"currency": value})["currency"]
        elif field == "hourly_rate" and value is not None:
            value = Decimal(str(value))
            if value < 0:
                raise ValidationFailed.single("hourly_rate", "invalid", "must not be negative")
        old = getattr(project, field)
        if old != value:
            setattr(project, field, value)
            diff[field] = [_plain(old), _plain(value)]
    if "name" in diff:
        clash = Project.objects.filter(
            administration_id=project.administration_id, name__iexact=project.name
        ).exclude(pk=project.pk)
        if clash.exists():
            raise ValidationFailed.single("name", "taken", "has already been taken")
    return diff


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int) and value > 2**53:
        return str(value)  # ids: strings, as the API renders them
    return value


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
def project_update(*, project: Project, actor: User | None, changes: dict[str, Any]) -> Project:
    current = Project.objects.select_for_update().get(pk=project.pk)
    diff = _project_apply(current, changes)
    if not diff:
        return current
    current.save()
    action = "project_updated"
    if diff.keys() == {"state"}:
        action = "project_archived" if current.state == "archived" else "project_activated"
    event_record(
        administration=current.administration, actor=actor, action=action, entity=current, data=diff
    )
    return current


@transaction.atomic
def project_delete(*, project: Project, actor: User | None) -> Project | None:
    """Deletes the project, or archives it when time entries still refer to it (Moneybird's
    rule). Returns the archived project, or None when it was deleted."""
    if project.time_entries.exists():
        return project_update(project=project, actor=actor, changes={"state": "archived"})
    event_record(
        administration=project.administration,
        actor=actor,
        action="project_destroyed",
        entity=project,
        data={"name": project.name},
    )
    project.delete()
    return None


# --- user accounts (the admin's edits) ------------------------------------------------------

USER_FIELDS = ("name", "is_staff", "is_superuser", "is_active", "password")


@transaction.atomic
def user_update(*, user: User, actor: User | None, changes: dict[str, Any]) -> User:
    """Change a person's name, flags or password. A user belongs to no one administration, so
    the event has none; a password is recorded as changed, never with its value."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from common.exceptions import FieldError

    current = User.objects.select_for_update().get(pk=user.pk)
    diff: dict[str, list[Any]] = {}
    for field, value in changes.items():
        if field not in USER_FIELDS:
            raise ValidationFailed.single(field, "unknown", "is not a field you can change")
        if field == "password":
            if not value:
                raise _blank("password")
            try:
                validate_password(value, current)
            except ValidationError as exc:
                raise ValidationFailed(
                    {"password": [FieldError("invalid", m) for m in exc.messages]}
                ) from None
            current.set_password(value)
            diff["password"] = ["[FILTERED]", "[FILTERED]"]
            continue
        value = (value or "").strip() if field == "name" else bool(value)
        old = getattr(current, field)
        if old != value:
            setattr(current, field, value)
            diff[field] = [old, value]
    if diff:
        current.save()
        event_record(
            administration=None, actor=actor, action="user_updated", entity=current, data=diff
        )
    return current
