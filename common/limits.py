"""The bounds on what a client may send, in one place: the services enforce them (so the admin
and commands obey them too), the serializers declare them (so the OpenAPI shows them) and the
README lists them."""

# Longer texts are pasted logs or abuse, not a description of work; every list page that holds
# one would carry it.
DESCRIPTION_MAX_LENGTH = 10_000

# A request body beyond this is refused with 413 before it is read or parsed
# (common.middleware.RequestBodyLimitMiddleware). The largest legitimate body, a contacts
# synchronization's id list, stays far below it.
REQUEST_BODY_MAX_BYTES = 1024 * 1024


def too_long_message(limit: int) -> str:
    """The message of every "too long" field error (Rails' wording, as Moneybird answers)."""
    return f"is too long (maximum is {limit} characters)"
