"""Bearer API tokens and per-endpoint scopes. Each view names the scopes it needs in
`required_scopes` (any one of them suffices); this module is the only place that checks them."""

import hashlib
import secrets

from rest_framework import authentication, exceptions, permissions

TOKEN_BYTES = 32


def generate_token() -> str:
    return secrets.token_hex(TOKEN_BYTES)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        from administrations.models import ApiToken

        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Token is invalid")
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=hash_token(header[1]), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Token is invalid")
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when no credentials were sent.
        return 'Bearer realm="api"'


def token_scopes(token: object) -> frozenset[str]:
    return frozenset(getattr(token, "scopes", None) or ())


class HasRequiredScopes(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        from common.exceptions import ScopeMissing

        if request.user is None or request.auth is None:
            raise exceptions.NotAuthenticated("Authentication credentials were not provided")
        required = getattr(view, "required_scopes", None)
        if required is None:
            raise RuntimeError(f"{type(view).__name__} does not declare required_scopes")
        if required and not token_scopes(request.auth) & set(required):
            raise ScopeMissing(required[0])
        return True
