"""Pieces both API dialects share: turning DRF input validation into the domain's
ValidationFailed, and the input fields for ids and timestamps."""

from typing import Any

from django.core import validators
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from common.exceptions import BadRequest, FieldError, NotFound, Suspended, ValidationFailed
from common.flags import parse_flag
from common.ids import parse_id, render_id
from common.limits import TIME_RANGE_MESSAGE, time_in_range
from common.timefmt import parse_datetime


def query_flag(request: Any, name: str, *, default: bool = False) -> bool:
    """A boolean query parameter in the one flag vocabulary (common.flags); 400 otherwise."""
    try:
        return parse_flag(request.query_params.get(name), default=default)
    except ValueError:
        raise BadRequest(
            f"{name} does not have a valid value", field=name, code="invalid"
        ) from None


def path_id(value: str) -> int:
    """An id from the URL, in either dialect; anything that cannot be one (past a bigint, say)
    is not found, like an unknown id."""
    pk = parse_id(value)
    if pk is None:
        raise NotFound("id")
    return pk


def refuse_writes_when_suspended(view: Any, request: Any) -> None:
    """A suspended administration answers reads as before and refuses every write (402), before
    the view parses anything. A view whose POST only reads (synchronization) says so with
    `reads_by_post`. The services refuse it too (notes.services.event_record), for the admin
    and the commands."""
    if request.method in ("GET", "HEAD", "OPTIONS") or getattr(view, "reads_by_post", False):
        return
    if view.administration.suspended:
        raise Suspended()


def reject_null_characters(query_params: Any) -> None:
    """A query parameter with a NUL character is a 400: PostgreSQL cannot take one in a string
    (a search or filter would fail inside the query), and no real value contains it."""
    for name, values in query_params.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            raise BadRequest(
                f"{name.replace(chr(0), '')} contains a null character", field=name, code="invalid"
            )


# DRF's codes where Moneybird (Rails) names the same failure otherwise.
_RAILS_CODES = {"max_length": "too_long"}


def _rails_code(code: str) -> str:
    return _RAILS_CODES.get(code, code)


def refuse_unknown_method(view: Any, request: Any) -> None:
    """A method the view does not serve is a 405 (with Allow) before the administration or
    organization it names is looked up: DRF only finds out after `initial`, where a foreign
    or unknown one would already have been a 404."""
    if request.method.lower() not in view.http_method_names or not hasattr(
        view, request.method.lower()
    ):
        raise MethodNotAllowed(request.method)


def validate_input(
    serializer_class: type[serializers.Serializer],
    data: Any,
    *,
    partial: bool = False,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Type-check a request body; any problem becomes a ValidationFailed (one shape per dialect
    is produced by its exception handler), so views never build error bodies."""
    if not isinstance(data, dict):
        raise ValidationFailed.single("base", "invalid", "expected a JSON object")
    plain = _plain_input(serializer_class, data, partial=partial, context=context or {})
    if plain is not None:
        return plain
    serializer = serializer_class(data=data, partial=partial, context=context or {})
    if not serializer.is_valid():
        errors: dict[str, list[FieldError]] = {}
        for field, details in serializer.errors.items():
            items = details if isinstance(details, list) else [details]
            errors["base" if field == "non_field_errors" else field] = [
                FieldError(_rails_code(getattr(d, "code", "invalid") or "invalid"), str(d))
                for d in items
            ]
        raise ValidationFailed(errors)
    # Only the keys the client sent: a partial update must not touch the rest.
    return {k: v for k, v in serializer.validated_data.items() if k in data}


class _Judged(Exception):
    """A value the plain path does not take as it is: the serializer judges it (and words the
    error, if any)."""


def _plain_input(
    serializer_class: type[serializers.Serializer],
    data: dict[str, Any],
    *,
    partial: bool,
    context: dict[str, Any],
) -> dict[str, Any] | None:
    """What validate_input returns for `data`, when every value given is of the kind its field
    takes as it is (a string for text, a bool, an int, an id, a timestamp in range, or null
    where allowed) and nothing required is missing; None otherwise, and for a serializer with
    fields or rules of its own, leaving the judgement and its errors to the serializer.
    Building a serializer (it deep-copies its fields) and running DRF's validation cost more
    than the rest of a write's own work, for answers this path gives alike."""
    checks = _plain_checks(serializer_class)
    if checks is None:
        return None
    validated: dict[str, Any] = {}
    try:
        for name, required, allow_null, check in checks:
            if name not in data:
                if required and not partial:
                    return None
                continue
            value = data[name]
            if value is None:
                if not allow_null:
                    return None
                validated[name] = None
            else:
                validated[name] = check(value, context)
    except _Judged:
        return None
    return validated


_PLAIN: dict[type, Any] = {}


def _plain_checks(serializer_class: type[serializers.Serializer]) -> Any:
    """Per field in declared order (the order of DRF's validated_data): its name, whether it
    is required and may be null, and the check of a non-null value; None when a field or the
    serializer has anything the checks do not repeat."""
    if serializer_class in _PLAIN:
        return _PLAIN[serializer_class]
    checks: list[tuple[str, bool, bool, Any]] | None = []
    own_rules = serializer_class.validate is not serializers.Serializer.validate or getattr(
        getattr(serializer_class, "Meta", None), "validators", None
    )
    for name, field in serializer_class().fields.items():
        check = None if own_rules or field.source != name or field.read_only else _check(field)
        if check is None or hasattr(serializer_class, f"validate_{name}") or checks is None:
            checks = None
            break
        checks.append((name, field.required, field.allow_null, check))
    _PLAIN[serializer_class] = checks
    return checks


def _check(field: serializers.Field) -> Any:
    """The check of a non-null value of `field`: the value as DRF would validate it, or
    _Judged when it is not one of the plain kinds the field takes as it is."""
    kind = type(field)
    if isinstance(field, serializers.CharField) and kind is serializers.CharField:
        known = (
            validators.MaxLengthValidator,
            validators.MinLengthValidator,
            validators.ProhibitNullCharactersValidator,
            ProhibitSurrogateCharactersValidator,
        )
        if not all(type(v) in known for v in field.validators):
            return None
        longest, shortest = field.max_length, field.min_length
        trim, blank = field.trim_whitespace, field.allow_blank

        def text(value: Any, context: Any) -> str:
            if type(value) is not str:
                raise _Judged
            if value == "" or (trim and not value.strip()):
                if not blank:
                    raise _Judged
                return ""
            if (
                (longest is not None and len(value) > longest)
                or (shortest is not None and len(value) < shortest)
                or "\x00" in value
                or (not value.isascii() and any(0xD800 <= ord(c) <= 0xDFFF for c in value))
            ):
                raise _Judged
            return value.strip() if trim else value

        return text
    if field.validators:
        return None
    if kind is serializers.BooleanField:

        def flag(value: Any, context: Any) -> bool:
            if value is True or value is False:
                return value
            raise _Judged

        return flag
    if kind is serializers.IntegerField:

        def integer(value: Any, context: Any) -> int:
            if type(value) is not int:
                raise _Judged
            return value

        return integer
    if kind is IdField:

        def record_id(value: Any, context: Any) -> int:
            pk = parse_id(value)
            if pk is None:
                raise _Judged
            return pk

        return record_id
    if kind is TimestampField:

        def timestamp(value: Any, context: Any) -> Any:
            try:
                return TimestampField.parse(value, context["time_zone"])
            except (ValueError, OverflowError, TypeError):
                raise _Judged from None

        return timestamp
    return None


# What the OpenAPI promises an id looks like: 1 to 19 digits without a leading zero, below
# 9 * 10**18. The server takes ids up to 2**63 - 1, which no regular expression says briefly;
# ids are made from a millisecond clock (common.ids) and stay below 9 * 10**18 until 2090, and
# a well-formed id above that names no record (a 404, which the schema documents too).
ID_PATTERN = r"^(?:[1-9][0-9]{0,17}|[1-8][0-9]{18})$"


ID_MAXIMUM = 9 * 10**18 - 1


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "pattern": ID_PATTERN},
            {"type": "integer", "minimum": 1, "maximum": ID_MAXIMUM},
        ],
        "description": "A record id: a string of digits, or a JSON number.",
    }
)
class IdField(serializers.Field):
    """A record id as clients send it: a JSON number or a string of digits."""

    default_error_messages = {"invalid": "is not a valid id"}

    def to_internal_value(self, data: Any) -> int:
        pk = parse_id(data)
        if pk is None:
            self.fail("invalid")
        return pk

    def to_representation(self, value: int) -> str | None:
        return render_id(value)


class OutOfRange(ValueError):
    """A time outside the range of common.limits."""


# The years of that range, as a pattern next to the format (JSON Schema has no bounds for a
# date-time); the edges in other offsets are the server's to check.
YEAR_PATTERN = r"^(?:19[0-9]{2}|2[0-9]{3})-"


@extend_schema_field(
    {
        "type": "string",
        "format": "date-time",
        "pattern": YEAR_PATTERN,
        "description": 'From 1900-01-01T00:00:00Z to 2999-12-31T23:59:59Z (README "Limits").',
    }
)
class TimestampField(serializers.Field):
    """ISO 8601 with any offset, or "2021-01-08 10:00:00 UTC"; no offset means the
    administration's time zone (context["time_zone"]). Only times in the range of
    common.limits are taken."""

    default_error_messages = {
        "invalid": "is not a valid date and time",
        "out_of_range": TIME_RANGE_MESSAGE,
    }

    @staticmethod
    def parse(data: Any, time_zone: Any) -> Any:
        """The time `data` names; TypeError (not a string), ValueError or OverflowError (not a
        time), or OutOfRange."""
        if not isinstance(data, str):
            raise TypeError(data)
        value = parse_datetime(data, default_tz=time_zone)
        if not time_in_range(value):
            raise OutOfRange(value)
        return value

    def to_internal_value(self, data: Any):
        try:
            return self.parse(data, self.context["time_zone"])
        except OutOfRange:
            self.fail("out_of_range")
        except (TypeError, ValueError, OverflowError):
            self.fail("invalid")

    def to_representation(self, value):
        return value.isoformat()
