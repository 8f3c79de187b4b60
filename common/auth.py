"""Who is calling and what they may do.

Three bearer credentials reach the API: API tokens (an operator's long-lived secret, stored as a
hash), session JWTs (first-party sign-in with email and password) and OAuth2 access tokens
(third-party applications, django-oauth-toolkit). Each authentication class turns its credential
into a `Grant`, which is `request.auth` on every authenticated request. This module holds the
scope vocabulary of both dialects, the implications between them and the one scope check: each
view names the scopes it needs in `required_scopes` (any one of them suffices)."""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from rest_framework import authentication, exceptions, permissions

# --- the scope vocabulary -----------------------------------------------------------------------

MONEYBIRD_SCOPES = {
    "time_entries": "Read and change time entries, projects and contacts",
    "settings": "Read and change the administration's settings and members",
    "sales_invoices": "Read and change sales invoices",
    "documents": "Read and change documents",
    "estimates": "Read and change estimates",
    "bank": "Read bank transactions",
}
EXPENSICAT_SCOPES = {
    "entries:read": "Read time entries",
    "entries:write": "Create, change and delete time entries",
    "invoices:read": "Read invoices, customers and recurring invoices",
    "invoices:write": "Create and change invoices, customers and recurring invoices",
    "team:read": "See the members of the organization",
}
SCOPES = {**MONEYBIRD_SCOPES, **EXPENSICAT_SCOPES}
KNOWN_SCOPES = frozenset(SCOPES)
DEFAULT_SCOPES = ("time_entries", "settings", "sales_invoices")

# One credential serves both dialects, so each scope also grants what it covers in the other one.
# Moneybird's scopes are read-and-write: each implies both of its Expensicat halves. Within
# Expensicat, write implies read (a client that writes entries reads back what it wrote). The
# way back is taken only where nothing is widened: entries:write (so also entries:read) covers
# everything time_entries allows, but entries:read alone does not (Moneybird has no read-only
# time-entries scope), and team:read does not imply settings (which allows changes).
IMPLIES: dict[str, frozenset[str]] = {
    "time_entries": frozenset({"entries:read", "entries:write"}),
    "sales_invoices": frozenset({"invoices:read", "invoices:write"}),
    "settings": frozenset({"team:read"}),
    "entries:write": frozenset({"entries:read", "time_entries"}),
    "invoices:write": frozenset({"invoices:read", "sales_invoices"}),
}


def implied_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The scopes given plus everything they imply, transitively."""
    result = set(scopes)
    pending = list(result)
    while pending:
        for implied in IMPLIES.get(pending.pop(), ()):
            if implied not in result:
                result.add(implied)
                pending.append(implied)
    return frozenset(result)


# --- what a credential may do -------------------------------------------------------------------

GrantKind = Literal["api_token", "jwt", "oauth"]


@dataclass(frozen=True)
class Grant:
    """What the credential of a request may do: `request.auth` for every kind of credential.
    `scopes` always holds the implied scopes too; `administration_id` restricts the credential to
    one administration (None: every administration its user is a member of)."""

    kind: GrantKind
    scopes: frozenset[str]
    administration_id: int | None = None
    # Which credential this is (kind and record id), e.g. for per-credential rate limits.
    credential_id: str = ""
    # The Administration of `administration_id`, when it was read together with the credential
    # and its user is a member there: the tenant choke point (administrations.selectors) then
    # needs no query of its own.
    administration: Any = field(default=None, compare=False, repr=False)
    # The user's role there (owner, admin, member), read with it.
    role: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scopes", implied_scopes(self.scopes))

    @property
    def organization_id(self) -> int | None:
        """Expensicat's name for the same restriction."""
        return self.administration_id

    def allows(self, *scopes: str) -> bool:
        """True when any one of `scopes` is granted."""
        return not self.scopes.isdisjoint(scopes)


# --- reading the bearer credential --------------------------------------------------------------

TOKEN_BYTES = 32
# OAuth2 access and refresh tokens carry this prefix (see common.signin.oauth_token_generator),
# JWTs have three dot-separated parts and everything else is an API token: each authentication
# class recognises its own credentials, and an unknown one is refused by the API-token class.
OAUTH_TOKEN_PREFIX = "uwo_"
INVALID = "Token is invalid"


def generate_token() -> str:
    return secrets.token_hex(TOKEN_BYTES)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def bearer_kind(secret: str) -> GrantKind:
    if secret.startswith(OAUTH_TOKEN_PREFIX):
        return "oauth"
    if secret.count(".") == 2:
        return "jwt"
    return "api_token"


def bearer_token(request) -> str | None:
    """The credential of an `Authorization: Bearer <credential>` header; None without one."""
    header = authentication.get_authorization_header(request).decode("latin-1").split()
    if not header or header[0].lower() != "bearer":
        return None
    if len(header) != 2:
        raise exceptions.AuthenticationFailed(INVALID)
    return header[1]


class BearerAuthentication(authentication.BaseAuthentication):
    kind: GrantKind

    def authenticate(self, request):
        secret = bearer_token(request)
        if secret is None or bearer_kind(secret) != self.kind:
            return None
        return self.authenticate_bearer(request, secret)

    def authenticate_bearer(self, request, secret: str):
        raise NotImplementedError

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when no credentials were sent.
        return 'Bearer realm="api"'


class JWTAuthentication(BearerAuthentication):
    """Session JWTs from /api/auth/token: every scope, for the organization in their claim."""

    kind = "jwt"

    def authenticate_bearer(self, request, secret: str):
        # Imported here, not above: a server worker that only ever sees API tokens never loads
        # simplejwt (README "Performance", worker memory).
        from rest_framework_simplejwt.authentication import (
            JWTAuthentication as SimpleJWTAuthentication,
        )
        from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
        from rest_framework_simplejwt.tokens import AccessToken

        try:
            token = AccessToken(secret)  # type: ignore[arg-type]  # takes the encoded str too
            user = SimpleJWTAuthentication().get_user(token)
        except ExpiredTokenError:
            raise exceptions.AuthenticationFailed("Token has expired") from None
        except (TokenError, exceptions.AuthenticationFailed):
            # Unknown or deactivated user, changed password, wrong token type: all the same.
            raise exceptions.AuthenticationFailed(INVALID) from None
        organization_id = token.get("organization_id")
        return user, Grant(
            "jwt",
            KNOWN_SCOPES,
            int(organization_id) if organization_id else None,
            # Per person, not per access token: renewing a JWT must not renew the allowance.
            credential_id=f"jwt:{user.pk}",
        )


class OAuth2Authentication(BearerAuthentication):
    """OAuth2 access tokens, checked by django-oauth-toolkit; the scopes are those the user
    consented to."""

    kind = "oauth"

    def authenticate_bearer(self, request, secret: str):
        # Imported here for the same reason: oauthlib's server and endpoints load with it.
        from oauth2_provider.contrib.rest_framework import (
            OAuth2Authentication as DotOAuth2Authentication,
        )

        authenticated = DotOAuth2Authentication().authenticate(request)
        if authenticated is None:
            raise exceptions.AuthenticationFailed(INVALID)
        user, access_token = authenticated
        # No user: a client-credentials token, which acts for nobody and so reaches nothing.
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(INVALID)
        return user, Grant(
            "oauth", frozenset(access_token.scope.split()), credential_id=f"oauth:{access_token.pk}"
        )


# --- the one scope check -----------------------------------------------------------------------


def token_scopes(grant: object) -> frozenset[str]:
    if isinstance(grant, Grant):
        return grant.scopes  # implied already (Grant.__post_init__)
    return implied_scopes(getattr(grant, "scopes", None) or ())


class HasRequiredScopes(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        from common.exceptions import ScopeMissing

        if request.user is None or request.auth is None:
            raise exceptions.NotAuthenticated("Authentication credentials were not provided")
        required = getattr(view, "required_scopes", None)
        if required is None:
            raise RuntimeError(f"{type(view).__name__} does not declare required_scopes")
        if required and token_scopes(request.auth).isdisjoint(required):
            raise ScopeMissing(required[0])
        return True
