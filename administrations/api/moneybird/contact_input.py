"""The input of Moneybird's contacts API (contacts.py): the fields and serializer of a contact's
attributes, and the checks and error reshaping only the API makes."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request

from administrations import services
from common.api import IdField, query_flag
from common.exceptions import BadRequest, FieldError, NotFound, ValidationFailed
from common.ids import parse_id

# --- input ------------------------------------------------------------------------------------


class OptionalIdField(IdField):
    """A record id, or "" / null for none (Moneybird removes an attribute given as "")."""

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data == "":
            return True, None
        return super().validate_empty_values(data)


@extend_schema_field(OpenApiTypes.DATE)
class DateInputField(serializers.Field):
    """A calendar date as YYYY-MM-DD, zero padding optional ("2017-6-30"); "" or null for none."""

    default_error_messages = {"invalid": "is not a valid date"}
    _PATTERN = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data == "":
            return True, None
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> date:
        match = self._PATTERN.fullmatch(data.strip()) if isinstance(data, str) else None
        if match is None:
            self.fail("invalid")
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value: date) -> str:
        return value.isoformat()


_CUSTOM_FIELD = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "value": {"type": "string"}},
    "required": ["id"],
}


@extend_schema_field(
    {
        "oneOf": [
            {"type": "array", "items": _CUSTOM_FIELD},
            {"type": "object", "additionalProperties": _CUSTOM_FIELD},
        ]
    }
)
class CustomFieldsInput(serializers.Field):
    """custom_fields_attributes: {"0": {"id": ..., "value": ...}, ...} or a list of such objects.
    Gives the custom field ids."""

    default_error_messages = {"invalid": "is invalid"}

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, dict):
            items = list(data.values())
        elif isinstance(data, list):
            items = data
        else:
            self.fail("invalid")
        if not all(isinstance(item, dict) and "id" in item for item in items):
            self.fail("invalid")
        return [str(item["id"]) for item in items]


def _text() -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=False
    )


# Every text attribute the service takes (including `email`, which older clients send), then
# the rest. Keys not declared here are ignored, as Moneybird's permitted parameters drop them.
ContactInput = type(
    "ContactInput",
    (serializers.Serializer,),
    {
        **{name: _text() for name in services.CONTACT_FIELDS},
        "delivery_method": _text(),
        "sepa_sequence_type": _text(),
        "email_ubl": serializers.BooleanField(required=False),
        "direct_debit": serializers.BooleanField(required=False),
        "sepa_active": serializers.BooleanField(required=False),
        "sepa_mandate_date": DateInputField(required=False, allow_null=True),
        "invoice_workflow_id": OptionalIdField(required=False, allow_null=True),
        "estimate_workflow_id": OptionalIdField(required=False, allow_null=True),
        "custom_fields_attributes": CustomFieldsInput(required=False, allow_null=True),
        "is_trusted": serializers.BooleanField(required=False),
    },
)
ContactInput = extend_schema_serializer(component_name="MoneybirdContactInput")(ContactInput)


def _service_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The validated input as the service takes it, after the checks only the API makes."""
    if data.pop("is_trusted", False):
        raise BadRequest(
            "An contact can only be trusted during the approval of a payment.",
            field="is_trusted",
            code="permission",
        )
    custom_fields = data.pop("custom_fields_attributes", None) or []
    if custom_fields:
        raise NotFound(
            "custom_fields_attributes",
            f"Custom field with id {custom_fields[0]} not found for administration",
        )
    for field in ("invoice_workflow_id", "estimate_workflow_id"):
        if data.pop(field, None) is not None:
            raise NotFound(field)
    return data


@contextmanager
def moneybird_errors() -> Iterator[None]:
    """The service reports a nameless contact on the record as a whole ("base"); Moneybird
    reports it on each of the three attributes that could fix it."""
    try:
        yield
    except ValidationFailed as exc:
        base = exc.errors.get("base", [])
        if not any(e.code == services.CONTACT_NAME_REQUIRED for e in base):
            raise
        required = [FieldError("is required", "is required")]
        errors = {field: required for field in ("firstname", "lastname", "company_name")}
        rest = [e for e in base if e.code != services.CONTACT_NAME_REQUIRED]
        if rest:
            errors["base"] = rest
        errors.update((k, v) for k, v in exc.errors.items() if k != "base")
        raise ValidationFailed(errors) from None


def contact_body(request: Request) -> dict[str, Any]:
    """The attributes inside {"contact": {...}}; without any, Moneybird's 400."""
    contact = request.data.get("contact") if isinstance(request.data, dict) else None
    if not isinstance(contact, dict) or not contact:
        raise BadRequest("Contact is required", field="contact", code="required")
    return contact


def include_archived(request: Request) -> bool:
    return query_flag(request, "include_archived")


def _pk(value: str) -> int:
    pk = parse_id(value)
    if pk is None:
        raise NotFound("id")
    return pk
