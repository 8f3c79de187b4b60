"""Signing in: the login and consent pages, session JWTs and OAuth2.

- `/auth/login`, `/auth/logout`: email and password, plain HTML forms (no JavaScript).
- `/api/auth/token` (+ `/refresh`): session JWTs for first-party clients, answering errors in
  Expensicat's shape like the rest of `/api/auth/`.
- OAuth2 by django-oauth-toolkit: the authorization-code flow with PKCE, refresh tokens and
  revocation, on Expensicat's paths (`/api/auth/oauth2/...`) and on Moneybird's (`/oauth/...`).
  Applications are registered with `manage.py create_oauth_app` or in the admin.

What each credential may do is decided in common/auth.py."""

import json
import secrets

from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.urls import path
from oauth2_provider import views as oauth_views
from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator as DotOAuth2Validator
from oauth2_provider.scopes import BaseScopes
from rest_framework import exceptions, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from administrations.models import User
from common.auth import DEFAULT_SCOPES, OAUTH_TOKEN_PREFIX, SCOPES
from common.errors import expensicat_exception_handler
from common.exceptions import BadRequest, ValidationFailed

# --- django-oauth-toolkit's hooks (named in settings.OAUTH2_PROVIDER) ---------------------------


class VocabularyScopes(BaseScopes):
    """The scopes an application may ask for: the vocabulary of common/auth.py."""

    def get_all_scopes(self) -> dict[str, str]:
        return dict(SCOPES)

    def get_available_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        return list(SCOPES)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        return list(DEFAULT_SCOPES)


class OAuth2Validator(DotOAuth2Validator):
    def is_pkce_required(self, client_id, request) -> bool:
        """Always for public clients (they cannot keep a secret), whatever the settings say;
        for confidential clients as PKCE_REQUIRED says (on: RFC 9700 wants it of every
        client). A challenge sent is always checked: oauthlib checks every one it was given."""
        client = getattr(request, "client", None)
        if client is None:
            client = get_application_model().objects.filter(client_id=client_id).first()
        if client is None or client.client_type == client.CLIENT_PUBLIC:
            return True
        return super().is_pkce_required(client_id, request)


def oauth_token_generator(request) -> str:
    """Access and refresh tokens; the prefix tells them apart from API tokens and JWTs."""
    return OAUTH_TOKEN_PREFIX + secrets.token_urlsafe(32)


# --- OAuth2 endpoints -------------------------------------------------------------------------


class AuthorizeView(oauth_views.AuthorizationView):
    """The consent page: a signed-in user allows or denies an application its scopes."""

    template_name = "signin/authorize.html"


class FormFromJson:
    """django-oauth-toolkit reads token and revocation requests as form data (RFC 6749); this
    also accepts the same parameters as a JSON object, as Expensicat's clients send them."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.content_type == "application/json":
            try:
                data = json.loads(request.body or b"{}")
            except ValueError:
                data = None
            if not isinstance(data, dict) or any(isinstance(v, dict | list) for v in data.values()):
                return JsonResponse(
                    {
                        "error": "invalid_request",
                        "error_description": "The body must be a JSON object of parameters",
                    },
                    status=400,
                )
            form = QueryDict(mutable=True)
            for key, value in data.items():
                if value is not None:
                    form[key] = value if isinstance(value, str) else json.dumps(value)
            request.POST = form
        return super().post(request, *args, **kwargs)  # type: ignore[misc]


class TokenView(FormFromJson, oauth_views.TokenView):
    pass


class RevokeView(FormFromJson, oauth_views.RevokeTokenView):
    pass


# --- session JWTs -----------------------------------------------------------------------------


class SessionTokenView(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def get_exception_handler(self):
        return expensicat_exception_handler

    @staticmethod
    def field(request: Request, name: str, *, required: bool = True) -> str:
        data = request.data if isinstance(request.data, dict) else {}
        value = data.get(name)
        value = "" if value is None else str(value).strip()
        if required and not value:
            raise ValidationFailed.single(name, "blank", "can't be blank")
        return value


def _organization_for(user: User, requested: str) -> int | None:
    """The organization a session acts on: the one asked for, which must be one of the user's;
    else the user's only one; else none (every organization the user belongs to)."""
    memberships = user.memberships.values_list("administration_id", flat=True)
    if not requested:
        ids = list(memberships[:2])
        return ids[0] if len(ids) == 1 else None
    try:
        organization_id = int(requested)
    except ValueError:
        organization_id = None
    if (
        organization_id is None
        or not memberships.filter(administration_id=organization_id).exists()
    ):
        raise BadRequest(
            "You are not a member of this organization",
            field="organization_id",
            code="not_a_member",
        )
    return organization_id


class JwtObtainView(SessionTokenView):
    """POST {email, password, organization_id?} -> {access, refresh}."""

    def post(self, request: Request) -> Response:
        email = self.field(request, "email").lower()
        password = self.field(request, "password")
        requested = self.field(request, "organization_id", required=False)
        user = authenticate(request._request, email=email, password=password)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid email or password")
        organization_id = _organization_for(user, requested)
        refresh = RefreshToken.for_user(user)
        if organization_id is not None:
            # A string: 64-bit ids do not survive JavaScript's numbers.
            refresh["organization_id"] = str(organization_id)
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})


class JwtRefreshView(SessionTokenView):
    """POST {refresh} -> {access}, for the same user and organization."""

    def post(self, request: Request) -> Response:
        try:
            refresh = RefreshToken(self.field(request, "refresh"))
            user = JWTAuthentication().get_user(refresh)
        except ExpiredTokenError:
            raise exceptions.AuthenticationFailed("Token has expired") from None
        except (TokenError, exceptions.AuthenticationFailed):
            raise exceptions.AuthenticationFailed("Token is invalid") from None
        organization_id = refresh.get("organization_id")
        if (
            organization_id
            and not user.memberships.filter(administration_id=organization_id).exists()
        ):
            raise exceptions.AuthenticationFailed("You are no longer a member of this organization")
        return Response({"access": str(refresh.access_token)})


# --- pages and routes ---------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "signin/login.html"


urlpatterns = [
    path("auth/login", LoginView.as_view(), name="signin-login"),
    path("auth/logout", auth_views.LogoutView.as_view(), name="signin-logout"),
    path("api/auth/token", JwtObtainView.as_view(), name="jwt-obtain"),
    path("api/auth/token/refresh", JwtRefreshView.as_view(), name="jwt-refresh"),
    # Expensicat's paths
    path("api/auth/oauth2/authorize", AuthorizeView.as_view(), name="oauth2-authorize"),
    path("api/auth/oauth2/token", TokenView.as_view(), name="oauth2-token"),
    path("api/auth/oauth2/revoke", RevokeView.as_view(), name="oauth2-revoke"),
    # Moneybird's paths
    path("oauth/authorize", AuthorizeView.as_view(), name="moneybird-oauth-authorize"),
    path("oauth/token", TokenView.as_view(), name="moneybird-oauth-token"),
    path("oauth/revoke", RevokeView.as_view(), name="moneybird-oauth-revoke"),
]
