"""Writes for tenants, members, contacts, projects and tokens. Every function runs in one
transaction and records its audit event in it."""

import re
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import PROTECT, RESTRICT
from django.utils import timezone

from administrations.models import (
    Administration,
    ApiToken,
    Contact,
    ContactPerson,
    Membership,
    Project,
    User,
)
from administrations.selectors import contact_get
from common.auth import DEFAULT_SCOPES, KNOWN_SCOPES, generate_token, hash_token
from common.conditional import Precondition
from common.diff import apply_diff
from common.exceptions import BadRequest, FieldError, NotFound, ValidationFailed
from common.limits import max_length
from notes.services import event_record, notes_delete_for


def _blank(field: str) -> ValidationFailed:
    return ValidationFailed.single(field, "blank", "can't be blank")


# --- users and administrations ---------------------------------------------------------------


@transaction.atomic
@transaction.atomic
def user_get_or_create(
    *, email: str, name: str = "", password: str | None = None, actor: User | None = None
) -> tuple[User, bool]:
    """The user with this email, or a new one (recorded as `user_created`, in no
    administration: a person exists apart from any membership). An existing user is left as
    it is."""
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
    event_record(
        administration=None,
        actor=actor,
        action="user_created",
        entity=user,
        # The password, if any, is never recorded, not even hashed.
        data={"email": user.email, "name": user.name},
    )
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
    _token_event(
        token, "access_token_created", actor or user, {"name": name, "scopes": token.scopes}
    )
    return token, secret


def _token_event(token: ApiToken, action: str, actor: User | None, data: dict[str, Any]) -> None:
    """One event in each administration the token reaches; a user of none still gets one."""
    memberships = token.user.memberships.select_related("administration")
    if token.administration_id is not None:
        memberships = memberships.filter(administration_id=token.administration_id)
    administrations: list[Administration | None] = [m.administration for m in memberships]
    administrations = administrations or [None]
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

# Text attributes: "" when empty; surrounding whitespace is dropped.
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
    "attention",
    "tax_number",
    "chamber_of_commerce",
    "bank_account",
    "send_invoices_to_attention",
    "send_invoices_to_email",
    "send_estimates_to_attention",
    "send_estimates_to_email",
    "sepa_iban",
    "sepa_iban_account_name",
    "sepa_bic",
    "sepa_mandate_id",
    "si_identifier",
    "si_identifier_type",
)
# The other attributes: choices (None or "" means the default), flags and a date.
CONTACT_OPTION_FIELDS = (
    "delivery_method",
    "email_ubl",
    "direct_debit",
    "sepa_active",
    "sepa_mandate_date",
    "sepa_sequence_type",
)
_CONTACT_FLAGS = ("email_ubl", "direct_debit", "sepa_active")
_CONTACT_CHOICES = {
    "delivery_method": Contact.DeliveryMethod,
    "sepa_sequence_type": Contact.SepaSequenceType,
}
# With sepa_active, a mandate needs these (a BIC is optional for SEPA since 2016).
_SEPA_REQUIRED = ("sepa_iban", "sepa_iban_account_name", "sepa_mandate_id", "sepa_mandate_date")
# The code of "a contact needs a company name or a person's name"; the record as a whole breaks
# it, so it is reported on "base".
CONTACT_NAME_REQUIRED = "company_name_or_name_required"

_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_BIC = re.compile(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?")


def _next_customer_id(administration: Administration) -> str:
    numbers = [
        int(c)
        for c in Contact.objects.for_administration(administration).values_list(
            "customer_id", flat=True
        )
        if c.isascii() and c.isdigit()
    ]
    return str(max(numbers, default=0) + 1)


def _contact_values(administration: Administration, fields: dict[str, Any]) -> dict[str, Any]:
    """Normalise attributes as a client gives them; unknown names and wrong types are a 422."""
    values: dict[str, Any] = {}
    for field, value in fields.items():
        if field in CONTACT_FIELDS:
            value = "" if value is None else str(value).strip()
            if field in ("sepa_iban", "sepa_bic"):
                value = value.replace(" ", "").upper()
            elif field == "country":
                value = value.upper() or administration.country
        elif field in _CONTACT_FLAGS:
            if not isinstance(value, bool):
                raise ValidationFailed.single(field, "invalid", "must be true or false")
        elif field in _CONTACT_CHOICES:
            value = value or _CONTACT_CHOICES[field].values[0]
        elif field == "sepa_mandate_date":
            if value is not None and not isinstance(value, date):
                raise ValidationFailed.single(field, "invalid", "is not a valid date")
        else:
            raise ValidationFailed.single(field, "unknown", "is not a contact field")
        values[field] = value
    return values


def _emails_valid(value: str) -> bool:
    addresses = [a.strip() for a in value.split(",")]
    try:
        for address in addresses:
            validate_email(address)
    except DjangoValidationError:
        return False
    return True


def _iban_valid(value: str) -> bool:
    if not _IBAN.fullmatch(value):
        return False
    digits = "".join(str(int(c, 36)) for c in value[4:] + value[:4])
    return int(digits) % 97 == 1


def _contact_errors(contact: Contact) -> dict[str, list[FieldError]]:
    """Every rule the record as a whole breaks, reported together as Moneybird does."""
    errors: dict[str, list[FieldError]] = {}

    def add(field: str, code: str, message: str) -> None:
        errors.setdefault(field, []).append(FieldError(code, message))

    for field in CONTACT_FIELDS:
        if field == "country":  # its format says more than its length
            continue
        limit = max_length(Contact, field)
        if len(getattr(contact, field)) > limit:
            add(field, "too_long", f"is too long (maximum is {limit} characters)")
    if not (contact.company_name or contact.firstname or contact.lastname):
        add("base", CONTACT_NAME_REQUIRED, "Company name or first/last name required")
    if contact.country and not _COUNTRY.fullmatch(contact.country):
        add("country", "invalid", "must be a two-letter ISO 3166 code")
    if contact.email and not _emails_valid(contact.email):
        add("email", "invalid", "is invalid")
    for field in ("send_invoices_to_email", "send_estimates_to_email"):
        if getattr(contact, field) and not _emails_valid(getattr(contact, field)):
            add(field, "invalid", "should be one or more valid email addresses")
    for field, choices in _CONTACT_CHOICES.items():
        if getattr(contact, field) not in choices.values:
            add(field, "inclusion", "is not included in the list")
    if contact.sepa_iban and not _iban_valid(contact.sepa_iban):
        add("sepa_iban", "invalid", "is not a valid IBAN")
    if contact.sepa_bic and not _BIC.fullmatch(contact.sepa_bic):
        add("sepa_bic", "invalid", "is not a valid BIC")
    today = timezone.now().astimezone(contact.administration.tz).date()
    if contact.sepa_mandate_date is not None and contact.sepa_mandate_date > today:
        add("sepa_mandate_date", "not_in_future", "cannot be in the future")
    if contact.sepa_active:
        for field in _SEPA_REQUIRED:
            if getattr(contact, field) in ("", None):
                add(field, "blank", "can't be blank")
    others = Contact.objects.for_administration(contact.administration_id).exclude(pk=contact.pk)
    if others.filter(customer_id=contact.customer_id).exists():
        add("customer_id", "taken", "has already been taken")
    if contact.sepa_mandate_id and others.filter(sepa_mandate_id=contact.sepa_mandate_id).exists():
        add("sepa_mandate_id", "taken", "has already been taken")
    return errors


def _contact_save(contact: Contact, **kwargs: Any) -> None:
    """Validate and save; a customer id taken by a concurrent request is a 422, not a 500."""
    if not contact.customer_id:
        # Serialise numbering within the administration.
        Administration.objects.select_for_update().filter(pk=contact.administration_id).first()
        contact.customer_id = _next_customer_id(contact.administration)
    errors = _contact_errors(contact)
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction.atomic():
            contact.save(**kwargs)
    except IntegrityError:
        raise ValidationFailed.single("customer_id", "taken", "has already been taken") from None


@transaction.atomic
def contact_create(*, administration: Administration, actor: User | None, **fields: Any) -> Contact:
    """Create a contact from any of CONTACT_FIELDS and CONTACT_OPTION_FIELDS. An empty
    customer_id gets the next free number, an empty country the administration's. `email` and
    `send_invoices_to_email` are the same address unless both are given."""
    values = _contact_values(administration, fields)
    values.setdefault("country", administration.country)
    email, invoices_to = values.get("email"), values.get("send_invoices_to_email")
    if email and not invoices_to and _emails_valid(email):
        values["send_invoices_to_email"] = email
    elif invoices_to and not email and _emails_valid(invoices_to):
        values["email"] = invoices_to.split(",")[0].strip()
    contact = Contact(administration=administration, **values)
    _contact_save(contact, force_insert=True)
    event_record(
        administration=administration, actor=actor, action="contact_created", entity=contact
    )
    return contact


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    actor: User | None,
    changes: dict[str, Any],
    precondition: Precondition | None = None,
) -> Contact:
    """Change the given attributes only; `archived` too. An empty customer_id gets the next free
    number. Records contact_changed with [old, new] per changed attribute (contact_archived or
    contact_activated when only `archived` changed); no change records nothing. A
    `precondition` (common.conditional.if_match) is checked on the locked row first."""
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    if precondition is not None:
        precondition(current)
    fields = {k: v for k, v in changes.items() if k != "archived"}
    values = _contact_values(current.administration, fields)
    if "archived" in changes:
        values["archived"] = bool(changes["archived"])
    diff = apply_diff(current, values)
    if not diff:
        return current
    _contact_save(current)
    if "customer_id" in diff:
        diff["customer_id"][1] = current.customer_id
    action = "contact_changed"
    if diff.keys() == {"archived"}:
        action = "contact_archived" if current.archived else "contact_activated"
    event_record(
        administration=current.administration, actor=actor, action=action, entity=current, data=diff
    )
    return current


@transaction.atomic
def contact_archive(*, contact: Contact, actor: User | None) -> Contact:
    """Archive an active contact; an archived one cannot be archived again (a 400, as Moneybird
    answers)."""
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    if current.archived:
        raise BadRequest("Contact can not be archived", field="id", code="can_not_be_archived")
    return contact_update(contact=current, actor=actor, changes={"archived": True})


@transaction.atomic
def contact_delete(
    *, contact: Contact, actor: User | None, precondition: Precondition | None = None
) -> None:
    """Delete a contact and its notes. One that other records keep (time entries, projects,
    invoices: whatever refers to it with PROTECT) stays, and the 422 names them; archive it
    instead, as deleting it would rewrite their history."""
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    if precondition is not None:
        precondition(current)
    kept_by = _contact_kept_by(current)
    if kept_by:
        raise _contact_in_use(f"Contact has {' and '.join(kept_by)}; archive it instead")
    event_record(
        administration=current.administration,
        actor=actor,
        action="contact_destroyed",
        entity=current,
        data={"customer_id": current.customer_id, "name": current.display_name},
    )
    notes_delete_for(administration=current.administration, entity=current)
    try:
        with transaction.atomic():
            current.delete()
    except IntegrityError:  # a reference made meanwhile (ProtectedError is an IntegrityError)
        raise _contact_in_use("Contact is in use; archive it instead") from None


def _contact_in_use(message: str) -> ValidationFailed:
    return ValidationFailed.single("base", "contact_in_use", message)


def _contact_kept_by(contact: Contact) -> list[str]:
    """The kinds of records that refer to `contact` and keep it from being deleted."""
    kinds = []
    for relation in Contact._meta.related_objects:
        if relation.on_delete not in (PROTECT, RESTRICT):
            continue
        referring = relation.related_model._default_manager.filter(**{relation.field.name: contact})
        if referring.exists():
            kinds.append(str(relation.related_model._meta.verbose_name_plural))
    return sorted(kinds)


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
    values: dict[str, Any] = {}
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
        values[field] = (value or "").strip() if field == "name" else bool(value)
    diff.update(apply_diff(current, values))
    if diff:
        current.save()
        event_record(
            administration=None, actor=actor, action="user_updated", entity=current, data=diff
        )
    return current


# --- OAuth applications (the operators' registrations) --------------------------------------

if TYPE_CHECKING:
    from oauth2_provider.models import AbstractApplication


@transaction.atomic
def oauth_application_create(
    *,
    name: str,
    redirect_uris: list[str] | tuple[str, ...],
    confidential: bool = False,
    actor: User | None = None,
) -> tuple["AbstractApplication", str | None]:
    """Register an OAuth2 client for the authorization-code flow (PKCE is required of public
    clients). Returns the application and, for a confidential client, its secret: only a hash is
    stored, so this is the one time it can be shown. An application belongs to no administration
    (its users' consent decides what it reaches): its `oauth_application_created` event is in
    none, like a user's."""
    from oauth2_provider.generators import generate_client_secret
    from oauth2_provider.models import get_application_model

    name = (name or "").strip()
    if not name:
        raise _blank("name")
    uris = [uri.strip() for uri in redirect_uris if uri and uri.strip()]
    if not uris:
        raise _blank("redirect_uris")
    model = get_application_model()
    # A public client is never told its secret: it identifies itself by client_id and PKCE.
    secret = generate_client_secret()
    application = model(
        name=name,
        redirect_uris=" ".join(uris),
        client_type=model.CLIENT_CONFIDENTIAL if confidential else model.CLIENT_PUBLIC,
        authorization_grant_type=model.GRANT_AUTHORIZATION_CODE,
        client_secret=secret,
    )
    try:
        application.full_clean(exclude=["user"])
    except DjangoValidationError as exc:
        raise ValidationFailed(
            {
                field: [FieldError("invalid", message) for message in messages]
                for field, messages in exc.message_dict.items()
            }
        ) from None
    application.save()
    event_record(
        administration=None,
        actor=actor,
        action="oauth_application_created",
        entity=_OAuthApplicationSubject(application.pk),
        data={
            "name": application.name,
            "client_id": application.client_id,
            "client_type": application.client_type,
            "redirect_uris": uris,
        },
    )
    return application, secret if confidential else None


class _OAuthApplicationSubject:
    """django-oauth-toolkit's Application, as an event addresses it (it has no entity_type)."""

    entity_type = "OAuthApplication"

    def __init__(self, pk: int):
        self.pk = pk


# --- contact people -----------------------------------------------------------------------------

CONTACT_PERSON_FIELDS = ("firstname", "lastname", "phone", "email", "department")


def _contact_person_apply(person: ContactPerson, changes: dict[str, Any]) -> dict[str, list[Any]]:
    """Set the given attributes (text, stripped; None is ""), check the record and give the diff
    as {attribute: [old, new]}; every broken rule is reported together."""
    values: dict[str, str] = {}
    for field, value in changes.items():
        if field not in CONTACT_PERSON_FIELDS:
            raise ValidationFailed.single(field, "unknown", "is not a contact person field")
        if value is not None and not isinstance(value, str):
            raise ValidationFailed.single(field, "invalid", "must be a string")
        values[field] = (value or "").strip()
    diff = apply_diff(person, values)
    errors: dict[str, list[FieldError]] = {}
    for field in CONTACT_PERSON_FIELDS:
        value = getattr(person, field)
        limit = max_length(ContactPerson, field)
        if field in ("firstname", "lastname") and not value:
            errors.setdefault(field, []).append(FieldError("blank", "can't be blank"))
        elif len(value) > limit:
            message = f"is too long (maximum is {limit} characters)"
            errors.setdefault(field, []).append(FieldError("too_long", message))
    if person.email and not errors.get("email"):
        try:
            validate_email(person.email)
        except DjangoValidationError:
            errors["email"] = [FieldError("invalid", "is invalid")]
    if errors:
        raise ValidationFailed(errors)
    return diff


def _contact_touch(contact: Contact) -> None:
    """A contact renders its people: a change to one is a new version of the contact, which
    synchronizing clients must fetch."""
    Contact.objects.filter(pk=contact.pk).update(updated_at=timezone.now())


@transaction.atomic
def contact_person_create(*, contact: Contact, actor: User | None, **fields: Any) -> ContactPerson:
    """A person at `contact`; firstname and lastname are required. Records contact_person_created
    on the contact, linked to the person."""
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    person = ContactPerson(administration_id=current.administration_id, contact=current)
    _contact_person_apply(person, fields)
    person.save(force_insert=True)
    _contact_touch(current)
    event_record(
        administration=current.administration,
        actor=actor,
        action="contact_person_created",
        entity=current,
        link=person,
    )
    return person


@transaction.atomic
def contact_person_update(
    *, contact_person: ContactPerson, actor: User | None, changes: dict[str, Any]
) -> ContactPerson:
    """Change the given attributes only. Records contact_person_updated with [old, new] per
    changed attribute; no change records nothing."""
    current = ContactPerson.objects.select_for_update().get(pk=contact_person.pk)
    diff = _contact_person_apply(current, changes)
    if not diff:
        return current
    current.save()
    _contact_touch(current.contact)
    event_record(
        administration=current.administration,
        actor=actor,
        action="contact_person_updated",
        entity=current.contact,
        link=current,
        data=diff,
    )
    return current


@transaction.atomic
def contact_person_delete(*, contact_person: ContactPerson, actor: User | None) -> None:
    """Delete the person. Records contact_person_destroyed on the contact with the name it had."""
    current = ContactPerson.objects.select_for_update().get(pk=contact_person.pk)
    contact = current.contact
    event_record(
        administration=current.administration,
        actor=actor,
        action="contact_person_destroyed",
        entity=contact,
        link=current,
        data={"firstname": current.firstname, "lastname": current.lastname},
    )
    current.delete()
    _contact_touch(contact)
