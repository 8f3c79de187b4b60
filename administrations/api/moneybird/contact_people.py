"""Moneybird's /api/v2/{administration_id}/contacts/{contact_id}/contact_people: the people at a
contact (create, get, update, delete), over administrations.services. Each person is also
rendered inside its contact (contacts.py)."""

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from administrations import services
from administrations.api.moneybird.contacts import (
    _EMAIL,
    SCOPES,
    ContactPersonOutput,
    contact_person_row,
    render_contact_person,
)
from administrations.models import ContactPerson
from administrations.selectors import contact_get, contact_person_get
from common.api import validate_input
from common.api.moneybird import ID, MoneybirdView, moneybird_path
from common.exceptions import BadRequest, FieldError, NotFound, ValidationFailed
from common.openapi import NO_CONTENT, body_rules, id_parameter, moneybird_responses


def _text() -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=False
    )


# Keys not declared here are ignored, as Moneybird's permitted parameters drop them.
@extend_schema_serializer(component_name="MoneybirdContactPersonInput")
class ContactPersonInput(serializers.Serializer):
    firstname = _text()
    lastname = _text()
    phone = _text()
    email = _text()
    department = _text()


@extend_schema_serializer(component_name="MoneybirdContactPersonCreateInput")
class ContactPersonCreateInput(ContactPersonInput):
    """ContactPersonInput as a create takes it; body_rules below say what a create needs."""


CONTACT_PERSON_BODY = inline_serializer(
    "MoneybirdContactPersonWrite", {"contact_person": ContactPersonInput()}
)
CONTACT_PERSON_CREATE_BODY = inline_serializer(
    "MoneybirdContactPersonCreate", {"contact_person": ContactPersonCreateInput()}
)


def _field_schemas() -> dict[str, dict[str, Any]]:
    """What services._contact_person_apply checks, as far as a schema can say it: the column's
    length and an e-mail address's shape (blank or null is no address)."""
    fields: dict[str, dict[str, Any]] = {
        f: {"maxLength": ContactPerson._meta.get_field(f).max_length}
        for f in ("firstname", "lastname", "phone", "department")
    }
    email = {
        "type": "string",
        "pattern": rf"^\s*(?:{_EMAIL})?\s*$",
        "maxLength": ContactPerson._meta.get_field("email").max_length,
    }
    fields["email"] = {"oneOf": [email], "nullable": True}
    return fields


# common.openapi.body_rules: the service needs a first and a last name (null is blank), and an
# empty body is Moneybird's 400 "param is missing".
body_rules("MoneybirdContactPersonWrite", required=("contact_person",), required_when_partial=True)
body_rules("MoneybirdContactPersonCreate", required=("contact_person",))
_NAMES = ("firstname", "lastname")
_FIELDS = _field_schemas()
body_rules("MoneybirdContactPersonInput", not_blank=_NAMES, min_properties=1, fields=_FIELDS)
body_rules("MoneybirdContactPersonCreateInput", required=_NAMES, not_blank=_NAMES, fields=_FIELDS)
CONTACT_ID = id_parameter("contact_id", "contact")
PERSON_ID = id_parameter("id", "contact person")


def render(person: ContactPerson) -> dict[str, Any]:
    return render_contact_person(contact_person_row(person))


class ContactPersonView(MoneybirdView):
    required_scopes = SCOPES

    def input(self, request: Request, *, partial: bool) -> dict[str, Any]:
        body = self.body(request, "contact_person")
        if not body:  # Moneybird requires the attributes, and {} has none
            raise BadRequest(
                "param is missing or the value is empty: contact_person",
                field="contact_person",
                code="missing",
            )
        return validate_input(ContactPersonInput, body, partial=partial)


class ContactPersonCreateView(ContactPersonView):
    @extend_schema(
        operation_id="moneybird_contact_people_create",
        summary="Create a contact person",
        description="`firstname` and `lastname` are required. A contact that does not exist "
        "here is a 422 on `contact`, as Moneybird answers.",
        parameters=[CONTACT_ID],
        request=CONTACT_PERSON_CREATE_BODY,
        responses=moneybird_responses({201: ContactPersonOutput}, 400, 404, 422),
    )
    def post(self, request: Request, administration_id: str, contact_id: str) -> Response:
        try:
            contact = contact_get(self.administration, contact_id, field="contact")
        except NotFound:
            # Moneybird validates the person's contact like an attribute: "must exist".
            raise ValidationFailed({"contact": [FieldError("blank", "must exist")]}) from None
        fields = self.input(request, partial=False)
        person = services.contact_person_create(contact=contact, actor=request.user, **fields)
        return Response(render(person), status=201)


class ContactPersonDetailView(ContactPersonView):
    @extend_schema(
        operation_id="moneybird_contact_people_retrieve",
        summary="Get a contact person",
        parameters=[CONTACT_ID, PERSON_ID],
        responses=moneybird_responses({200: ContactPersonOutput}, 400, 404),
    )
    def get(self, request: Request, administration_id: str, contact_id: str, pk: str) -> Response:
        return Response(render(contact_person_get(self.administration, contact_id, pk)))

    @extend_schema(
        operation_id="moneybird_contact_people_update",
        summary="Update a contact person",
        description="Only the attributes given change.",
        parameters=[CONTACT_ID, PERSON_ID],
        request=CONTACT_PERSON_BODY,
        responses=moneybird_responses({200: ContactPersonOutput}, 400, 404, 422),
    )
    def patch(self, request: Request, administration_id: str, contact_id: str, pk: str) -> Response:
        # Moneybird's update names the person in its 404, unlike get and delete.
        person = contact_person_get(
            self.administration,
            contact_id,
            pk,
            field="contact_person_id",
            message="contact person not found",
        )
        changes = self.input(request, partial=True)
        person = services.contact_person_update(
            contact_person=person, actor=request.user, changes=changes
        )
        return Response(render(person))

    @extend_schema(
        operation_id="moneybird_contact_people_destroy",
        summary="Delete a contact person",
        parameters=[CONTACT_ID, PERSON_ID],
        responses=moneybird_responses({204: NO_CONTENT}, 400, 404),
    )
    def delete(
        self, request: Request, administration_id: str, contact_id: str, pk: str
    ) -> Response:
        person = contact_person_get(self.administration, contact_id, pk)
        services.contact_person_delete(contact_person=person, actor=request.user)
        return Response(status=204)


urlpatterns = [
    moneybird_path(
        rf"contacts/(?P<contact_id>{ID})/contact_people",
        ContactPersonCreateView,
        "mb-contact-people",
    ),
    moneybird_path(
        rf"contacts/(?P<contact_id>{ID})/contact_people/(?P<pk>{ID})",
        ContactPersonDetailView,
        "mb-contact-person",
    ),
]
