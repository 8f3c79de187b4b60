"""Fixed-window rate limits per credential and per organization, kept in the cache so every
server process shares them (Redis when REDIS_URL is set, process memory otherwise).

Headers carry their standard meaning (IETF RateLimit fields): RateLimit-Limit is requests per
window, RateLimit-Remaining the requests left, RateLimit-Reset and Retry-After seconds until the
window resets. Moneybird sends the same names with other meanings (an epoch in Retry-After),
which makes well-behaved clients sleep for years; we keep the names and fix the meanings.
"""

import contextlib
import functools
import hashlib
import os
import re
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache

from common.exceptions import RateLimited

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Limit:
    requests: int
    window: int  # seconds

    @classmethod
    @functools.lru_cache(maxsize=64)  # read from settings on every request
    def parse(cls, text: str) -> "Limit":
        """ "150/300" = 150 requests per 300 seconds."""
        match = _SPEC.match(text)
        if not match or int(match[1]) < 1 or int(match[2]) < 1:
            raise ValueError(f"rate limit {text!r} is not REQUESTS/SECONDS")
        return cls(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class Usage:
    limit: int
    remaining: int  # negative once the window is spent
    reset: int  # seconds until the window resets

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.remaining)),
            "RateLimit-Reset": str(self.reset),
        }


# INCR, and a new key's expiry, for every key in one round trip; atomic on the server, so a key
# is never left counting without its expiry (which a pipelined INCR and EXPIRE could leave when
# the connection drops between the two).
_COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('EXPIRE', key, ARGV[i]) end
  counts[i] = count
end
return counts
"""
# Per Django cache client (per thread, as Django's caches are): a connection made as its pool
# makes them, kept for the counters (see _count_on_redis); and the script's SHA1.
_connections: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()
# Those of them with a count sent whose answer is not read yet (see _count_on_redis).
_awaiting: "weakref.WeakSet[Any]" = weakref.WeakSet()
_SCRIPT_SHA = hashlib.sha1(_COUNT_SCRIPT.encode()).hexdigest()


def _count(keys: list[tuple[str, int]]) -> Callable[[], list[int]]:
    """Count one request under each (key, timeout in seconds); the function returned gives the
    counts. On Redis the command is sent now and its answer read when the function is called,
    so that the caller may wait for something else meanwhile; elsewhere it is counted now."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        # make_key, not make_and_validate_key: these keys are ours (ASCII, no spaces, short),
        # and validating them character by character for memcached cost more than counting.
        names = [backend.make_key(key) for key, _ in keys]
        return _count_on_redis(backend, names, [timeout for _, timeout in keys])
    counts = []
    for key, timeout in keys:
        # add() is a no-op when the key exists, incr() is atomic: together they count correctly
        # without a lock.
        backend.add(key, 0, timeout=timeout)
        try:
            counts.append(backend.incr(key))
        except ValueError:  # the key expired between add() and incr()
            backend.add(key, 1, timeout=timeout)
            counts.append(1)
    return lambda: counts


def _window(bucket: str, limit: Limit, now: float) -> tuple[tuple[str, int], int]:
    """The bucket's key in the current window with its timeout, and seconds until it resets."""
    key = f"ratelimit:{bucket}:{limit.window}:{int(now // limit.window)}"
    return (key, limit.window + 1), max(1, int(limit.window - (now % limit.window)))


def _usages(
    buckets: list[tuple[str, Limit]], now: float | None = None
) -> Callable[[], list[Usage]]:
    now = time.time() if now is None else now
    windows = [_window(bucket, limit, now) for bucket, limit in buckets]
    counts = _count([key for key, _ in windows])

    def usages() -> list[Usage]:
        return [
            Usage(limit=limit.requests, remaining=limit.requests - count, reset=reset)
            for (_, limit), (_, reset), count in zip(buckets, windows, counts(), strict=True)
        ]

    return usages


def hit(bucket: str, limit: Limit, *, now: float | None = None) -> Usage:
    """Count one request in `bucket`'s current window and say what is left."""
    return _usages([(bucket, limit)], now)()[0]


def limits_for(dialect: str) -> tuple[Limit, Limit]:
    """(per credential, per organization) limits of a dialect, from settings.RATE_LIMITS."""
    config = settings.RATE_LIMITS[dialect]
    return Limit.parse(config["credential"]), Limit.parse(config["organization"])


def begin(*, dialect: str, credential: str, organization: str | None) -> Callable[[], Usage]:
    """enforce() in two halves: the request is counted now (on Redis: the command is sent), and
    the function returned takes the answer, raising RateLimited as enforce() does."""
    credential_limit, organization_limit = limits_for(dialect)
    buckets = [(f"{dialect}:credential:{credential}", credential_limit)]
    if organization is not None:
        buckets.append((f"{dialect}:organization:{organization}", organization_limit))
    usages = _usages(buckets)  # one round trip to Redis for both

    def usage() -> Usage:
        found = usages()
        spent = [u for u in found if u.remaining < 0]
        if spent:
            worst = max(spent, key=lambda u: u.reset)
            raise RateLimited(retry_after=worst.reset, usage=Usage(worst.limit, 0, worst.reset))
        return min(found, key=lambda u: (u.remaining, -u.reset))

    return usage


def enforce(*, dialect: str, credential: str, organization: str | None) -> Usage:
    """Count the request against the credential's and the organization's buckets; raise
    RateLimited when either is spent. Returns the tighter of the two for the headers."""
    return begin(dialect=dialect, credential=credential, organization=organization)()


# Where a request keeps what counting it gave (a Usage, or the RateLimited it raised), so that a
# request counted by a hot read (common.middleware.HotReadMiddleware) and then handed to its view
# is not counted twice; or, until count_request takes it, a count begun ahead (_Ahead). Not a
# header's key (those are HTTP_*): no client can set it.
COUNTED = "uurwerk.rate_limit"
# (dialect, credential key): the buckets (credential, organization) its requests were counted
# under in this process. A credential's record id and organization never change, so the next
# request with it can be counted before its credential is read (count_ahead).
_buckets_seen: dict[tuple[str, str], tuple[str, str | None]] = {}
_BUCKETS_SEEN_MAX = 10_000


def credential_key(request: Any, selector: str) -> str | None:
    """What names a request's credential and the organization it asks for, for count_ahead,
    without being the credential: a hash of its Authorization header and `selector` (see
    RateLimitedViewMixin.rate_limit_selector). None without a credential."""
    header = request.META.get("HTTP_AUTHORIZATION")
    if not header:
        return None
    return hashlib.sha256(f"{selector}\0{header}".encode()).hexdigest()


class _Ahead(NamedTuple):
    buckets: tuple[str, str | None]
    usage: Callable[[], Usage]


def count_ahead(request: Any, *, dialect: str, credential_key: str) -> None:
    """Begin counting the request under the buckets its credential had before in this process
    (`credential_key` names the credential without being it, e.g. a token's hash), so that
    Redis counts while the database reads the credential; count_request takes the answer.
    Nothing for a credential not seen yet. A credential that turns out invalid (revoked) was
    counted once more than the view would count it: count_abandoned forgets it."""
    buckets = _buckets_seen.get((dialect, credential_key))
    if buckets is not None and COUNTED not in request.META:
        credential, organization = buckets
        usage = begin(dialect=dialect, credential=credential, organization=organization)
        request.META[COUNTED] = _Ahead(buckets, usage)


def count_abandoned(request: Any, *, dialect: str, credential_key: str) -> None:
    """The request will not be counted (its credential failed): take a count begun ahead and
    forget the credential, so that its next request is not counted before it is read."""
    _buckets_seen.pop((dialect, credential_key), None)
    ahead = request.META.get(COUNTED)
    if isinstance(ahead, _Ahead):
        del request.META[COUNTED]
        # Read only to keep the connection in step: spent or not, failed or not, it is not
        # this request's answer (a connection that failed is replaced on the next count).
        with contextlib.suppress(Exception):
            ahead.usage()


def count_request(
    request: Any,
    *,
    dialect: str,
    auth: Any,
    user: Any,
    organization_id: int | None,
    credential_key: str | None = None,
) -> Usage:
    """enforce() for a request, once per request however often it is asked; a count begun
    ahead under the same buckets is taken instead. With `credential_key`, the buckets are
    remembered for count_ahead."""
    credential = getattr(auth, "credential_id", "") or f"user:{user.pk}"
    organization = None if organization_id is None else str(organization_id)
    counted = request.META.get(COUNTED)
    if isinstance(counted, _Ahead):
        taken: Usage | RateLimited
        try:
            taken = counted.usage()
        except RateLimited as exc:
            taken = exc
        # Other buckets than the credential's now (it cannot happen: see _buckets_seen) would
        # have counted the wrong ones: counted anew.
        counted = taken if counted.buckets == (credential, organization) else None
    if counted is None:
        try:
            counted = enforce(dialect=dialect, credential=credential, organization=organization)
        except RateLimited as exc:
            counted = exc
    request.META[COUNTED] = counted
    if credential_key is not None:
        if len(_buckets_seen) >= _BUCKETS_SEEN_MAX:
            _buckets_seen.clear()
        _buckets_seen[dialect, credential_key] = (credential, organization)
    if isinstance(counted, RateLimited):
        raise counted
    return counted


if TYPE_CHECKING:  # the mixin's super() is the APIView it is mixed into
    from rest_framework.views import APIView as _ViewBase
else:
    _ViewBase = object


class RateLimitedViewMixin(_ViewBase):
    """For a dialect's base view: counts each authenticated request against its credential and
    its organization, and puts the RateLimit-* headers on every response. A credential seen
    before is counted ahead (count_ahead): Redis counts while the database reads the
    credential."""

    rate_limit_dialect: str
    _rate_usage: Usage | None = None
    _rate_key: str | None = None

    def rate_limit_selector(self, request) -> str:
        """What in the request, besides its credential, picks the organization it is counted
        under (a path's administration id, a header); the dialects' base views say."""
        return ""

    def initial(self, request, *args, **kwargs):
        self._rate_key = credential_key(request, self.rate_limit_selector(request))
        if self._rate_key is not None:
            count_ahead(request, dialect=self.rate_limit_dialect, credential_key=self._rate_key)
        super().initial(request, *args, **kwargs)

    def check_rate_limit(self, request, organization_id: int | None) -> None:
        self._rate_usage = count_request(
            request,
            dialect=self.rate_limit_dialect,
            auth=request.auth,
            user=request.user,
            organization_id=organization_id,
            credential_key=self._rate_key,
        )

    def finalize_response(self, request, response, *args, **kwargs):
        if self._rate_key is not None and isinstance(request.META.get(COUNTED), _Ahead):
            # Refused before it was counted (credential, scope, method, administration).
            count_abandoned(request, dialect=self.rate_limit_dialect, credential_key=self._rate_key)
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._rate_usage is not None:
            for name, value in self._rate_usage.headers().items():
                response.headers.setdefault(name, value)
        return response


def _count_on_redis(
    backend: RedisCache, names: list[str], timeouts: list[int]
) -> Callable[[], list[int]]:
    """The script run on a connection kept for it, its command written to the socket now and
    its answer (a few integers) read from it by the function returned: redis-py's client
    around a command (a client per call in Django's cache, the pool's checkout, retries, the
    script object, its reply parser) cost more CPU than the round trip, on every API request.
    redis-py still makes the connection (address, password, database, TLS). A connection that
    fails is dropped and the command sent once more on a new one (a count may then land
    twice); a server that lost its scripts (a restart) is given it again. A connection whose
    answer was never read (its caller failed in between) is out of step with its commands:
    the next count drops it and makes a new one."""
    # Imported here: redis-py is loaded by the Redis cache backend only (it pulls in more, e.g.
    # cryptography), and a worker on the embedded default never needs it.
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import ResponseError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    failures = (OSError, RedisConnectionError, RedisTimeoutError)
    cache_client: Any = backend._cache  # its pool is private API, as the stubs say
    command = _resp_command(b"EVALSHA", _SCRIPT_SHA, len(names), *names, *timeouts)

    def connected() -> Any:
        held = _connections.get(cache_client)
        if held is None or held.pid != os.getpid():
            pool = cache_client._get_connection_pool(write=True)
            held = _connections[cache_client] = pool.connection_class(**pool.connection_kwargs)
        if held in _awaiting:
            held.disconnect()
            _awaiting.discard(held)
        if held._sock is None:
            held.connect()
        return held

    def answered(held: Any, reply: Any) -> list[int]:
        if isinstance(reply, _RedisError) and reply.message.startswith(b"NOSCRIPT"):
            _round_trip(held._sock, _resp_command(b"SCRIPT", b"LOAD", _COUNT_SCRIPT))
            reply = _round_trip(held._sock, command)
        if isinstance(reply, _RedisError):
            # Redis answered, with an error: raised as redis-py raises it, not retried.
            raise ResponseError(reply.message.decode(errors="replace"))
        return reply

    sent = None
    try:
        sent = connected()
        sent._sock.sendall(command)
        _awaiting.add(sent)
    except failures:
        if sent is not None:
            sent.disconnect()
        sent = None  # sent again, on a new connection, when the answer is asked for

    taken: list[list[int]] = []

    def answer() -> list[int]:
        if sent is not None:
            try:
                return answered(sent, _read_reply(sent._sock))
            except failures:
                sent.disconnect()
            finally:
                _awaiting.discard(sent)
        held = None
        try:
            held = connected()
            return answered(held, _round_trip(held._sock, command))
        except failures:
            if held is not None:
                held.disconnect()
            raise

    def counts() -> list[int]:
        # Read once: a second read would wait for an answer that never comes.
        if not taken:
            taken.append(answer())
        return taken[0]

    return counts


@dataclass(frozen=True)
class _RedisError:
    message: bytes


def _resp_command(*parts: str | bytes | int) -> bytes:
    """A command in Redis's wire format (RESP): an array of bulk strings."""
    encoded = [part if isinstance(part, bytes) else str(part).encode() for part in parts]
    items = b"".join(b"$%d\r\n%b\r\n" % (len(part), part) for part in encoded)
    return b"*%d\r\n%b" % (len(encoded), items)


def _round_trip(sock: Any, command: bytes) -> Any:
    """Send `command` and read its whole reply."""
    sock.sendall(command)
    return _read_reply(sock)


def _read_reply(sock: Any) -> Any:
    """The whole reply to the command sent last: a list of integers (the script's counts), a
    bulk string (SCRIPT LOAD's SHA1) or an error, the only replies these commands have."""
    buffer = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("Redis closed the connection")
        buffer += chunk
        reply = _parsed(buffer)
        if reply is not None:
            return reply


def _parsed(buffer: bytes) -> Any:
    """The reply in `buffer`, or None while it is incomplete."""
    lines = buffer.split(b"\r\n")
    if len(lines) < 2:  # not even the first line's end
        return None
    kind, first = buffer[:1], lines[0][1:]
    if kind == b"-":
        return _RedisError(first)
    if kind == b"$":
        return lines[1] if len(lines) >= 3 else None
    if kind == b"*":
        count = int(first)
        if len(lines) < count + 2:
            return None
        if not all(line[:1] == b":" for line in lines[1 : count + 1]):
            raise ConnectionError(f"unexpected reply from Redis: {buffer[:80]!r}")
        return [int(line[1:]) for line in lines[1 : count + 1]]
    raise ConnectionError(f"unexpected reply from Redis: {buffer[:80]!r}")
