"""Fixed-window rate limits per credential and per organization, kept in the cache so every
server process shares them (Redis when REDIS_URL is set, process memory otherwise).

Headers carry their standard meaning (IETF RateLimit fields): RateLimit-Limit is requests per
window, RateLimit-Remaining the requests left, RateLimit-Reset and Retry-After seconds until the
window resets. Moneybird sends the same names with other meanings (an epoch in Retry-After),
which makes well-behaved clients sleep for years; we keep the names and fix the meanings.
"""

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache

from common.exceptions import RateLimited

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Limit:
    requests: int
    window: int  # seconds

    @classmethod
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


def hit(bucket: str, limit: Limit, *, now: float | None = None) -> Usage:
    """Count one request in `bucket`'s current window and say what is left."""
    now = time.time() if now is None else now
    window_index = int(now // limit.window)
    key = f"ratelimit:{bucket}:{limit.window}:{window_index}"
    # add() is a no-op when the key exists, incr() is atomic on Redis: together they count
    # correctly across processes without a lock.
    cache.add(key, 0, timeout=limit.window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add() and incr()
        cache.add(key, 1, timeout=limit.window + 1)
        count = 1
    reset = max(1, int(limit.window - (now % limit.window)))
    return Usage(limit=limit.requests, remaining=limit.requests - count, reset=reset)


def limits_for(dialect: str) -> tuple[Limit, Limit]:
    """(per credential, per organization) limits of a dialect, from settings.RATE_LIMITS."""
    config = settings.RATE_LIMITS[dialect]
    return Limit.parse(config["credential"]), Limit.parse(config["organization"])


def enforce(*, dialect: str, credential: str, organization: str | None) -> Usage:
    """Count the request against the credential's and the organization's buckets; raise
    RateLimited when either is spent. Returns the tighter of the two for the headers."""
    credential_limit, organization_limit = limits_for(dialect)
    usages = [hit(f"{dialect}:credential:{credential}", credential_limit)]
    if organization is not None:
        usages.append(hit(f"{dialect}:organization:{organization}", organization_limit))
    spent = [u for u in usages if u.remaining < 0]
    if spent:
        worst = max(spent, key=lambda u: u.reset)
        raise RateLimited(retry_after=worst.reset, usage=Usage(worst.limit, 0, worst.reset))
    return min(usages, key=lambda u: (u.remaining, -u.reset))


if TYPE_CHECKING:  # the mixin's super() is the APIView it is mixed into
    from rest_framework.views import APIView as _ViewBase
else:
    _ViewBase = object


class RateLimitedViewMixin(_ViewBase):
    """For a dialect's base view: counts each authenticated request against its credential and
    its organization, and puts the RateLimit-* headers on every response."""

    rate_limit_dialect: str
    _rate_usage: Usage | None = None

    def check_rate_limit(self, request, organization_id: int | None) -> None:
        credential = getattr(request.auth, "credential_id", "") or f"user:{request.user.pk}"
        self._rate_usage = enforce(
            dialect=self.rate_limit_dialect,
            credential=credential,
            organization=None if organization_id is None else str(organization_id),
        )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._rate_usage is not None:
            for name, value in self._rate_usage.headers().items():
                response.headers.setdefault(name, value)
        return response
