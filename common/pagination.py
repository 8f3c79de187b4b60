"""Moneybird's page/per_page paging with an RFC 8288 Link header."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from rest_framework.request import Request

from common.exceptions import BadRequest

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def _positive_int(request: Request, name: str, default: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    return int(raw) if raw.isascii() and raw.isdigit() else None


def page_from_request(request: Request, *, default_size: int | None = None) -> Page:
    size = _positive_int(request, "per_page", default_size or settings.MONEYBIRD_PER_PAGE_DEFAULT)
    if size is None or size < 1:
        raise BadRequest("per_page does not have a valid value", field="per_page", code="invalid")
    if size > MAX_PER_PAGE:
        # The message is the current API's; "symbolic" is what the older documents promise.
        raise BadRequest("per_page does not have a valid value", field="per_page", code="max")
    number = _positive_int(request, "page", 1)
    if number is None or number < 1 or number > 10**9:
        raise BadRequest("page does not have a valid value", field="page", code="invalid")
    return Page(number=number, size=size)


def link_header(request: Request, page: Page, *, total: int) -> str:
    """Absolute next/prev URLs that keep every other query parameter."""
    links = []
    last = max(1, -(-total // page.size))
    params = request.query_params.copy()
    base = request.build_absolute_uri(request.path)

    def url(number: int) -> str:
        params["page"] = str(number)
        params["per_page"] = str(page.size)
        return f"{base}?{urlencode(sorted(params.lists()), doseq=True)}"

    if page.number < last:
        links.append(f'<{url(page.number + 1)}>; rel="next"')
    if page.number > 1:
        links.append(f'<{url(min(page.number - 1, last))}>; rel="prev"')
    return ", ".join(links)
