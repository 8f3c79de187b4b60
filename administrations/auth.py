"""The API-token credential. It lives with the tokens it reads; the shared bearer machinery (the
kinds, the Grant, the scope check) is common.auth, and settings name this class by path."""

from django.db.models import OuterRef, Subquery
from rest_framework import exceptions

from administrations.models import ApiToken, Membership
from common.auth import INVALID, BearerAuthentication, Grant, hash_token


class ApiTokenAuthentication(BearerAuthentication):
    kind = "api_token"

    def authenticate_bearer(self, request, secret: str):
        # The token's own administration comes in the same query, with the user's role there
        # (none when no longer a member): every request of a token bound to one administration
        # then reaches it, and knows what the user may see, without a query of its own.
        token = (
            ApiToken.objects.select_related("user", "administration")
            .annotate(
                role=Subquery(
                    Membership.objects.filter(
                        user=OuterRef("user_id"), administration=OuterRef("administration_id")
                    ).values("role")[:1]
                )
            )
            .filter(key_hash=hash_token(secret), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
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
