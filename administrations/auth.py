"""The API-token credential. It lives with the tokens it reads; the shared bearer machinery (the
kinds, the Grant, the scope check) is common.auth, and settings name this class by path."""

from django.db.models import OuterRef, QuerySet, Subquery
from rest_framework import exceptions

from administrations.models import ApiToken, Membership
from common.auth import INVALID, BearerAuthentication, Grant, hash_token
from common.db import Prepared, checked_by_running


def _token_query(key_hash: str) -> QuerySet:
    """The token by its hash, with its user and administration and the user's role there
    (none when no longer a member): every request of a token bound to one administration then
    reaches it, and knows what the user may see, without a query of its own."""
    role = Membership.objects.filter(
        user=OuterRef("user_id"), administration=OuterRef("administration_id")
    ).values("role")[:1]
    return (
        ApiToken.objects.select_related("user", "administration")
        .annotate(role=Subquery(role))
        .filter(key_hash=key_hash, revoked_at__isnull=True, user__is_active=True)
        # The hash is unique: an ORDER BY would only add a sort to every request.
        .order_by()[:1]
    )


# Compiled once per connection: every request with an API token runs it.
_TOKEN = Prepared(_token_query, "str")


class ApiTokenAuthentication(BearerAuthentication):
    kind = "api_token"

    def authenticate_bearer(self, request, secret: str):
        key_hash = hash_token(secret)
        token = checked_by_running(lambda: _TOKEN.first(key_hash))
        if token is None:
            raise exceptions.AuthenticationFailed(INVALID)
        grant = Grant(
            "api_token",
            frozenset(token.scopes),
            token.administration_id,
            credential_id=f"api_token:{token.pk}",
            administration=token.administration if token.role else None,
            role=token.role,
        )
        return token.user, grant
