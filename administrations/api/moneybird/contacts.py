"""Moneybird's /api/v2/{administration_id}/contacts, over administrations.services.

Covered: list (page/per_page, query, include_archived), filter (/contacts/filter), create, get,
update, delete, archive, get by customer id, synchronization (ids and versions; records by ids),
notes; contact people are in contact_people.py and rendered inside their contact. Payment
mandates, additional charges, custom fields and workflows do not exist here: contacts render
`custom_fields` as [] and the workflow ids as null, and an id of a custom field or workflow given
in input is unknown (404), like any unknown id.
"""

from typing import Any

from django.utils import timezone
from django.utils.crypto import salted_hmac
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from administrations import services
from administrations.api.moneybird.contact_input import (
    ContactInput,
    _pk,
    _service_fields,
    contact_body,
    include_archived,
    moneybird_errors,
)
from administrations.filtersets import ContactFilterSet
from administrations.models import Contact, ContactPerson
from administrations.selectors import (
    contact_get,
    contacts_of,
    search,
    with_details,
)
from common.api import synchronization, validate_input
from common.api.moneybird import ID, MoneybirdView, moneybird_path
from common.conditional import IF_MATCH, IF_NONE_MATCH, if_match, record_tag, tagged
from common.db import deferred_page
from common.exceptions import NotFound
from common.openapi import (
    CONTACTS_FILTER_FORMAT,
    FALSE_SCHEMA,
    MONEYBIRD_PAGING,
    NO_CONTENT,
    body_rules,
    id_parameter,
    moneybird_filter,
    moneybird_responses,
    patch_and_put,
)
from common.pagination import bounded_count, page_from_request, paged_response
from common.timefmt import from_db, iso_utc
from notes.api.moneybird import (
    EventOutput,
    NoteCreateView,
    NoteDeleteView,
    NoteOutput,
    render_event,
    render_note,
)

# Any one of these suffices. A token with none is told the first: "No access to sales_invoices".
SCOPES = ("sales_invoices", "estimates", "documents", "bank", "settings")

# --- output -----------------------------------------------------------------------------------


def sales_invoices_url(contact: Contact, base_url: str) -> str:
    """Moneybird's unguessable link to the contact's invoices. Uurwerk has no invoices; the link
    keeps its shape (64 hex digits, stable per contact) so clients that store it keep working."""
    token = salted_hmac(
        "uurwerk.contacts.sales_invoices_url", str(contact.pk), algorithm="sha256"
    ).hexdigest()
    return f"{base_url}/{contact.administration_id}/sales_invoices/{token}/all"


def render_contact_event(event: dict[str, Any]) -> dict[str, Any]:
    rendered = render_event(event)
    if rendered["action"] == "contact_changed":
        # The audit log keeps the bare {attribute: [old, new]}; Moneybird nests it.
        rendered["data"] = {"changes": rendered["data"]}
    return rendered


def render_contact_person(person: dict[str, Any]) -> dict[str, Any]:
    """A contact person from a row dict (contacts aggregate their people as JSON, see
    contact_person_row) as Moneybird renders it: an empty optional attribute is null."""
    updated_at = from_db(person["updated_at"])
    return {
        "id": str(person["id"]),
        "contact_id": str(person["contact_id"]),
        "administration_id": str(person["administration_id"]),
        "firstname": person["firstname"],
        "lastname": person["lastname"],
        "phone": person["phone"] or None,
        "email": person["email"] or None,
        "department": person["department"] or None,
        "created_at": iso_utc(from_db(person["created_at"])),
        "updated_at": iso_utc(updated_at),
        "version": int(updated_at.timestamp()),
    }


def contact_person_row(person: ContactPerson) -> dict[str, Any]:
    """A person as an item of with_details' contact_people_json."""
    fields = ("id", "administration_id", "contact_id", "firstname", "lastname", "phone")
    row = {f: getattr(person, f) for f in fields}
    row.update(
        email=person.email,
        department=person.department,
        created_at=person.created_at,
        updated_at=person.updated_at,
    )
    return row


def render_contact(contact: Contact, *, base_url: str) -> dict[str, Any]:
    """One contact as Moneybird renders it; `contact` comes from `with_details`."""
    events = sorted(contact.events_json or [], key=lambda e: e["id"])
    notes = sorted(contact.notes_json or [], key=lambda n: n["id"])
    people = sorted(contact.contact_people_json or [], key=lambda p: p["id"])
    mandate_date = contact.sepa_mandate_date
    return {
        "id": str(contact.pk),
        "administration_id": str(contact.administration_id),
        "company_name": contact.company_name,
        "firstname": contact.firstname,
        "lastname": contact.lastname,
        "address1": contact.address1,
        "address2": contact.address2,
        "zipcode": contact.zipcode,
        "city": contact.city,
        "country": contact.country,
        "phone": contact.phone,
        "delivery_method": contact.delivery_method,
        "customer_id": contact.customer_id,
        "tax_number": contact.tax_number,
        "chamber_of_commerce": contact.chamber_of_commerce,
        # "The SEPA IBAN of the contact", falling back to the account given as bank_account.
        "bank_account": contact.sepa_iban or contact.bank_account,
        "is_trusted": False,
        "max_transfer_amount": None,
        "attention": contact.attention,
        "email": contact.email,
        "email_ubl": contact.email_ubl,
        "send_invoices_to_attention": contact.send_invoices_to_attention,
        "send_invoices_to_email": contact.send_invoices_to_email,
        "send_estimates_to_attention": contact.send_estimates_to_attention,
        "send_estimates_to_email": contact.send_estimates_to_email,
        "direct_debit": contact.direct_debit,
        "sepa_active": contact.sepa_active,
        "sepa_iban": contact.sepa_iban,
        "sepa_iban_account_name": contact.sepa_iban_account_name,
        "sepa_bic": contact.sepa_bic,
        "sepa_mandate_id": contact.sepa_mandate_id,
        "sepa_mandate_date": mandate_date.isoformat() if mandate_date else None,
        "sepa_sequence_type": contact.sepa_sequence_type,
        "credit_card_number": "",
        "credit_card_reference": "",
        "credit_card_type": None,
        "tax_number_validated_at": None,
        "tax_number_valid": None,
        "invoice_workflow_id": None,
        "estimate_workflow_id": None,
        "si_identifier": contact.si_identifier,
        "si_identifier_type": contact.si_identifier_type or None,
        "moneybird_payments_mandate": False,
        "created_at": iso_utc(contact.created_at),
        "updated_at": iso_utc(contact.updated_at),
        "version": version(contact),
        "sales_invoices_url": sales_invoices_url(contact, base_url),
        "notes": [render_note(n) for n in notes],
        "custom_fields": [],
        "contact_people": [render_contact_person(p) for p in people],
        "archived": contact.archived,
        "events": [render_contact_event(e) for e in events],
    }


# What render_contact_person answers, for the OpenAPI schema only (common/openapi.py).
@extend_schema_serializer(component_name="MoneybirdContactPerson")
class ContactPersonOutput(serializers.Serializer):
    id = serializers.CharField()
    contact_id = serializers.CharField()
    administration_id = serializers.CharField()
    firstname = serializers.CharField()
    lastname = serializers.CharField()
    phone = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    department = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField(help_text="updated_at in epoch seconds")


# What render_contact answers, for the OpenAPI schema only (common/openapi.py).
@extend_schema_serializer(component_name="MoneybirdContact")
class ContactOutput(serializers.Serializer):
    id = serializers.CharField()
    administration_id = serializers.CharField()
    company_name = serializers.CharField()
    firstname = serializers.CharField()
    lastname = serializers.CharField()
    address1 = serializers.CharField()
    address2 = serializers.CharField()
    zipcode = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField()
    phone = serializers.CharField()
    delivery_method = serializers.ChoiceField(choices=Contact.DeliveryMethod.choices)
    customer_id = serializers.CharField()
    tax_number = serializers.CharField()
    chamber_of_commerce = serializers.CharField()
    bank_account = serializers.CharField()
    is_trusted = serializers.BooleanField()
    max_transfer_amount = serializers.CharField(allow_null=True)
    attention = serializers.CharField()
    email = serializers.CharField()
    email_ubl = serializers.BooleanField()
    send_invoices_to_attention = serializers.CharField()
    send_invoices_to_email = serializers.CharField()
    send_estimates_to_attention = serializers.CharField()
    send_estimates_to_email = serializers.CharField()
    direct_debit = serializers.BooleanField()
    sepa_active = serializers.BooleanField()
    sepa_iban = serializers.CharField()
    sepa_iban_account_name = serializers.CharField()
    sepa_bic = serializers.CharField()
    sepa_mandate_id = serializers.CharField()
    sepa_mandate_date = serializers.DateField(allow_null=True)
    sepa_sequence_type = serializers.ChoiceField(choices=Contact.SepaSequenceType.choices)
    credit_card_number = serializers.CharField()
    credit_card_reference = serializers.CharField()
    credit_card_type = serializers.CharField(allow_null=True)
    tax_number_validated_at = serializers.DateTimeField(allow_null=True)
    tax_number_valid = serializers.BooleanField(allow_null=True)
    invoice_workflow_id = serializers.CharField(allow_null=True)
    estimate_workflow_id = serializers.CharField(allow_null=True)
    si_identifier = serializers.CharField()
    si_identifier_type = serializers.CharField(allow_null=True)
    moneybird_payments_mandate = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField(help_text="updated_at in epoch seconds")
    sales_invoices_url = serializers.URLField()
    notes = NoteOutput(many=True)
    custom_fields = serializers.ListField(child=serializers.DictField(), help_text="Always []")
    contact_people = ContactPersonOutput(many=True)
    archived = serializers.BooleanField()
    events = EventOutput(many=True)


ContactCreateInput = extend_schema_serializer(component_name="MoneybirdContactCreateInput")(
    type("ContactCreateInput", (ContactInput,), {})
)
CONTACT_BODY = inline_serializer("MoneybirdContactWrite", {"contact": ContactInput()})
CONTACT_CREATE_BODY = inline_serializer("MoneybirdContactCreate", {"contact": ContactCreateInput()})
# What the services and contact_body enforce (common.openapi.body_rules): an empty contact is
# no contact, and a new one needs a name.
body_rules("MoneybirdContactWrite", required=("contact",), required_when_partial=True)
body_rules("MoneybirdContactCreate", required=("contact",))
_EMAIL = (
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def _contact_field_schemas() -> dict[str, dict[str, Any]]:
    """What services._contact_errors checks, per attribute, as far as a schema can say it: the
    column's length, and the shapes of a country, a BIC, the e-mail addresses and the choices.
    An IBAN's checksum, the SEPA attributes a mandate needs, a mandate date in the future and a
    taken customer_id are 422s a schema cannot foresee (the 422 of each write says so)."""
    lengths = {f: Contact._meta.get_field(f).max_length for f in services.CONTACT_FIELDS}
    fields: dict[str, dict[str, Any]] = {f: {"maxLength": n} for f, n in lengths.items()}

    def text(pattern: str, max_length: int | None = None) -> dict[str, Any]:
        schema = {"type": "string", "pattern": pattern}
        if max_length:
            schema["maxLength"] = max_length
        return {"oneOf": [schema], "nullable": True}

    # Blank means the administration's country; any case.
    fields["country"] = text(r"^\s*(?:[A-Za-z]{2})?\s*$")
    fields["sepa_bic"] = text(
        r"^ *(?:(?:[A-Za-z] *){6}(?:[A-Za-z0-9] *){2}(?:(?:[A-Za-z0-9] *){3})?)? *$"
    )
    fields["email"] = text(rf"^\s*(?:{_EMAIL})?\s*$", lengths["email"])
    for field in ("send_invoices_to_email", "send_estimates_to_email"):
        fields[field] = text(rf"^\s*(?:{_EMAIL}(?:\s*,\s*{_EMAIL})*)?\s*$", lengths[field])
    # A number is taken as its text, so only as many digits as fit.
    short = lengths["si_identifier_type"]
    fields["si_identifier_type"] = {
        "oneOf": [
            {"type": "string", "maxLength": short},
            {"type": "integer", "minimum": -(10 ** (short - 2)), "maximum": 10 ** (short - 1)},
        ],
        "nullable": True,
    }
    for field, choices in (
        ("delivery_method", Contact.DeliveryMethod),
        ("sepa_sequence_type", Contact.SepaSequenceType),
    ):
        # Blank or null is the first choice.
        fields[field] = {
            "oneOf": [{"type": "string", "enum": [*choices.values, ""]}],
            "nullable": True,
        }
    # is_trusted may only be set while approving a payment (a 400 otherwise).
    fields["is_trusted"] = FALSE_SCHEMA
    return fields


_CONTACT_FIELDS = _contact_field_schemas()
body_rules("MoneybirdContactInput", min_properties=1, fields=_CONTACT_FIELDS)
body_rules(
    "MoneybirdContactCreateInput",
    min_properties=1,
    one_of_named=("company_name", "firstname", "lastname"),
    fields=_CONTACT_FIELDS,
)
CONTACT_ID = id_parameter("id", "contact")
INCLUDE_ARCHIVED = OpenApiParameter(
    "include_archived", bool, description="Also archived contacts (default false)."
)


def version(contact: Contact) -> int:
    return synchronization.version(contact.updated_at)


# --- views ------------------------------------------------------------------------------------


class ContactView(MoneybirdView):
    required_scopes = SCOPES

    def render(self, contact: Contact) -> dict[str, Any]:
        base_url = self.request.build_absolute_uri("/").rstrip("/")
        return render_contact(contact, base_url=base_url)

    def detail(self, pk: int | str, *, archived: bool = True) -> Contact:
        contact = (
            with_details(contacts_of(self.administration, archived=archived))
            .filter(pk=_pk(str(pk)))
            .first()
        )
        if contact is None:
            raise NotFound("id")
        return contact

    def input(self, request: Request, *, partial: bool) -> dict[str, Any]:
        data = validate_input(ContactInput, contact_body(request), partial=partial)
        return _service_fields(data)


class ContactListView(ContactView):
    @extend_schema(
        operation_id="moneybird_contacts_list",
        summary="List contacts",
        parameters=[
            OpenApiParameter(
                "query", str, description="Words that must each occur in a searched attribute."
            ),
            INCLUDE_ARCHIVED,
            *MONEYBIRD_PAGING,
        ],
        responses=moneybird_responses({200: ContactOutput(many=True)}, 400, 404),
    )
    def get(self, request: Request, administration_id: str) -> Response:
        page = page_from_request(request)
        queryset = contacts_of(self.administration, archived=include_archived(request))
        query = request.query_params.get("query")
        if query:
            queryset = search(queryset, query)
        total = bounded_count(queryset, page)
        contacts = with_details(
            deferred_page(queryset, ordering=("id",), offset=page.offset, limit=page.size)
        )
        return paged_response(request, page, [self.render(c) for c in contacts], total=total)

    @extend_schema(
        operation_id="moneybird_contacts_create",
        summary="Create a contact",
        description="A company name, a first name or a last name is required.",
        request=CONTACT_CREATE_BODY,
        responses=moneybird_responses({201: ContactOutput}, 400, 404, 422),
    )
    def post(self, request: Request, administration_id: str) -> Response:
        fields = self.input(request, partial=False)
        with moneybird_errors():
            contact = services.contact_create(
                administration=self.administration, actor=request.user, **fields
            )
        return Response(self.render(self.detail(contact.pk)), status=201)


CONTACT_FILTER = moneybird_filter(
    "Keys: created_after and updated_after (an ISO 8601 time, exclusive; UTC unless it has an "
    "offset), first_name and last_name (the whole name, case-insensitive), contact_type (all, "
    "company, private_individual), delivery_method (all, email, post, manual, peppol, "
    "simplerinvoicing), trusted_type (all, trusted, not_trusted; no contact is trusted here), "
    "invoice_workflow_id and estimate_workflow_id (there are no workflows here: these select "
    "nothing). No defaults.",
    # Times and names a pattern cannot check (administrations.filtersets.ContactFilterSet).
    format=CONTACTS_FILTER_FORMAT,
)


class ContactFilterView(ContactView):
    @extend_schema(
        operation_id="moneybird_contacts_filter",
        summary="Filter contacts",
        parameters=[
            CONTACT_FILTER,
            OpenApiParameter(
                "query",
                str,
                description="Words that must each occur in a searched attribute or in the name "
                "of one of the contact's people.",
            ),
            INCLUDE_ARCHIVED,
            *MONEYBIRD_PAGING,
        ],
        responses=moneybird_responses({200: ContactOutput(many=True)}, 400, 404),
    )
    def get(self, request: Request, administration_id: str) -> Response:
        page = page_from_request(request)
        queryset = contacts_of(self.administration, archived=include_archived(request))
        query = request.query_params.get("query")
        if query:
            queryset = search(queryset, query)
        queryset = ContactFilterSet.from_string(
            request.query_params.get("filter"),
            queryset=queryset,
            administration=self.administration,
            today=timezone.now().astimezone(self.administration.tz).date(),
        ).qs
        total = bounded_count(queryset, page)
        contacts = with_details(
            deferred_page(queryset, ordering=("id",), offset=page.offset, limit=page.size)
        )
        return paged_response(request, page, [self.render(c) for c in contacts], total=total)


@extend_schema(parameters=[CONTACT_ID])
class ContactDetailView(ContactView):
    @extend_schema(
        operation_id="moneybird_contacts_retrieve",
        summary="Get a contact",
        parameters=[INCLUDE_ARCHIVED, IF_NONE_MATCH],
        responses=moneybird_responses({200: ContactOutput, 304: NO_CONTENT}, 400, 404),
    )
    def get(self, request: Request, administration_id: str, pk: str) -> Response:
        contact = self.detail(pk, archived=include_archived(request))
        return tagged(request, Response(self.render(contact)), record_tag(contact))

    @patch_and_put(
        "moneybird_contacts_update",
        summary="Update a contact",
        parameters=[IF_MATCH],
        request=CONTACT_BODY,
        responses=moneybird_responses({200: ContactOutput}, 400, 404, 412, 422),
    )
    def patch(self, request: Request, administration_id: str, pk: str) -> Response:
        contact = contact_get(self.administration, pk)
        changes = self.input(request, partial=True)
        with moneybird_errors():
            services.contact_update(
                contact=contact,
                actor=request.user,
                changes=changes,
                precondition=if_match(request),
            )
        contact = self.detail(pk)
        return tagged(request, Response(self.render(contact)), record_tag(contact))

    put = patch

    @extend_schema(
        operation_id="moneybird_contacts_destroy",
        summary="Delete a contact",
        parameters=[IF_MATCH],
        responses=moneybird_responses({204: NO_CONTENT}, 404, 412, 422),
    )
    def delete(self, request: Request, administration_id: str, pk: str) -> Response:
        services.contact_delete(
            contact=contact_get(self.administration, pk),
            actor=request.user,
            precondition=if_match(request),
        )
        return Response(status=204)


class ContactArchiveView(ContactView):
    @extend_schema(
        operation_id="moneybird_contacts_archive",
        summary="Archive a contact",
        parameters=[CONTACT_ID],
        request=None,
        responses=moneybird_responses({204: NO_CONTENT}, 400, 404),
    )
    def patch(self, request: Request, administration_id: str, pk: str) -> Response:
        services.contact_archive(contact=contact_get(self.administration, pk), actor=request.user)
        return Response(status=204)


class ContactByCustomerIdView(ContactView):
    @extend_schema(
        operation_id="moneybird_contacts_by_customer_id",
        summary="Get a contact by its customer id",
        parameters=[
            OpenApiParameter(
                "customer_id", str, OpenApiParameter.PATH, description="The contact's customer_id."
            ),
            INCLUDE_ARCHIVED,
        ],
        responses=moneybird_responses({200: ContactOutput}, 400, 404),
    )
    def get(self, request: Request, administration_id: str, customer_id: str) -> Response:
        queryset = contacts_of(self.administration, archived=include_archived(request))
        contact = with_details(queryset.filter(customer_id=customer_id)).first()
        if contact is None:
            raise NotFound("customer_id")
        return Response(self.render(contact))


class ContactSynchronizationView(ContactView):
    reads_by_post = True  # POST asks for contacts by id; a suspended administration answers it

    @extend_schema(
        operation_id="moneybird_contacts_synchronization_list",
        summary="List the id and version of every contact",
        parameters=[INCLUDE_ARCHIVED],
        responses=moneybird_responses({200: synchronization.VERSIONS}, 400, 404),
    )
    def get(self, request: Request, administration_id: str) -> Response:
        """Id and version of every contact, for a client to see which ones it must fetch."""
        queryset = contacts_of(self.administration, archived=include_archived(request))
        return Response(synchronization.versions(queryset))

    @extend_schema(
        operation_id="moneybird_contacts_synchronization_fetch",
        summary="Get contacts by their ids",
        request=inline_serializer(
            "MoneybirdContactIds",
            {
                # Anything goes in the list: what is no id of a contact here is skipped, and
                # past SYNC_MAX distinct ids the rest is ignored (not refused).
                "ids": serializers.ListField(
                    child=serializers.JSONField(),
                    min_length=1,
                    help_text=f"Contact ids; the first {synchronization.SYNC_MAX} distinct ones "
                    "are looked up, and values that are no id of a contact here are skipped.",
                )
            },
        ),
        responses=moneybird_responses({200: ContactOutput(many=True)}, 400, 404),
    )
    def post(self, request: Request, administration_id: str) -> Response:
        """The contacts with the given ids, at most SYNC_MAX: the first SYNC_MAX distinct ids
        given are looked up; ids of no contact here (unknown, foreign, malformed) are skipped."""
        wanted = synchronization.requested_ids(request, refuse_more=False)
        contacts = with_details(contacts_of(self.administration).filter(pk__in=wanted))
        return Response([self.render(c) for c in contacts.order_by("id")])


@extend_schema_view(
    post=extend_schema(
        operation_id="moneybird_contacts_notes_create",
        parameters=[id_parameter("contact_id", "contact")],
    )
)
class ContactNoteCreateView(NoteCreateView):
    required_scopes = SCOPES
    entity_kwarg = "contact_id"

    def get_entity(self, entity_id: str) -> Contact:
        return contact_get(self.administration, entity_id, field="contact_id")


@extend_schema_view(
    delete=extend_schema(
        operation_id="moneybird_contacts_notes_destroy",
        parameters=[id_parameter("contact_id", "contact")],
    )
)
class ContactNoteDeleteView(NoteDeleteView):
    required_scopes = SCOPES
    entity_kwarg = "contact_id"
    subject_type = Contact.entity_type


urlpatterns = [
    moneybird_path("contacts", ContactListView, "mb-contacts"),
    moneybird_path(
        "contacts/synchronization", ContactSynchronizationView, "mb-contacts-synchronization"
    ),
    moneybird_path("contacts/filter", ContactFilterView, "mb-contacts-filter"),
    # Customer ids are free text ("customer-1"), so anything up to the next slash.
    moneybird_path(
        r"contacts/customer_id/(?P<customer_id>[^/]+?)",
        ContactByCustomerIdView,
        "mb-contact-by-customer-id",
    ),
    moneybird_path(rf"contacts/(?P<pk>{ID})", ContactDetailView, "mb-contact"),
    moneybird_path(rf"contacts/(?P<pk>{ID})/archive", ContactArchiveView, "mb-contact-archive"),
    moneybird_path(
        rf"contacts/(?P<contact_id>{ID})/notes", ContactNoteCreateView, "mb-contact-notes"
    ),
    moneybird_path(
        rf"contacts/(?P<contact_id>{ID})/notes/(?P<pk>{ID})",
        ContactNoteDeleteView,
        "mb-contact-note",
    ),
]
