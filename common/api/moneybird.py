"""The Moneybird dialect's base view and URL helper."""

from typing import Any

from django.urls import URLPattern, re_path
from rest_framework.request import Request
from rest_framework.views import APIView

from common.api import refuse_unknown_method, refuse_writes_when_suspended, reject_null_characters
from common.errors import moneybird_exception_handler
from common.exceptions import BadRequest
from common.idempotency import IdempotentViewMixin
from common.ratelimit import RateLimitedViewMixin
from common.renderers import JSONFirstNegotiation
from common.tenancy import tenancy

ID = r"\d{1,19}"


def moneybird_path(route: str, view: Any, name: str) -> URLPattern:
    """/api/v2/{administration_id}/<route> with Moneybird's optional .json suffix."""
    return re_path(
        rf"^api/v2/(?P<administration_id>{ID})/{route}(?:\.json)?$", view.as_view(), name=name
    )


class MoneybirdView(IdempotentViewMixin, RateLimitedViewMixin, APIView):
    """Authenticates the token, checks the view's scopes, then resolves the administration in
    the URL through the one tenant choke point (a foreign or unknown one is a 404), and counts
    the request against the rate limits."""

    rate_limit_dialect = "moneybird"
    content_negotiation_class = JSONFirstNegotiation

    required_scopes: tuple[str, ...] = ("time_entries",)
    administration: Any  # an Administration of the tenant app (common.tenancy)
    # False only for the routes without an administration in the URL (/administrations).
    resolves_administration: bool = True

    def rate_limit_selector(self, request: Request) -> str:
        return str(self.kwargs.get("administration_id", ""))

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        refuse_unknown_method(self, request)
        reject_null_characters(request.query_params)
        organization_id = None
        if self.resolves_administration:
            self.administration = tenancy().administration_for_user(
                user=request.user, administration_id=kwargs["administration_id"], token=request.auth
            )
            organization_id = self.administration.pk
            refuse_writes_when_suspended(self, request)
        self.check_rate_limit(request, organization_id)

    def get_exception_handler(self):
        return moneybird_exception_handler

    def body(self, request: Request, key: str) -> dict[str, Any]:
        """Moneybird wraps attributes in the resource name: {"time_entry": {...}}."""
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get(key), dict):
            raise BadRequest(
                f"param is missing or the value is empty: {key}", field=key, code="missing"
            )
        return data[key]
