"""Conditional requests (RFC 9110 section 13) on one record: a strong ETag on GET, 304 for a
matching If-None-Match, and If-Match on PATCH, PUT and DELETE checked by the write service under
the row lock it takes (so two writers holding the same tag cannot both win)."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils.http import parse_etags
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from common.exceptions import PreconditionFailed

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# A record's version as the write services see it: the locked row.
Precondition = Callable[[Any], None]


def version_tag(pk: int, updated_at: datetime) -> str:
    """The record's strong entity tag: its id and updated_at to the microsecond, which every
    write service sets. The same record has the same tag in both dialects."""
    return f'"{pk}-{(updated_at - _EPOCH) // _MICROSECOND:x}"'


def record_tag(record: Any) -> str:
    return version_tag(record.pk, record.updated_at)


def _matches(header: str | None, tag: str, *, weak: bool) -> bool:
    if header is None:
        return False
    if header.strip() == "*":
        return True
    tags = parse_etags(header)
    if weak:  # If-None-Match compares weakly: W/"x" matches "x"
        tags = [t[2:] if t.startswith("W/") else t for t in tags]
    return tag in tags


def tagged(request: Request, response: Response, tag: str) -> Response:
    """`response` (a GET of the record, or a write's answer) with the record's ETag; a GET whose
    If-None-Match names the tag is a 304 without a body."""
    if request.method in ("GET", "HEAD") and _matches(
        request.headers.get("If-None-Match"), tag, weak=True
    ):
        response = Response(status=304)
    response["ETag"] = tag
    return response


def if_match(request: Request) -> Precondition | None:
    """What a write service calls with the locked record when the request has If-Match: it
    raises PreconditionFailed unless the record's current tag is among those named (or the
    header is `*`). None without the header: the write is unconditional, as before."""
    header = request.headers.get("If-Match")
    if header is None:
        return None

    def check(record: Any) -> None:
        current = record_tag(record)
        if not _matches(header, current, weak=False) or header.strip().startswith("W/"):
            raise PreconditionFailed(current)

    return check


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="Change only if the record's ETag is still this one (or `*`); otherwise 412 and "
    "nothing changes.",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="The ETag of a copy the client holds: 304 without a body while it is current.",
)
