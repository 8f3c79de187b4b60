"""A small reading client for Moneybird's API: Moneybird's own, or another Uurwerk's Moneybird
dialect (the same API). It lists a resource page by page, following the Link header's
rel="next" rather than counting pages, waits out a 429 for as long as Retry-After says and
retries a 5xx or a dropped connection a few times; anything else is a MoneybirdApiError naming
the URL and the status. It writes nothing: import_moneybird (moneybird_import.py) does.
"""

import hashlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

API_PATH = "/api/v2"
PER_PAGE_MAX = 100
# 429s in a row for one request before giving up: a window's wait is normally enough, but other
# clients of the same administration may spend the next window first.
RATE_LIMIT_RETRIES = 5
# 5xx answers and dropped connections in a row for one request; waits of 1, 2, 4 s between.
SERVER_ERROR_RETRIES = 3
# Moneybird's windows are 5 minutes; a longer Retry-After is more likely a misreading.
MAX_WAIT = 600.0
# A 429 without a usable Retry-After.
DEFAULT_WAIT = 5.0
# Moneybird sends an epoch in Retry-After; seconds never come near it.
_EPOCH_FLOOR = 1_000_000_000
TIMEOUT = 60.0
USER_AGENT = "Uurwerk import_moneybird"
# import_source is 32 characters: a prefix and a digest of the server and administration.
SOURCE_PREFIX = "moneybird-api:"
_SOURCE_DIGEST = 32 - len(SOURCE_PREFIX)
_DEFAULT_PORTS = (80, 443)


class MoneybirdApiError(Exception):
    """A request that did not give a page: `status` is the HTTP status (None: no answer)."""

    def __init__(self, url: str, status: int | None, detail: str):
        self.url = url
        self.status = status
        self.detail = detail
        answer = f"answered {status}" if status is not None else "did not answer"
        super().__init__(f"GET {url} {answer}: {detail}")


@dataclass(frozen=True)
class Page:
    url: str
    items: list[Any]
    next_url: str | None
    # X-Total-Count, where the server sends it.
    total: int | None


def api_root(base_url: str) -> str:
    """The API's root from what an operator types: "https://moneybird.com" or the same with
    /api/v2; a trailing slash is dropped. Raises ValueError for anything but an http(s) URL."""
    url = base_url.strip().rstrip("/")
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # not a number, or out of range
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ValueError(f"{base_url!r} is not an http:// or https:// URL")
    if parts.query or parts.fragment:
        raise ValueError(f"{base_url!r} has a query or fragment")
    return url if url.endswith(API_PATH) else url + API_PATH


def retry_after_seconds(value: str | None, *, now: float) -> float:
    """Seconds to wait from a Retry-After header: seconds (RFC 9110, and Uurwerk), an epoch
    (Moneybird) or an HTTP date; kept between 1 s and MAX_WAIT."""
    seconds = DEFAULT_WAIT
    text = (value or "").strip()
    if text:
        try:
            seconds = float(text)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(text).timestamp() - now
            except (TypeError, ValueError):
                seconds = DEFAULT_WAIT
        else:
            if seconds >= _EPOCH_FLOOR:
                seconds -= now
    return min(max(seconds, 1.0), MAX_WAIT)


def _detail(response: requests.Response) -> str:
    """The reason an API gives, as short as it comes: Moneybird's {"error": "..."}, else the
    body's start, else the status's phrase."""
    reason = response.reason or ""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()[:200]
        return f"{reason}: {text}" if text else reason
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return f"{reason}: {error}" if reason else error
    return f"{reason}: {str(body)[:200]}" if reason else str(body)[:200]


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower()


class MoneybirdClient:
    """GETs of one administration's lists. `sleep` and `clock` are injectable so tests need not
    wait; `session` so that connections are reused (and tests may pass their own)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        administration_id: str,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        timeout: float = TIMEOUT,
    ):
        self.root = api_root(base_url)
        self.administration_id = str(administration_id)
        self.session = session or requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            }
        )
        self.sleep = sleep
        self.clock = clock
        self.timeout = timeout

    @property
    def administration_url(self) -> str:
        """Where the administration's resources live: what an import names as its origin."""
        return f"{self.root}/{self.administration_id}"

    @property
    def source(self) -> str:
        """The import_source of entries from this server and administration: the same for
        http and https and with or without a default port, so a re-run is recognised."""
        parts = urlsplit(self.root)
        port = "" if parts.port in (None, *_DEFAULT_PORTS) else f":{parts.port}"
        identity = f"{(parts.hostname or '').lower()}{port}{parts.path}/{self.administration_id}"
        return SOURCE_PREFIX + hashlib.sha256(identity.encode()).hexdigest()[:_SOURCE_DIGEST]

    def first_page(self, resource: str, params: Mapping[str, str | int]) -> Page:
        """The first page of a list such as "contacts" or "time_entries"."""
        url = f"{self.administration_url}/{resource}.json"
        prepared = requests.Request("GET", url, params=dict(params)).prepare().url
        return self._page(str(prepared))

    def pages(self, first: Page) -> Iterator[Page]:
        """`first`, then each page its Link header leads to."""
        seen = {first.url}
        page: Page | None = first
        while page is not None:
            yield page
            if page.next_url is None:
                return
            if page.next_url in seen:  # a server that links in a circle ends the list
                return
            seen.add(page.next_url)
            page = self._page(page.next_url)

    def _page(self, url: str) -> Page:
        response = self.get(url)
        try:
            items = response.json()
        except ValueError:
            raise MoneybirdApiError(url, response.status_code, "the answer is not JSON") from None
        if not isinstance(items, list):
            raise MoneybirdApiError(url, response.status_code, "expected a JSON array")
        total = response.headers.get("X-Total-Count", "")
        return Page(
            url=url,
            items=items,
            next_url=self._next_url(url, response),
            total=int(total) if total.isdigit() else None,
        )

    def _next_url(self, url: str, response: requests.Response) -> str | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        link = urljoin(url, link)
        # The token goes along with every request: never to another host, nor in clear text
        # when it was sent encrypted so far.
        scheme, host = _origin(link)
        root_scheme, root_host = _origin(self.root)
        if host != root_host:
            raise MoneybirdApiError(url, response.status_code, f"next page on another host: {link}")
        if root_scheme == "https" and scheme != "https":
            raise MoneybirdApiError(url, response.status_code, f"next page not https: {link}")
        return link

    def get(self, url: str) -> requests.Response:
        """A 200 answer for `url`; waits out 429s and retries 5xx and dropped connections."""
        rate_limited = failures = 0
        while True:
            try:
                response = self.session.get(url, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                failures += 1
                if failures > SERVER_ERROR_RETRIES:
                    raise MoneybirdApiError(url, None, type(exc).__name__) from None
                self.sleep(2.0 ** (failures - 1))
                continue
            except requests.RequestException as exc:  # too many redirects, a bad URL: no retry
                raise MoneybirdApiError(url, None, f"{type(exc).__name__}: {exc}") from None
            status = response.status_code
            if status == 429:
                rate_limited += 1
                if rate_limited > RATE_LIMIT_RETRIES:
                    raise MoneybirdApiError(
                        url, status, f"still rate limited after {RATE_LIMIT_RETRIES} waits"
                    )
                self.sleep(
                    retry_after_seconds(response.headers.get("Retry-After"), now=self.clock())
                )
                continue
            if status >= 500:
                failures += 1
                if failures > SERVER_ERROR_RETRIES:
                    raise MoneybirdApiError(url, status, _detail(response))
                self.sleep(2.0 ** (failures - 1))
                continue
            if status != 200:
                raise MoneybirdApiError(url, status, _detail(response))
            return response
