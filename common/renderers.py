from decimal import Decimal
from typing import Any

import orjson
from django.http import HttpResponse
from rest_framework.renderers import BaseRenderer


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"Cannot serialise {type(value).__name__}")


class JSONRenderer(BaseRenderer):
    """orjson: several times faster than json for the lists clients fetch most."""

    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data: Any, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_default)


def json_response(body: bytes, *, status: int = 200) -> HttpResponse:
    """A response whose body is already JSON (orjson.dumps of what JSONRenderer would render),
    with the headers JSONRenderer's gives: the hot reads skip building the data twice."""
    return HttpResponse(body, status=status, content_type=JSONRenderer.media_type)
