"""Moneybird's synchronization pair, for any resource: GET .../synchronization lists every
record's id and version, POST .../synchronization {"ids": [...]} answers the records themselves.
A client compares the versions with its own copy and fetches only what changed; a record it holds
that the list leaves out was deleted."""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request

from common.exceptions import BadRequest
from common.ids import parse_id

# POST .../synchronization answers at most this many records.
SYNC_MAX = 100

VERSIONS = inline_serializer(
    "MoneybirdVersion",
    {
        "id": serializers.CharField(),
        "version": serializers.IntegerField(help_text="updated_at in epoch seconds"),
    },
    many=True,
)
IDS = inline_serializer(
    "MoneybirdIds",
    # None or [] is a 400 (requested_ids). Anything goes in the list: what is no id of a
    # record here is skipped (found by fuzzing: a schema of ids only refused what is answered).
    {
        "ids": serializers.ListField(
            child=serializers.JSONField(),
            min_length=1,
            max_length=SYNC_MAX,
            help_text="Record ids (numbers or strings of digits); values that are no id of a "
            "record here are skipped.",
        )
    },
)


def version(updated_at: datetime) -> int:
    """A record's version: updated_at in whole epoch seconds, which grows with every change a
    client must fetch."""
    return int(updated_at.timestamp())


def versions(queryset: QuerySet) -> list[dict[str, Any]]:
    """Id and version of every record of `queryset`, by id."""
    rows = queryset.order_by("id").values_list("id", "updated_at")
    return [{"id": str(pk), "version": version(at)} for pk, at in rows]


def requested_ids(request: Request, *, refuse_more: bool) -> list[int]:
    """The distinct record ids of a POST's {"ids": [...]}, in the order given. Values that are
    no id (malformed, negative, too large) are skipped: they name no record, like an unknown or
    foreign id. More than SYNC_MAX values: with `refuse_more` a 400, else (as Moneybird does for
    contacts) the first SYNC_MAX distinct ids count."""
    data = request.data
    ids = data.get("ids") if isinstance(data, dict) else None
    if ids is None or ids == [] or ids == "":
        raise BadRequest("Ids is required", field="ids", code="required")
    if not isinstance(ids, list):
        raise BadRequest("Ids is invalid", field="ids", code="invalid")
    if refuse_more and len(ids) > SYNC_MAX:
        raise BadRequest(
            f"Ids can hold at most {SYNC_MAX} ids; ask for the rest in another request",
            field="ids",
            code="max",
        )
    wanted: dict[int, None] = {}  # ordered and distinct
    for value in ids:
        pk = parse_id(value)
        if pk is not None:
            wanted[pk] = None
        if len(wanted) == SYNC_MAX:
            break
    return list(wanted)
