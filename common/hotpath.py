"""The steps every hot read (common.middleware.HotReadMiddleware) takes before its own work, as
both dialects' base views take them (DRF's authentication and permission, the view's initial):
a plain request, an API token bound to the administration it asks for, the scope, the rate
limit. Each returns None where the view would judge otherwise or answer an error, so that the
view answers instead, byte for byte as before, and counts the request as it would have (once).
The view is given what this counted: common.ratelimit.COUNTED."""

from typing import Any, NamedTuple, cast

from django.http import HttpRequest
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from common.auth import BearerAuthentication, Grant, bearer_kind, bearer_token
from common.exceptions import RateLimited
from common.ratelimit import Usage, count_ahead, count_request, credential_key
from common.renderers import PLAIN_ACCEPTS


class Caller(NamedTuple):
    user: Any
    grant: Grant
    administration: Any  # the token's, read with it (an Administration of the tenant app)
    usage: Usage  # for the RateLimit-* headers


def view_headers(view_class: type[APIView]) -> dict[str, str]:
    """DRF's own headers on every answer of the view (Allow), as as_view() sets a view up."""
    view = view_class()
    view.setup(HttpRequest())  # as Django's View does per request: HEAD answered by GET
    return view.default_response_headers


def plain_request(request: HttpRequest, allowed_params: frozenset[str]) -> bool:
    """A request whose answer does not depend on what a hot read leaves to the view: only
    `allowed_params`, each once and without a NUL (common.api.reject_null_characters), JSON
    or anything accepted (common.renderers.JSONFirstNegotiation), no conditional header."""
    params = request.GET
    return (
        params.keys() <= allowed_params
        and all(len(values) == 1 and "\x00" not in values[0] for _, values in params.lists())
        and request.META.get("HTTP_ACCEPT") in PLAIN_ACCEPTS
        and "HTTP_IF_NONE_MATCH" not in request.META
    )


def _token_authentication() -> BearerAuthentication | None:
    for authentication in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        if getattr(authentication, "kind", None) == "api_token":
            return cast(type[BearerAuthentication], authentication)()
    return None


def token_caller(
    request: HttpRequest,
    *,
    dialect: str,
    scopes: tuple[str, ...],
    selector: str,
    administration_id: str | None = None,
) -> Caller | None:
    """The caller of a request made with an API token that is bound to an administration its
    user is a member of (the administration and the role are read with it), and that has one of
    `scopes`; counted against the rate limit as the view counts it (`selector`: see
    RateLimitedViewMixin.rate_limit_selector). `administration_id`: the one the path names,
    which must be the token's. None for anything else, counted or not as the view counts it:
    a spent limit is counted here and handed to the view with its count
    (common.ratelimit.COUNTED)."""
    try:
        secret = bearer_token(request)
    except AuthenticationFailed:
        return None
    authentication = _token_authentication()
    if secret is None or bearer_kind(secret) != "api_token" or authentication is None:
        return None
    key = credential_key(request, selector)
    if key is None:  # no Authorization header: bearer_token found none either
        return None
    # Redis counts the request while the database reads its credential.
    count_ahead(request, dialect=dialect, credential_key=key)
    try:
        user, grant = authentication.authenticate_bearer(request, secret)
    except AuthenticationFailed:
        grant = None
    administration = getattr(grant, "administration", None)
    if (
        grant is None
        or administration is None
        or (administration_id is not None and administration_id != str(administration.pk))
        or not grant.allows(*scopes)
    ):
        # The view's to judge (401, 403, 404, or a token for several administrations). A count
        # begun ahead goes along: the view takes it if it counts the request, and drops it and
        # forgets the credential if it refuses it first (RateLimitedViewMixin).
        return None
    try:
        usage = count_request(
            request,
            dialect=dialect,
            auth=grant,
            user=user,
            organization_id=administration.pk,
            credential_key=key,
        )
    except RateLimited:
        return None
    return Caller(user, grant, administration, usage)
