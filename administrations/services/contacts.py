"""Writes for contacts and their contact people."""

import re
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import PROTECT, RESTRICT
from django.utils import timezone

from administrations.models import Administration, Contact, ContactPerson, User
from administrations.services.tenants import _COUNTRY
from common.conditional import Precondition
from common.diff import apply_diff
from common.exceptions import BadRequest, FieldError, ValidationFailed
from common.limits import max_length
from notes.services import event_record, notes_delete_for

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
