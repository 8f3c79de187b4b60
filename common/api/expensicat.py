"""The Expensicat dialect's base view and URL helper: /api/v1/<route>, the organization from the
credential or the X-Organization-Id header, {"data": ...} bodies, cursor-paged lists."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from django.urls import URLPattern, re_path
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import refuse_unknown_method, refuse_writes_when_suspended, reject_null_characters
from common.errors import expensicat_exception_handler
from common.exceptions import BadRequest, FieldError, NotFound, ValidationFailed
from common.idempotency import IdempotentViewMixin
from common.ratelimit import RateLimitedViewMixin
from common.renderers import JSONFirstNegotiation
from common.tenancy import tenancy

ORGANIZATION_HEADER = "X-Organization-Id"
# Any path segment: an id that is no number is a 404 in this dialect's shape, not the URL
# resolver's.
ID = r"[^/]+"


def expensicat_path(route: str, view: Any, name: str) -> URLPattern:
    return re_path(rf"^api/v1/{route}$", view.as_view(), name=name)


def resolve_organization(request: Request) -> Any:
    """The organization a request acts on. A credential bound to one (a session JWT's claim, a
    token restricted to an administration) decides; otherwise the user's only membership, and
    with several the X-Organization-Id header must choose. The header may only repeat the bound
    organization. Whatever the source, the answer comes from the tenant choke point
    (administration(s)_for_user), so one the user cannot reach is a 404 like one that does not
    exist."""
    auth = request.auth
    bound = getattr(auth, "organization_id", None) or getattr(auth, "administration_id", None)
    header = request.headers.get(ORGANIZATION_HEADER)
    token = auth if hasattr(auth, "administration_id") else None
    if header is not None:
        header = header.strip()
        if bound is not None and header != str(bound):
            raise NotFound(ORGANIZATION_HEADER)
        chosen: int | str = header
    elif bound is not None:
        chosen = bound
    else:
        # Already filtered by the choke point's own queryset: the only one is the answer.
        reachable = list(tenancy().administrations_for_user(user=request.user, token=token)[:2])
        if not reachable:
            raise NotFound("organization", "the user belongs to no organization")
        if len(reachable) > 1:
            raise BadRequest(
                f"The user belongs to several organizations: send the {ORGANIZATION_HEADER} header",
                field=ORGANIZATION_HEADER,
                code="missing",
            )
        return reachable[0]
    try:
        return tenancy().administration_for_user(
            user=request.user, administration_id=chosen, token=token
        )
    except NotFound:
        raise NotFound(ORGANIZATION_HEADER if header is not None else "organization") from None


@contextmanager
def fields_renamed(names: Mapping[str, str]) -> Iterator[None]:
    """Report the services' field names (started_at, contact_id) as this dialect's (start_time,
    customer_id) in validation and not-found errors."""
    try:
        yield
    except ValidationFailed as exc:
        errors: dict[str, list[FieldError]] = {}
        for field, items in exc.errors.items():
            errors.setdefault(names.get(field, field), []).extend(items)
        raise ValidationFailed(errors) from None
    except NotFound as exc:
        if exc.field not in names:
            raise
        raise NotFound(names[exc.field], exc.message) from None


class ExpensicatView(IdempotentViewMixin, RateLimitedViewMixin, APIView):
    """Authenticates the credential, checks the scopes of the method (reads or writes; any one
    listed suffices), then resolves the organization."""

    rate_limit_dialect = "expensicat"
    content_negotiation_class = JSONFirstNegotiation
    read_scopes: tuple[str, ...] = ("entries:read",)
    write_scopes: tuple[str, ...] = ("entries:write",)
    administration: Any  # an Administration of the tenant app (common.tenancy)

    @property
    def required_scopes(self) -> tuple[str, ...]:
        # Read by common.auth.HasRequiredScopes.
        return self.read_scopes if self.request.method in SAFE_METHODS else self.write_scopes

    def rate_limit_selector(self, request: Request) -> str:
        return request.headers.get(ORGANIZATION_HEADER, "")

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        refuse_unknown_method(self, request)
        reject_null_characters(request.query_params)
        self.administration = resolve_organization(request)
        refuse_writes_when_suspended(self, request)
        self.check_rate_limit(request, self.administration.pk)

    def get_exception_handler(self):
        return expensicat_exception_handler

    @cached_property
    def role(self) -> str | None:
        """The caller's role in the organization (owner, admin, member), looked up once."""
        grant: Any = self.request.auth  # an ApiToken or a common.auth.Grant
        if getattr(grant, "administration", None) == self.administration:
            return grant.role  # read with the credential
        return tenancy().member_role(self.administration, self.request.user)

    @property
    def sees_everyone(self) -> bool:
        """Owners and admins see the whole organization's records; members only their own."""
        return self.role in tenancy().ELEVATED_ROLES

    def body(self, request: Request) -> dict[str, Any]:
        if not isinstance(request.data, dict):
            raise BadRequest("The request body must be a JSON object", field="body")
        return request.data

    def data(self, item: Any, status: int = 200) -> Response:
        return Response({"data": item}, status=status)

    def page(self, items: list[Any], next_cursor: str | None) -> Response:
        return Response({"data": items, "meta": {"count": len(items), "next_cursor": next_cursor}})
