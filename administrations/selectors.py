"""Reads for tenants. `administration_for_user` is the one choke point through which a request
reaches an administration: everything tenant-owned is then read through it."""

from functools import reduce
from operator import or_
from typing import Protocol

from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Concat, Trim

from administrations.models import Administration, Contact, ContactPerson, Project, User
from common.exceptions import NotFound
from common.ids import parse_id
from notes.selectors import ChildrenJSON, events_json, notes_json


class Credential(Protocol):
    """What a request's credential (common.auth.Grant, or an ApiToken) says about tenants: bound
    to one administration, or (None) to every one its user is a member of."""

    administration_id: int | None


def administrations_for_user(*, user: User, token: Credential | None = None) -> QuerySet:
    qs = Administration.objects.filter(memberships__user=user)
    if token is not None and token.administration_id is not None:
        qs = qs.filter(pk=token.administration_id)
    return qs


def administration_for_user(
    *, user: User, administration_id: int | str, token: Credential | None = None
) -> Administration:
    """The administration if this user (and token) may reach it; otherwise NotFound, the same
    answer as for an id that does not exist, so nothing leaks across tenants."""
    try:
        pk = int(administration_id)
    except (TypeError, ValueError):
        raise NotFound("administration_id") from None
    loaded = getattr(token, "administration", None)
    if loaded is not None and loaded.pk == pk:
        return loaded  # read and checked for membership with the credential
    administration = administrations_for_user(user=user, token=token).filter(pk=pk).first()
    if administration is None:
        raise NotFound("administration_id")
    return administration


def members_of(administration: Administration) -> QuerySet:
    return User.objects.filter(memberships__administration=administration)


def member_get(administration: Administration, user_id: int | str | None, *, field: str) -> User:
    return _get_or_404(members_of(administration), user_id, field)


def contact_get(
    administration: Administration, contact_id: int | str | None, *, field: str = "id"
) -> Contact:
    return _get_or_404(Contact.objects.for_administration(administration), contact_id, field)


def project_get(
    administration: Administration, project_id: int | str | None, *, field: str = "id"
) -> Project:
    return _get_or_404(Project.objects.for_administration(administration), project_id, field)


def projects_of(administration: Administration) -> QuerySet:
    return Project.objects.for_administration(administration)


def _get_or_404(queryset: QuerySet, pk: int | str | None, field: str):
    record = queryset.filter(pk=_as_id(pk, field)).first()
    if record is None:
        raise NotFound(field)
    return record


def _as_id(value: int | str | None, field: str) -> int:
    pk = parse_id(value)
    if pk is None:
        raise NotFound(field)
    return pk


def contacts_by_name(administration: Administration, names: set[str]) -> dict[str, int]:
    """The contacts that `names` denote as imports name contacts: by company name, else by
    "first last"; of several, the active, oldest one. Names that match nothing are left out."""
    person = Trim(Concat("firstname", Value(" "), "lastname", output_field=CharField()))
    matches = list(
        Contact.objects.for_administration(administration)
        .annotate(person=person)
        .filter(Q(company_name__in=names) | Q(person__in=names))
        .order_by("archived", "pk")
        .values_list("company_name", "person", "pk")
    )
    found: dict[str, int] = {}
    for company, _, pk in matches:
        if company in names:
            found.setdefault(company, pk)
    for _, name, pk in matches:
        if name in names:
            found.setdefault(name, pk)
    return found


CONTACT_PERSON_FIELDS = {
    name: F(name)
    for name in (
        "id",
        "administration_id",
        "contact_id",
        "firstname",
        "lastname",
        "phone",
        "email",
        "department",
        "created_at",
        "updated_at",
    )
}


def contact_people_json() -> ChildrenJSON:
    """Annotate contacts with this: `queryset.annotate(contact_people_json=contact_people_json())`:
    each contact's people as one JSON array inside the same query (NULL when it has none)."""
    return ChildrenJSON(ContactPerson, CONTACT_PERSON_FIELDS, parent="contact")


def contact_person_get(
    administration: Administration,
    contact_id: int | str | None,
    person_id: int | str | None,
    *,
    field: str = "id",
    message: str = "record not found",
) -> ContactPerson:
    """The person `person_id` of the contact `contact_id`, both in `administration`; one that
    does not exist, is another contact's or another administration's is NotFound(field)."""
    try:
        contact, person = _as_id(contact_id, field), _as_id(person_id, field)
    except NotFound:
        raise NotFound(field, message) from None
    found = (
        ContactPerson.objects.for_administration(administration)
        .filter(contact_id=contact, pk=person)
        .select_related("contact")
        .first()
    )
    if found is None:
        raise NotFound(field, message)
    return found


# The fields `query` searches, as Moneybird lists them (bank_account is also the SEPA IBAN).
SEARCH_FIELDS = (
    "company_name",
    "attention",
    "firstname",
    "lastname",
    "address1",
    "address2",
    "zipcode",
    "city",
    "country",
    "email",
    "phone",
    "customer_id",
    "tax_number",
    "chamber_of_commerce",
    "bank_account",
    "sepa_iban",
)


# --- reads ------------------------------------------------------------------------------------


def contacts_of(administration: Administration, *, archived: bool = True) -> QuerySet:
    """The administration's contacts; archived ones only when `archived`."""
    queryset = Contact.objects.for_administration(administration)
    return queryset if archived else queryset.filter(archived=False)


def with_details(queryset: QuerySet) -> QuerySet:
    """Each contact's events, notes and people aggregated inside the same query."""
    return queryset.annotate(
        events_json=events_json(Contact.entity_type),
        notes_json=notes_json(Contact.entity_type),
        contact_people_json=contact_people_json(),
    )


def search(queryset: QuerySet, query: str) -> QuerySet:
    """Every word of `query` must occur (case-insensitively) in one of the SEARCH_FIELDS or in
    the name of one of the contact's people."""
    for term in query.split():
        people = ContactPerson.objects.filter(contact=OuterRef("pk")).filter(
            Q(firstname__icontains=term) | Q(lastname__icontains=term)
        )
        queryset = queryset.filter(
            reduce(or_, (Q(**{f"{field}__icontains": term}) for field in SEARCH_FIELDS))
            | Exists(people)
        )
    return queryset
