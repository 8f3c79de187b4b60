"""Moneybird's /api/v2/{administration_id}/users: the administration's members."""

from datetime import datetime
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from administrations.models import Administration, Membership, User
from common.api import query_flag
from common.api.moneybird import MoneybirdView, moneybird_path
from common.openapi import moneybird_responses
from common.timefmt import iso_utc


@extend_schema_serializer(component_name="MoneybirdUser")
class UserOutput(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def render_user(user) -> dict[str, Any]:
    return render_user_row(user.pk, user.name, user.email, user.created_at, user.updated_at)


def render_user_row(
    pk: int, name: str, email: str, created_at: datetime, updated_at: datetime
) -> dict[str, Any]:
    """render_user from plain columns (list rows, no model instance)."""
    return {
        "id": str(pk),
        "name": User.name_to_show(name, email),
        "created_at": iso_utc(created_at),
        "updated_at": iso_utc(updated_at),
    }


# Moneybird's permission names, in the order it lists them.
ALL_PERMISSIONS = (
    "sales_invoices",
    "documents",
    "estimates",
    "bank",
    "settings",
    "ownership",
    "time_entries",
)
# Our roles in Moneybird's terms: an owner holds every permission, including ownership; an admin
# is an employee with every permission but ownership; a member is an employee who only keeps
# time. There are no accountants or API users here (a token acts as its user), so
# include_accountants and include_api_users are accepted but add nobody.
ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    Membership.Role.OWNER: ("owner", ALL_PERMISSIONS),
    Membership.Role.ADMIN: ("employee", tuple(p for p in ALL_PERMISSIONS if p != "ownership")),
    Membership.Role.MEMBER: ("employee", ("time_entries",)),
}

FLAGS = ("include_inactive", "include_accountants", "include_api_users")


def render_member(membership: Membership, administration: Administration) -> dict[str, Any]:
    """Moneybird's extended user; an inactive user is rendered in the base shape only, as in
    Moneybird's include_inactive example."""
    user = membership.user
    if not user.is_active:
        return render_user(user)
    user_type, permissions = ROLES[membership.role]
    return {
        **render_user(user),
        "email": user.email,
        # Accounts are made by operators with a checked address; there is no unconfirmed state.
        "email_validated": True,
        # A user has no language or time zone of their own here: the administration's apply.
        "language": administration.language,
        "time_zone": administration.time_zone,
        "user_type": user_type,
        "permissions": list(permissions),
    }


# What render_member answers, for the OpenAPI schema only (common/openapi.py).
@extend_schema_serializer(component_name="MoneybirdAdministrationUser")
class MemberOutput(UserOutput):
    """A member; a deactivated one (include_inactive) has only the keys of MoneybirdUser."""

    email = serializers.EmailField(required=False)
    email_validated = serializers.BooleanField(required=False)
    language = serializers.CharField(required=False)
    time_zone = serializers.CharField(required=False)
    user_type = serializers.ChoiceField(choices=["owner", "employee"], required=False)
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=ALL_PERMISSIONS), required=False
    )


class UserListView(MoneybirdView):
    required_scopes = ("settings",)

    @extend_schema(
        operation_id="moneybird_users_list",
        summary="List the administration's users",
        parameters=[
            OpenApiParameter(name, bool, description=description)
            for name, description in (
                ("include_inactive", "Also list deactivated users."),
                ("include_accountants", "Accepted; there are no accountants here."),
                ("include_api_users", "Accepted; there are no API users here."),
            )
        ],
        responses=moneybird_responses({200: MemberOutput(many=True)}, 400, 404),
    )
    def get(self, request: Request, administration_id: str) -> Response:
        # Every flag is checked; only include_inactive can change who is listed.
        flags = {name: query_flag(request, name) for name in FLAGS}
        memberships = (
            Membership.objects.for_administration(self.administration)
            .select_related("user")
            .order_by("created_at", "id")
        )
        if not flags["include_inactive"]:
            memberships = memberships.filter(user__is_active=True)
        return Response([render_member(m, self.administration) for m in memberships])


urlpatterns = [
    moneybird_path("users", UserListView, "mb-users"),
]
