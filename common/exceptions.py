"""Errors the domain raises. They know nothing of HTTP or of either API dialect: each dialect's
exception handler (common/errors.py) turns them into its own error shape."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    code: str  # machine-readable, e.g. "blank"
    message: str  # human-readable, e.g. "can't be blank"


class ServiceError(Exception):
    pass


class ValidationFailed(ServiceError):
    """Input breaks a rule; nothing was written. Maps to 422 (Moneybird) / 422 VALIDATION_ERROR."""

    def __init__(self, errors: dict[str, list[FieldError]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {e.message}" for k, v in errors.items() for e in v))

    @classmethod
    def single(cls, field: str, code: str, message: str) -> "ValidationFailed":
        return cls({field: [FieldError(code, message)]})


class NotFound(ServiceError):
    """A record, or an id given in input, does not exist in the administration (or belongs to
    another one, which callers must not be able to tell apart)."""

    def __init__(self, field: str = "id", message: str = "record not found"):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class BadRequest(ServiceError):
    """Malformed request parameters (filter, paging): 400 naming the bad term."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        self.message = message
        self.field = field
        self.code = code
        super().__init__(message)


class Suspended(ServiceError):
    """The administration is suspended: it can be read, not changed. 402 in both dialects, as
    Moneybird answers a write its administration's plan does not allow."""

    def __init__(self) -> None:
        super().__init__("The administration is suspended: it can be read, not changed")


class ScopeMissing(ServiceError):
    """The token lacks the scope an endpoint needs."""

    def __init__(self, scope: str):
        self.scope = scope
        super().__init__(f"No access to {scope}")


class RateLimited(ServiceError):
    """Too many requests in the current window: 429 with Retry-After (seconds)."""

    def __init__(self, *, retry_after: int, usage: object = None):
        self.retry_after = retry_after
        self.usage = usage
        super().__init__(f"Rate limit exceeded; retry after {retry_after} seconds")


class PreconditionFailed(ServiceError):
    """If-Match named a version the record no longer has: 412, and nothing changed."""

    def __init__(self, current_tag: str):
        self.current_tag = current_tag
        super().__init__("The record has changed since the version in If-Match")


class Conflict(ServiceError):
    """The request clashes with one still being processed (an Idempotency-Key in use): 409."""

    def __init__(self, message: str, *, field: str | None = None):
        self.message = message
        self.field = field
        super().__init__(message)
