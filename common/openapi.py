"""The OpenAPI 3 description of both dialects (drf-spectacular): which routes it covers, the
error shapes each dialect answers in and the parameters many operations share. The routes that
serve the schema and its docs pages are in common/apidocs.py.

The views are plain APIViews with hand-built bodies, so each operation says what it takes and
answers with @extend_schema next to the view; the serializers used there only document."""

import inspect
from collections.abc import Callable
from typing import Any, Literal

from drf_spectacular import openapi
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers

from common.api import ID_PATTERN
from common.api.expensicat import ORGANIZATION_HEADER
from common.errors import _EXPENSICAT_CODES
from common.idempotency import IDEMPOTENCY_KEY, UNSAFE
from common.limits import REQUEST_BODY_MAX_BYTES
from common.pagination import (
    CURSOR_LIMIT_DEFAULT,
    CURSOR_LIMIT_MAX,
    CURSOR_MAX_LENGTH,
    MAX_PAGE_NUMBER,
    MAX_PER_PAGE,
    TOTAL_COUNT_CAP,
)

MONEYBIRD_PREFIX = "/api/v2/"
EXPENSICAT_PREFIX = "/api/v1/"

Endpoint = tuple[str, str, str, Any]  # (path, path_regex, method, view callback)


# --- which routes: preprocessing hooks (settings.SPECTACULAR_SETTINGS) ------------------------


def _under(endpoints: list[Endpoint], *prefixes: str) -> list[Endpoint]:
    return [e for e in endpoints if e[0].startswith(prefixes)]


def only_api_dialects(endpoints: list[Endpoint], **kwargs: Any) -> list[Endpoint]:
    """Both dialects; the sign-in pages and OAuth2's form endpoints are not JSON APIs."""
    return _under(endpoints, MONEYBIRD_PREFIX, EXPENSICAT_PREFIX)


def only_moneybird(endpoints: list[Endpoint], **kwargs: Any) -> list[Endpoint]:
    return _under(endpoints, MONEYBIRD_PREFIX)


def only_expensicat(endpoints: list[Endpoint], **kwargs: Any) -> list[Endpoint]:
    return _under(endpoints, EXPENSICAT_PREFIX)


# --- what every operation of a dialect shares ----------------------------------------------------


class AutoSchema(openapi.AutoSchema):
    """Tags each operation with its dialect and resource ("Moneybird: time entries"; notes get
    their own tag) and adds the parameters every operation of a dialect takes. Operation ids
    are given per operation (@extend_schema), prefixed by the dialect."""

    @property
    def dialect(self) -> str:
        return "Moneybird" if self.path.startswith(MONEYBIRD_PREFIX) else "Expensicat"

    def get_tags(self) -> list[str]:
        if not self.path.startswith((MONEYBIRD_PREFIX, EXPENSICAT_PREFIX)):
            return super().get_tags()
        tokens = self._tokenize_path()
        resource = "notes" if "notes" in tokens else tokens[0]
        return [f"{self.dialect}: {resource.replace('_', ' ').replace('-', ' ')}"]

    # drf-spectacular's own signature, which its stubs type as DRF's ViewInspector's.
    def get_description(self) -> str:  # type: ignore[override]
        # The method's own docstring only: the base views' docstrings are about the code.
        method = getattr(self.view, self.method.lower(), None)
        return (inspect.getdoc(method) or "") if method is not None else ""

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        # Any operation that takes a body may meet the body limit (common.middleware).
        responses = super()._get_response_bodies(direction)
        takes_body = self.method in ("POST", "PUT", "PATCH")
        if takes_body and self.path.startswith((MONEYBIRD_PREFIX, EXPENSICAT_PREFIX)):
            shape = MoneybirdError if self.dialect == "Moneybird" else ExpensicatError
            responses.setdefault(
                "413",
                self._get_response_for_code(
                    OpenApiResponse(shape, description=_TOO_LARGE), "413", direction=direction
                ),
            )
        if self.method in UNSAFE and self.path.startswith((MONEYBIRD_PREFIX, EXPENSICAT_PREFIX)):
            # Any write takes an Idempotency-Key (common.idempotency): a malformed one is a 400,
            # a repeat while the first is still running a 409, one used for another request (found
            # by fuzzing: undocumented on the writes without a 422 of their own) a 422.
            shape = MoneybirdError if self.dialect == "Moneybird" else ExpensicatError
            errors = _MONEYBIRD_ERRORS if self.dialect == "Moneybird" else _EXPENSICAT_ERRORS
            names = "`symbolic` names it" if self.dialect == "Moneybird" else "`details` names it"
            key_errors = {
                "400": f"A malformed Idempotency-Key header; {names}.",
                "422": "The Idempotency-Key was used for another request (method, path or body); "
                "nothing was changed.",
            }
            for status in ("400", "409", "422"):
                description = errors[int(status)]
                if status in key_errors and status not in responses:
                    description = key_errors[status]
                # Moneybird's 422 has its own shape (fields and their messages).
                answer = (
                    MoneybirdValidationError
                    if shape is MoneybirdError and status == "422"
                    else shape
                )
                responses.setdefault(
                    status,
                    self._get_response_for_code(
                        OpenApiResponse(answer, description=description),
                        status,
                        direction=direction,
                    ),
                )
            # A suspended administration refuses every write (common.api's
            # refuse_writes_when_suspended), but for a POST that only reads.
            if not getattr(self.view, "reads_by_post", False):
                responses.setdefault(
                    "402",
                    self._get_response_for_code(
                        OpenApiResponse(shape, description=_SUSPENDED), "402", direction=direction
                    ),
                )
        return responses

    def _map_serializer_field(
        self, field: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request":
            return schema
        # What DRF's fields take besides their type, said in the schema so that a client (and
        # the fuzzer) knows what is accepted: Moneybird clients send "true" and 2026 for a
        # boolean and a name, and the tests pin that they are read as true and "2026".
        if isinstance(field, serializers.DecimalField):
            return {**_decimal(field), **({"nullable": True} if field.allow_null else {})}
        lenient = _coercions(field)
        if lenient is None:
            return schema
        nullable = schema.pop("nullable", None)
        description = schema.pop("description", None)
        wrapped: dict[str, Any] = {"oneOf": [schema, *lenient]}
        if nullable:
            wrapped["nullable"] = True
        if description:
            wrapped["description"] = description
        return wrapped

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        if "oneOf" not in schema or "type" not in schema["oneOf"][0]:
            return super()._insert_field_validators(field, schema)
        # The field's own bounds go to its own type (_coercions' branches carry theirs).
        own = schema["oneOf"][0]
        super()._insert_field_validators(field, own)
        # Length bounds apply to strings only, so they may stand outside too, where a reader
        # of the property looks for them first.
        schema.update({k: own[k] for k in ("minLength", "maxLength") if k in own})

    def get_override_parameters(self) -> list[Any]:
        parameters = [*super().get_override_parameters(), RETRY_AFTER]
        if self.method in UNSAFE:
            parameters.append(IDEMPOTENCY_KEY)
        if self.path.startswith(EXPENSICAT_PREFIX):
            return [ORGANIZATION, *parameters]
        if "{administration_id}" in self.path:
            return [ADMINISTRATION_ID, *parameters]
        return parameters


def _any_case(words: list[str]) -> str:
    """A pattern for these words in any letter case (OpenAPI patterns have no flags)."""
    alternatives = [
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word) for word in words
    ]
    return "^(?:" + "|".join(alternatives) + ")$"


# DRF's BooleanField reads these strings (in any case) and 0 and 1.
_BOOLEAN_STRINGS = sorted(
    str(v)
    for v in serializers.BooleanField.TRUE_VALUES | serializers.BooleanField.FALSE_VALUES
    if isinstance(v, str)
)
# What a BooleanField reads as false, e.g. for a flag that may only be false.
FALSE_SCHEMA = {
    "oneOf": [
        {"type": "boolean", "enum": [False]},
        {
            "type": "string",
            "pattern": _any_case(
                sorted(v for v in serializers.BooleanField.FALSE_VALUES if isinstance(v, str))
            ),
        },
        {"type": "integer", "enum": [0]},
    ]
}


def _coercions(field: Any) -> list[dict[str, Any]] | None:
    """The other JSON types a DRF input field takes (and converts), or None: a plain CharField
    takes a number (as its text), a BooleanField "true"/"yes"/"0"... and 0 or 1, an IntegerField
    a string of digits (and ".0")."""
    if type(field) is serializers.CharField:
        # A JSON number's text is short (a float's at most 24 characters), unless a bound is.
        if field.max_length is None or field.max_length >= 32:
            return [{"type": "number"}]
        # Only numbers whose text fits (a float's text may be long, so whole numbers).
        digits = min(field.max_length - 1, 15)
        return [{"type": "integer", "minimum": -(10**digits) + 1, "maximum": 10**digits - 1}]
    if type(field) is serializers.BooleanField:
        return [
            {"type": "string", "pattern": _any_case(_BOOLEAN_STRINGS)},
            {"type": "integer", "enum": [0, 1]},
        ]
    if type(field) is serializers.IntegerField:
        low, high = field.min_value, field.max_value
        # Digits that stay inside the field's bounds whatever they are (the range is the
        # integer's; a string says less).
        repeat = f"{{1,{len(str(high)) - 1}}}" if high is not None else "+"
        sign = "" if low is not None and low >= 0 else "-?"
        return [{"type": "string", "pattern": rf"^\s*{sign}[0-9]{repeat}(?:\.0*)?\s*$"}]
    return None


def _decimal(field: serializers.DecimalField) -> dict[str, Any]:
    """A DecimalField as input: a string with at most its digits (drf-spectacular's pattern
    takes "-" and "."), or a whole JSON number in its range. A nullable one reads a blank string
    as null (DRF's DecimalField does; found by fuzzing)."""
    # Every DecimalField here states both (a DecimalField without them has no pattern to give).
    assert field.max_digits is not None and field.decimal_places is not None
    whole, places = field.max_digits - field.decimal_places, field.decimal_places
    unsigned = field.min_value is not None and field.min_value >= 0
    sign = "" if unsigned else "-?"
    number = rf"(?:[0-9]{{1,{whole}}}(?:\.[0-9]{{0,{places}}})?|\.[0-9]{{1,{places}}})"
    largest = 10**whole - 1
    # What str.strip() removes, around the number (or alone, when null is allowed).
    space = f"[{WHITE_SPACE}]*"
    optional = "?" if field.allow_null else ""
    return {
        "oneOf": [
            {
                "type": "string",
                "format": "decimal",
                "pattern": rf"^{space}(?:{sign}{number}){optional}{space}$",
            },
            {"type": "integer", "minimum": 0 if unsigned else -largest, "maximum": largest},
        ]
    }


ADMINISTRATION_ID = OpenApiParameter(
    "administration_id",
    str,
    OpenApiParameter.PATH,
    pattern=ID_PATTERN,
    description="An administration the credential reaches (GET /api/v2/administrations).",
)
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds until the rate-limit window resets.",
)
ORGANIZATION = OpenApiParameter(
    ORGANIZATION_HEADER,
    str,
    OpenApiParameter.HEADER,
    pattern=ID_PATTERN,
    description="The organization to act on. Needed only when the credential is bound to none "
    "and its user belongs to several; otherwise it may only repeat the bound one.",
)


def id_parameter(name: str, what: str) -> OpenApiParameter:
    """A record id in the path: digits, as a string (ids are strings on the wire)."""
    return OpenApiParameter(
        name, str, OpenApiParameter.PATH, pattern=ID_PATTERN, description=f"The {what}'s id."
    )


# Query parameter formats of our own: a grammar (a cursor the server made, a filter string) that
# no JSON Schema keyword states, which admits the empty value and says what it means.
CURSOR_FORMAT = "cursor"
TIME_ENTRIES_FILTER_FORMAT = "moneybird-time-entries-filter"
CONTACTS_FILTER_FORMAT = "moneybird-contacts-filter"
GRAMMAR_FORMATS = frozenset((CURSOR_FORMAT, TIME_ENTRIES_FILTER_FORMAT, CONTACTS_FILTER_FORMAT))


def whole_number(minimum: int, maximum: int) -> dict[str, Any]:
    """An integer parameter's schema with the bounds the server enforces."""
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


# --- Moneybird's parameters ------------------------------------------------------------------

MONEYBIRD_PAGING = [
    OpenApiParameter("page", whole_number(1, MAX_PAGE_NUMBER), description="Page number, from 1."),
    OpenApiParameter(
        "per_page",
        whole_number(1, MAX_PER_PAGE),
        description=f"Records per page, at most {MAX_PER_PAGE}.",
    ),
    OpenApiParameter(
        "X-Total-Count",
        int,
        OpenApiParameter.HEADER,
        response=[200],
        description=(
            f"The number of records on all pages together, when there are at most "
            f"{TOTAL_COUNT_CAP:,} or the count ran out before this page's end; otherwise left "
            "out for X-Total-Count-At-Least."
        ),
    ),
    OpenApiParameter(
        "X-Total-Count-At-Least",
        int,
        OpenApiParameter.HEADER,
        response=[200],
        description=(
            f"Instead of X-Total-Count when there are more than {TOTAL_COUNT_CAP:,} records "
            "(counted up to the cap, or past this page, and one): a large list is not counted "
            "to its end."
        ),
    ),
    OpenApiParameter(
        "Link",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description='RFC 8288 links to the next and previous page (rel="next", rel="prev").',
    ),
]


def moneybird_filter(
    description: str, *, pattern: str | None = None, format: str | None = None
) -> OpenApiParameter:
    """The `filter` parameter: a `pattern` when a regular expression says every valid filter,
    else a `format` of its own naming the grammar (dates, ranges and references a pattern
    cannot check); an unknown filter is a 400."""
    grammar = (
        "Terms `key:value` joined by commas; several values of a key joined by `|`; empty is "
        "the same as none."
    )
    schema: dict[str, Any] = {"type": "string"}
    if pattern is not None:
        schema["pattern"] = pattern
    if format is not None:
        schema["format"] = format
    return OpenApiParameter("filter", schema, description=f"{grammar} {description}")


# --- Expensicat's parameters -----------------------------------------------------------------

EXPENSICAT_PAGING = [
    # A format of its own: only a cursor the server handed out (or none) is valid, which no
    # pattern can say; a made-up one is a 400.
    OpenApiParameter(
        "cursor",
        {"type": "string", "format": CURSOR_FORMAT, "maxLength": CURSOR_MAX_LENGTH},
        description="`meta.next_cursor` of the previous page; opaque. Empty means the first page.",
    ),
    OpenApiParameter(
        "limit",
        whole_number(1, CURSOR_LIMIT_MAX),
        description=f"Records per page, 1 to {CURSOR_LIMIT_MAX} (default {CURSOR_LIMIT_DEFAULT}).",
    ),
]


class CursorMeta(serializers.Serializer):
    count = serializers.IntegerField(help_text="Records on this page.")
    next_cursor = serializers.CharField(
        allow_null=True, help_text="The `cursor` of the next page; null on the last page."
    )


def expensicat_data(name: str, item: type[serializers.Serializer]) -> serializers.Serializer:
    """Expensicat's envelope of one record, {"data": {...}}, as the component `<name>Data`."""
    return inline_serializer(f"{name}Data", {"data": item()})


def expensicat_page(name: str, item: type[serializers.Serializer]) -> serializers.Serializer:
    """Expensicat's envelope of a page, {"data": [...], "meta": {"count", "next_cursor"}}, as
    the component `<name>Page`."""
    return inline_serializer(f"{name}Page", {"data": item(many=True), "meta": CursorMeta()})


# --- the error shapes ----------------------------------------------------------------------------


class MoneybirdError(serializers.Serializer):
    error = serializers.CharField(help_text="What went wrong.")
    symbolic = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text='The parameter at fault and a code, e.g. {"per_page": "max"} or '
        '{"id": "not_found"}.',
    )


class MoneybirdFieldErrorCode(serializers.Serializer):
    error = serializers.CharField(help_text='A code such as "blank" or "invalid".')


class MoneybirdValidationError(serializers.Serializer):
    error = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Messages per attribute, e.g. {"started_at": ["can\'t be blank"]}.',
    )
    details = serializers.DictField(
        child=serializers.ListField(child=MoneybirdFieldErrorCode()),
        help_text='Codes per attribute, e.g. {"started_at": [{"error": "blank"}]}.',
    )


# Every code common.errors.expensicat_exception_handler answers with ("ERROR" for the rest).
EXPENSICAT_ERROR_CODES = [*dict.fromkeys(_EXPENSICAT_CODES.values()), "ERROR"]


class ExpensicatErrorBody(serializers.Serializer):
    code = serializers.ChoiceField(choices=EXPENSICAT_ERROR_CODES)
    message = serializers.CharField()
    details = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field or parameter; {} when there are none.",
    )


class ExpensicatError(serializers.Serializer):
    error = ExpensicatErrorBody()


_NOT_FOUND = "No such record here; a foreign one is not found either."
_SUSPENDED = "The administration is suspended: it can be read, not changed; nothing was written."
_TOO_LARGE = f"The request body is larger than {REQUEST_BODY_MAX_BYTES:,} bytes; nothing was read."
_RATE_LIMITED = "Too many requests; Retry-After says after how many seconds to try again."
_MONEYBIRD_ERRORS = {
    400: "A malformed parameter (paging, filter) or body; `symbolic` names it.",
    401: "No credential, an invalid or expired one, or one without the scope needed.",
    404: _NOT_FOUND,
    422: "The input breaks a rule; nothing was changed.",
    429: _RATE_LIMITED,
    409: "A request with this Idempotency-Key is still running; retry later.",
    412: "If-Match names a version the record no longer has; nothing was changed.",
}
_EXPENSICAT_ERRORS = {
    400: "A malformed parameter or body, or X-Organization-Id is needed; `details` names it.",
    401: "No credential, or an invalid or expired one.",
    403: "The credential lacks the scope needed, or a member asks for others' records.",
    404: _NOT_FOUND,
    422: "The input breaks a rule (code VALIDATION_ERROR); nothing was changed.",
    429: _RATE_LIMITED,
    409: "A request with this Idempotency-Key is still running (CONFLICT); retry later.",
    412: "If-Match names a version the record no longer has (PRECONDITION_FAILED).",
}


def moneybird_responses(ok: dict[int, Any], *errors: int) -> dict[int, Any]:
    """`ok` and the error statuses of a Moneybird operation: 401 and 429 always, and `errors`.
    A missing scope is a 401 here, as in Moneybird."""
    responses = dict(ok)
    for status in sorted({401, 429, *errors}):
        shape = MoneybirdValidationError if status == 422 else MoneybirdError
        responses[status] = OpenApiResponse(shape, description=_MONEYBIRD_ERRORS[status])
    return responses


def expensicat_responses(ok: dict[int, Any], *errors: int) -> dict[int, Any]:
    """`ok` and the error statuses of an Expensicat operation: 400 (which organization), 401,
    403 (scope), 404 (the organization) and 429 always, and `errors`."""
    responses = dict(ok)
    for status in sorted({400, 401, 403, 404, 429, *errors}):
        responses[status] = OpenApiResponse(ExpensicatError, description=_EXPENSICAT_ERRORS[status])
    return responses


NO_CONTENT = OpenApiResponse(description="Done; no body.")


def patch_and_put(operation_id: str, **kwargs: Any) -> Callable[[Any], Any]:
    """@extend_schema for a `put = patch` method: one function serving two operations, each
    with its own operation id (`operation_id` for PATCH, `<operation_id>_put` for PUT)."""

    def decorator(function: Any) -> Any:
        function = extend_schema(methods=["PATCH"], operation_id=operation_id)(function)
        function = extend_schema(methods=["PUT"], operation_id=f"{operation_id}_put")(function)
        return extend_schema(**kwargs)(function)

    return decorator


# --- what the services enforce on a body, stated in the schema --------------------------------

# Component name (as given to extend_schema_serializer / inline_serializer) -> its rules.
_BODY_RULES: dict[str, dict[str, Any]] = {}


def body_rules(
    component: str,
    *,
    required: tuple[str, ...] = (),
    required_when_partial: bool = False,
    not_null: tuple[str, ...] = (),
    not_blank: tuple[str, ...] = (),
    min_properties: int | None = None,
    one_of_named: tuple[str, ...] = (),
    fields: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Say in the OpenAPI what the service (not the serializer) enforces on a request body, so
    the schema accepts no body the server refuses for its shape. Several rules stay in the
    services so that all broken rules are reported together in the dialect's 422 (a missing
    start and a missing description, as Moneybird does); the serializer alone would document
    them as optional. `required` holds for PATCH too when `required_when_partial`; `not_blank`
    is a string with a non-space; `one_of_named` is at least one of them not blank; `fields`
    adds keywords to a property's schema (e.g. {"paused_duration": {"minimum": 0}})."""
    _BODY_RULES[component] = {
        "required": required,
        "required_when_partial": required_when_partial,
        "not_null": not_null,
        "not_blank": not_blank,
        "min_properties": min_properties,
        "one_of_named": one_of_named,
        "fields": fields or {},
    }


# What str.strip() takes away (and so DRF's CharField), spelled out: a pattern's `\s` is
# ECMAScript's, which leaves out the separators U+001C-U+001F and U+0085 and adds U+FEFF.
WHITE_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Some character other than white space or NUL, and no NUL anywhere.
NOT_BLANK = rf"^[^\x00]*[^\x00{WHITE_SPACE}][^\x00]*$"
NO_NUL = r"^[^\x00]*$"


def _own_type(schema: dict[str, Any]) -> dict[str, Any]:
    """A property's schema for its own type: the first branch when _coercions added others."""
    return schema["oneOf"][0] if "oneOf" in schema else schema


def _without_nul(schema: Any) -> None:
    """Every string of a request schema takes no NUL (DRF's CharField refuses one) unless it
    has a pattern or format of its own, which says more."""
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not ({"pattern", "format", "enum"} & set(schema)):
        schema["pattern"] = NO_NUL
    for value in schema.values():
        if isinstance(value, dict):
            _without_nul(value)
        elif isinstance(value, list):
            for item in value:
                _without_nul(item)


def enforced_body_rules(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook (settings.SPECTACULAR_SETTINGS): a string query parameter or body
    field takes no NUL character, a query parameter may be empty, body_rules() apply to the
    request components (`<name>Request`, and `Patched<name>Request` for PATCH), and a body with
    required attributes is required."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, rules in _BODY_RULES.items():
        for component, partial in ((f"{name}Request", False), (f"Patched{name}Request", True)):
            schema = schemas.get(component)
            if schema is None:
                continue
            properties = schema.get("properties", {})
            if rules["required"] and (rules["required_when_partial"] or not partial):
                schema["required"] = sorted({*schema.get("required", []), *rules["required"]})
            for field in (*rules["not_null"], *rules["not_blank"]):
                if field in properties:
                    properties[field].pop("nullable", None)
                    _own_type(properties[field]).pop("nullable", None)
            for field in rules["not_blank"]:
                if field in properties:
                    _own_type(properties[field])["pattern"] = NOT_BLANK
            for field, keywords in rules["fields"].items():
                if field in properties and "oneOf" in keywords:  # a schema of its own
                    properties[field] = {**keywords}
                elif field in properties:
                    _own_type(properties[field]).update(keywords)
                    if keywords.get("minimum", -1) >= 0:  # its digit strings have no sign
                        for branch in properties[field].get("oneOf", [])[1:]:
                            if "pattern" in branch:
                                branch["pattern"] = branch["pattern"].replace("-?", "")
            if rules["min_properties"] is not None:
                schema["minProperties"] = rules["min_properties"]
            if rules["one_of_named"] and not partial:
                named = {"type": "string", "pattern": NOT_BLANK}
                schema["anyOf"] = [
                    {"required": [field], "properties": {field: named}}
                    for field in rules["one_of_named"]
                ]
    for component, schema in schemas.items():
        if component.endswith("Request"):
            _without_nul(schema)
    for item in result.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                # common.api.reject_null_characters: PostgreSQL takes no NUL in a string.
                if parameter["in"] == "query":
                    _without_nul(parameter.get("schema"))
                    # Both dialects read `?name=` as if the parameter were left out (Django's
                    # forms and django-filter do, and every parser here follows them), which
                    # only an optional parameter may be. A grammar of our own says it itself.
                    own = parameter.get("schema", {}).get("format") in GRAMMAR_FORMATS
                    if not parameter.get("required") and not own:
                        parameter["allowEmptyValue"] = True
            body = operation.get("requestBody", {})
            for media in body.get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                if schemas.get(ref.rsplit("/", 1)[-1], {}).get("required"):
                    body["required"] = True
    return result


def comma_separated(item: str) -> str:
    """A pattern for a comma-separated list of `item`s (a pattern without anchors); blank items
    and the white space around one are left out by the server."""
    part = rf"\s*(?:{item})?\s*"
    return rf"^{part}(?:,{part})*$"


# A feed's cursor (notes.feed.Position): only one the server handed out, or none, is valid.
FEED_CURSOR = {"type": "string", "format": CURSOR_FORMAT}
# An action name, as the feeds' `action` filter takes it (notes.api.moneybird_events).
ACTION_NAME = r"[a-z][a-z0-9_]{0,63}"
