"""HTTP for webhooks, safe against server-side request forgery.

A receiver's host is resolved once; every address it resolves to is checked, and the request is
made to the checked address itself (the URL's host goes into the Host header, the TLS SNI and the
certificate check), so a DNS answer that changes between the check and the connect (rebinding)
can't point the push at an internal address. Redirects are never followed."""

import functools
import ipaddress
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

if TYPE_CHECKING:
    import requests
    from requests.adapters import HTTPAdapter

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services (AWS, GCP, Azure: 169.254.169.254; AWS over IPv6: fd00:ec2::254);
# both are also link-local or private, named here so that the refusal does not hinge on that.
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
}


class UnsafeURL(Exception):
    """The URL can't be pushed to: not http(s), no host, unresolvable, or an internal address."""


def address_is_internal(address: IPAddress) -> bool:
    """Loopback, private, link-local, multicast, unspecified, reserved, shared (CGNAT) or cloud
    metadata; an IPv4-mapped IPv6 address (::ffff:127.0.0.1) counts as its IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address in METADATA_ADDRESSES
        or address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or not address.is_global
    )


@dataclass(frozen=True)
class Target:
    """A URL resolved and checked: where to connect, and what to call the host."""

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        netloc = f"{literal}:{self.port}"
        return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def resolve(url: str, *, allow_private: bool | None = None) -> Target:
    """Resolve `url`'s host once and check every address; UnsafeURL names what is wrong."""
    if allow_private is None:
        allow_private = settings.WEBHOOK_ALLOW_PRIVATE_HOSTS
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeURL(f"is not a valid URL ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("must be an http or https URL with a host")
    if parts.username or parts.password:
        raise UnsafeURL("must not carry a user name or password")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeURL(f"has a host that does not resolve ({host})") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeURL(f"has a host that does not resolve ({host})")
    if not allow_private:
        internal = [a for a in addresses if address_is_internal(a)]
        if internal:
            raise UnsafeURL(f"resolves to an internal address ({internal[0]}), not allowed")
    return Target(url=url, scheme=parts.scheme, host=host, port=port, address=addresses[0])


# requests is imported by the functions that push, not above: the API's workers only check
# URLs (resolve), and requests with urllib3 is ~3.5 MiB of memory (README "Performance").


@functools.cache
def _pinned_host_adapter() -> type["HTTPAdapter"]:
    from requests.adapters import HTTPAdapter

    class _PinnedHostAdapter(HTTPAdapter):
        """Connects to the pinned address while TLS speaks to (SNI) and verifies the named
        host."""

        def __init__(self, hostname: str):
            self._hostname = hostname
            super().__init__(max_retries=0, pool_maxsize=4)

        def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
            pool_kwargs.update(server_hostname=self._hostname, assert_hostname=self._hostname)
            super().init_poolmanager(connections, maxsize, block, **pool_kwargs)

    return _PinnedHostAdapter


_sessions = threading.local()


def _session(target: Target) -> "requests.Session":
    """One keep-alive session per (thread, host, address): a busy receiver is not reconnected to
    for every push."""
    import requests
    from requests.adapters import HTTPAdapter

    cache = getattr(_sessions, "by_target", None)
    if cache is None:
        cache = _sessions.by_target = {}
    key = (target.scheme, target.host, target.port, target.address)
    session = cache.get(key)
    if session is None:
        session = requests.Session()
        session.trust_env = False  # no proxies from the environment: they'd bypass the check
        session.mount("https://", _pinned_host_adapter()(target.host))
        session.mount("http://", HTTPAdapter(max_retries=0, pool_maxsize=4))
        cache[key] = session
    return session


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (timeout, refused, TLS, ...)
    body: str
    retry_after: int | None = None


def post(target: Target, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to the checked address of `target`; never raises for the receiver's faults."""
    import requests

    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        response = _session(target).post(
            target.pinned_url,
            data=body,
            headers={**headers, "Host": target.host_header},
            timeout=(timeout, timeout),
            allow_redirects=False,
        )
    except requests.RequestException as error:
        return Answer(status=None, body=f"{type(error).__name__}: {error}"[:1000])
    return Answer(
        status=response.status_code,
        body=response.text[:1000],
        retry_after=_retry_after(response.headers.get("Retry-After")),
    )


def _retry_after(value: str | None) -> int | None:
    """Retry-After in seconds (an HTTP date counts too)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    from email.utils import parsedate_to_datetime

    from django.utils import timezone

    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int((moment - timezone.now()).total_seconds()))
