"""What the bulk endpoints of both dialects share: reading the items, the ids and the atomic
flag, and the answer, one result per item in request order: {"index", "id", "status", "data"
or "error"}, where status and error are what the single request would have answered. A
dialect's bulk view is a BulkView that says how it renders an entry and a rolled-back item."""

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from common.exceptions import BadRequest, ServiceError, ValidationFailed
from common.flags import FALSE, TRUE, parse_flag
from common.ids import parse_id

BULK_MAX = 100
# What query_ids takes, for the OpenAPI: at most BULK_MAX parts, the first one not blank (blank
# ones are left out, and one must be left).
QUERY_IDS_PATTERN = rf"^\s*[^,\s\x00][^,\x00]*(?:,[^,\x00]*){{0,{BULK_MAX - 1}}}$"
# What items_of and given_ids take, for the OpenAPI (common.openapi.body_rules).
BULK_ITEMS = {"minItems": 1, "maxItems": BULK_MAX}
# A bulk create's items: any value is taken as an item and judged on its own (validated_items),
# so the schema says what the server does instead of the single create's shape, which a client
# finds in that operation's request body.
BULK_CREATE_ITEMS = {
    **BULK_ITEMS,
    "items": {
        "description": "The body of a single create. Each item is judged on its own: one that "
        "is not a valid body is answered 422 in its own result, and the others are written "
        "(unless atomic=true)."
    },
}
# A bulk update's ids: any value is taken and judged on its own (given_ids), as a bulk create's
# items are: one that cannot be an id is answered 404 in its own result.
BULK_IDS = {
    **BULK_ITEMS,
    "items": {
        "description": "An id: a string of digits or a number. One that cannot be an id is "
        "answered 404 in its own result, like an id that does not exist."
    },
}
# An item written and then rolled back (atomic=true), or never tried because another failed.
ROLLED_BACK = 424


def _any_case(word: str) -> str:
    """`word` as a regular expression matching it in any case (JSON Schema has no flags)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


# The flag vocabulary of common.flags (empty: the default) in a query string, and in a body,
# where a JSON true, false, 0 or 1 is a flag too and null the default: what atomic_flag takes.
_FLAG_WORDS = "|".join(_any_case(word) for word in sorted(TRUE | FALSE))
FLAG_TEXT = {"type": "string", "pattern": rf"^\s*(?:{_FLAG_WORDS})?\s*$"}
FLAG_BODY = {
    "oneOf": [{"type": "boolean"}, FLAG_TEXT, {"type": "integer", "enum": [0, 1]}],
    "nullable": True,
}

# The OpenAPI parameters every bulk endpoint takes.
ATOMIC = OpenApiParameter(
    "atomic",
    FLAG_TEXT,
    description='true: all or nothing (also accepted as `"atomic": true` in the body).',
)
QUERY_IDS = OpenApiParameter(
    "ids",
    {"type": "string", "pattern": QUERY_IDS_PATTERN},
    required=True,
    description=f"Comma-separated ids, at most {BULK_MAX}",
)


def result_fields(output: serializers.Serializer) -> dict[str, serializers.Field]:
    """The OpenAPI fields of one result, with `output` the dialect's rendering of the entry."""
    return {
        "index": serializers.IntegerField(help_text="The item's place in the request, from 0"),
        "id": serializers.CharField(allow_null=True),
        "status": serializers.IntegerField(
            help_text="What the single request would have answered; 424: rolled back because "
            "another item failed (atomic=true)"
        ),
        "data": output,
        "error": serializers.DictField(
            required=False, help_text="The single request's error body, when not written"
        ),
    }


def given_ids(values: Any, *, field: str = "ids") -> list[int | None]:
    """Ids as a client lists them (numbers or strings of digits); one that cannot be an id is
    None, which the item answers as not found."""
    if not isinstance(values, list) or not values:
        raise BadRequest(f"{field} must be a non-empty list of ids", field=field, code="invalid")
    if len(values) > BULK_MAX:
        raise BadRequest(f"At most {BULK_MAX} items per request", field=field, code="too_many")
    ids: list[int | None] = []
    for value in values:
        ids.append(parse_id(value))
    return ids


def query_ids(request: Request) -> list[int | None]:
    """?ids=1,2,3 of a bulk DELETE."""
    raw = request.query_params.get("ids", "")
    return given_ids([part.strip() for part in raw.split(",") if part.strip()] or raw or None)


def items_of(body: Any, key: str) -> list[Any]:
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise BadRequest(f"{key} must be a non-empty list", field=key, code="missing")
    if len(items) > BULK_MAX:
        raise BadRequest(f"At most {BULK_MAX} items per request", field=key, code="too_many")
    return items


def validated_items(items: Sequence[Any], validate: Callable[[dict[str, Any]], Any]) -> list[Any]:
    """Each item of a bulk create validated on its own: what `validate` makes of it, or the
    error it raised (an item that is no JSON object is a 422), which that item answers."""
    validated: list[Any] = []
    for item in items:
        try:
            if not isinstance(item, dict):
                raise ValidationFailed.single("base", "invalid", "expected a JSON object")
            validated.append(validate(item))
        except ServiceError as exc:
            validated.append(exc)
    return validated


def atomic_flag(request: Request) -> bool:
    """atomic=true in the query string or "atomic": true in the body: all or nothing. The query
    string's wins when both are given; either one that is no flag is a 400."""
    query = request.query_params.get("atomic")
    body = request.data.get("atomic") if isinstance(request.data, dict) else None
    try:
        in_body = parse_flag(body)
        return in_body if query is None else parse_flag(query)
    except ValueError:
        raise BadRequest("atomic must be true or false", field="atomic", code="invalid") from None


def bulk_results(
    view: Any,
    outcome: Any,
    ids: Sequence[int | None],
    rendered: Mapping[int, Any],
    *,
    status: int,
    rolled_back: Callable[[int], dict[str, Any]],
    rename: Callable[[ServiceError], ServiceError] = lambda exc: exc,
) -> list[dict[str, Any]]:
    """The results of a bulk write (timeentries.bulk.BulkOutcome): an error is rendered by
    the view's own exception handler, as the single request would answer it; with a rolled
    back atomic request every other item says which item failed."""
    handler, context = view.get_exception_handler(), view.get_exception_handler_context()
    failed = next(
        (i for i, result in enumerate(outcome.results) if isinstance(result, ServiceError)), None
    )
    answers = []
    for index, result in enumerate(outcome.results):
        pk = result if isinstance(result, int) else ids[index] if index < len(ids) else None
        answer: dict[str, Any] = {"index": index, "id": None if pk is None else str(pk)}
        if isinstance(result, ServiceError):
            response = handler(rename(result), context)
            answer.update(status=response.status_code, error=response.data)
        elif outcome.rolled_back:
            given = ids[index] if index < len(ids) else None
            answer.update(
                id=None if given is None else str(given),
                status=ROLLED_BACK,
                error=rolled_back(failed or 0),
            )
        else:
            answer.update(status=status, data=rendered.get(pk) if pk is not None else None)
        answers.append(answer)
    return answers


class BulkView:
    """What a dialect's bulk view (an APIView) adds to its base view: run a bulk write with the
    request's atomic flag and answer with bulk_results. The dialect says how it renders the
    entries written, the body of an item rolled back, and (if it has its own field names) an
    item's error, and wraps the results in its envelope."""

    def bulk_rendered(self, ids: list[int]) -> Mapping[int, Any]:
        """The entries written (by id), rendered as the single request answers them."""
        raise NotImplementedError

    def bulk_rolled_back(self, failed: int) -> dict[str, Any]:
        """The error body of an item not written because item `failed` failed (atomic)."""
        raise NotImplementedError

    def bulk_renamed(self, exc: ServiceError) -> ServiceError:
        return exc

    def bulk_response(self, results: list[dict[str, Any]]) -> Response:
        return Response(results)

    def bulk_write(
        self,
        write: Callable[..., Any],
        given: Sequence[int | None],
        status: int,
        /,
        **arguments: Any,
    ) -> Response:
        """`write(**arguments, atomic=...)` (a bulk service returning a BulkOutcome), answered
        per item: `status` and the entry for an item written (nothing for a delete, 204).
        `given` are the ids the request named (none for a create)."""
        request: Request = self.request  # type: ignore[attr-defined]
        outcome = write(**arguments, atomic=atomic_flag(request))
        written = [result for result in outcome.results if isinstance(result, int)]
        rendered = (
            {}
            if outcome.rolled_back or status == 204 or not written
            else self.bulk_rendered(written)
        )
        return self.bulk_response(
            bulk_results(
                self,
                outcome,
                given,
                rendered,
                status=status,
                rolled_back=self.bulk_rolled_back,
                rename=self.bulk_renamed,
            )
        )
