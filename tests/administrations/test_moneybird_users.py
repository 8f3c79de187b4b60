"""GET /api/v2/{administration_id}/users at the HTTP layer: the OpenAPI's examples with whole
bodies, the include_* flags, roles as Moneybird's user types and permissions, scopes, tenant
isolation and the query count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from administrations import services
from administrations.models import User
from tests.factories import AdministrationFactory, member
from tests.timeentries.moneybird_support import not_found, ts

OWNER_PERMISSIONS = [
    "sales_invoices",
    "documents",
    "estimates",
    "bank",
    "settings",
    "ownership",
    "time_entries",
]
ADMIN_PERMISSIONS = [p for p in OWNER_PERMISSIONS if p != "ownership"]
EXTENDED_KEYS = {
    "id",
    "name",
    "created_at",
    "updated_at",
    "email",
    "email_validated",
    "language",
    "time_zone",
    "user_type",
    "permissions",
}


def base_user(user: User) -> dict:
    user.refresh_from_db()
    return {
        "id": str(user.pk),
        "name": user.display_name,
        "created_at": ts(user.created_at),
        "updated_at": ts(user.updated_at),
    }


def extended_user(user: User, user_type: str, permissions: list[str]) -> dict:
    return {
        **base_user(user),
        "email": user.email,
        "email_validated": True,
        "language": "nl",
        "time_zone": "Europe/Amsterdam",
        "user_type": user_type,
        "permissions": permissions,
    }


def as_owner(user: User) -> dict:
    return extended_user(user, "owner", OWNER_PERMISSIONS)


def as_employee(user: User) -> dict:
    return extended_user(user, "employee", ["time_entries"])


@pytest.fixture
def owner(administration):
    # The name of the OpenAPI's examples.
    return member(administration, role="owner", name="Mo Neybird", email="info@moneybird.nl")


@pytest.fixture
def john(administration):
    return member(administration, name="John Doe", email="john+6@example.com")


def deactivate(user: User) -> User:
    return services.user_update(user=user, actor=None, changes={"is_active": False})


# --- the OpenAPI's examples ---------------------------------------------------------------------


def test_returns_all_active_users_of_an_administration(api, owner, john):
    response = api.get("users.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == [as_owner(owner), as_employee(john)]
    assert response.json()[1] == {
        "id": str(john.pk),
        "name": "John Doe",
        "created_at": ts(john.created_at),
        "updated_at": ts(john.updated_at),
        "email": "john+6@example.com",
        "email_validated": True,
        "language": "nl",
        "time_zone": "Europe/Amsterdam",
        "user_type": "employee",
        "permissions": ["time_entries"],
    }
    for user in response.json():
        assert set(user) == EXTENDED_KEYS
        assert isinstance(user["id"], str) and user["id"].isdigit()


def test_only_includes_permission_for_users_with_this_administration(api, administration, owner):
    """A. Arend owns another administration but is only an employee here."""
    arend = member(AdministrationFactory(), role="owner", name="A. Arend.")
    services.member_add(administration=administration, actor=None, email=arend.email)
    response = api.get("users.json")
    assert response.json() == [as_owner(owner), as_employee(arend)]


@pytest.mark.parametrize("value", ["true", "True", "1"])
def test_includes_inactive_users_when_include_inactive_is_true(api, administration, owner, value):
    inactive = deactivate(member(administration, name="A. User."))
    response = api.get("users.json", {"include_inactive": value})
    assert response.status_code == 200
    # Inactive users come in the base shape only, as in Moneybird's example.
    assert response.json() == [as_owner(owner), base_user(inactive)]


@pytest.mark.parametrize("params", [{}, {"include_inactive": "false"}, {"include_inactive": "0"}])
def test_inactive_users_are_left_out_by_default(api, administration, owner, params):
    deactivate(member(administration, name="A. User."))
    assert api.get("users.json", params).json() == [as_owner(owner)]


@pytest.mark.parametrize("value", ["true", "false"])
def test_include_api_users(api, owner, john, value):
    """There are no API users here (a token acts as its user): the list is the same."""
    response = api.get("users.json", {"include_api_users": value})
    assert response.status_code == 200
    assert response.json() == [as_owner(owner), as_employee(john)]


@pytest.mark.parametrize("value", ["true", "false"])
def test_include_accountants(api, owner, john, value):
    """There are no accountants here: the list is the same."""
    response = api.get("users.json", {"include_accountants": value})
    assert response.status_code == 200
    assert response.json() == [as_owner(owner), as_employee(john)]


# --- roles, names, order ------------------------------------------------------------------------


def test_roles_as_user_types_and_permissions(api, administration, owner):
    admin = member(administration, role="admin", name="Ann Admin")
    second_owner = member(administration, role="owner", name="Otto Owner")
    plain = member(administration, role="member", name="Mel Member")
    assert api.get("users").json() == [
        as_owner(owner),
        extended_user(admin, "employee", ADMIN_PERMISSIONS),
        as_owner(second_owner),
        as_employee(plain),
    ]


def test_a_role_change_shows(api, administration, owner, john):
    services.member_add(administration=administration, actor=None, email=john.email, role="admin")
    assert api.get("users").json()[1] == extended_user(john, "employee", ADMIN_PERMISSIONS)


def test_a_user_without_a_name_is_named_by_their_address(api, administration, owner):
    nameless = member(administration, name="", email="jan.jansen@example.com")
    body = api.get("users").json()
    assert body[1]["name"] == "jan.jansen"
    assert body[1] == as_employee(nameless)


def test_language_and_time_zone_are_the_administrations(api, administration, owner):
    services.administration_update(
        administration=administration,
        actor=None,
        changes={"language": "en", "time_zone": "Europe/Brussels"},
    )
    [user] = api.get("users").json()
    assert (user["language"], user["time_zone"]) == ("en", "Europe/Brussels")


def test_a_member_who_left_is_not_listed(api, administration, owner, john):
    services.member_remove(membership=john.memberships.get(), actor=None)
    assert api.get("users", {"include_inactive": "true"}).json() == [as_owner(owner)]


# --- bad parameters -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["include_inactive", "include_accountants", "include_api_users"])
@pytest.mark.parametrize("value", ["maybe", "2", "yes please"])
def test_a_flag_that_is_not_a_boolean_is_400(api, owner, name, value):
    response = api.get("users", {name: value})
    assert response.status_code == 400
    assert response.json() == {
        "error": f"{name} does not have a valid value",
        "symbolic": {name: "invalid"},
    }


def test_an_empty_flag_means_false(api, administration, owner):
    deactivate(member(administration))
    assert api.get("users", {"include_inactive": ""}).json() == [as_owner(owner)]


# --- who may ------------------------------------------------------------------------------------


def test_settings_scope_is_enough(make_api, administration, owner):
    response = make_api(administration, owner, scopes=("settings",)).get("users")
    assert response.status_code == 200


def test_without_settings_scope_is_401(make_api, administration, owner):
    response = make_api(administration, owner, scopes=("time_entries", "sales_invoices")).get(
        "users"
    )
    assert response.status_code == 401
    assert response.json() == {"error": "No access to settings"}


def test_without_token_is_401(api):
    api.client.credentials()
    response = api.get("users")
    assert response.status_code == 401
    assert response.json() == {"error": "Authentication credentials were not provided"}


def test_another_administrations_users_are_404(api, owner):
    other = AdministrationFactory(name="Other")
    member(other, role="owner")
    response = api.client.get(f"/api/v2/{other.pk}/users.json")
    assert response.status_code == 404
    assert response.json() == not_found("administration_id")


def test_members_of_other_administrations_never_show(api, administration, owner):
    other = AdministrationFactory(name="Other")
    member(other, role="owner")
    deactivate(member(other))
    assert api.get("users", {"include_inactive": "true"}).json() == [as_owner(owner)]


def test_query_count_does_not_grow_with_the_members(api, administration, owner):
    counts = []
    for extra in (1, 20):
        for _ in range(extra):
            member(administration)
        with CaptureQueriesContext(connection) as queries:
            response = api.get("users", {"include_inactive": "true"})
        assert response.status_code == 200
        counts.append(len(queries))
    assert len(response.json()) == 22
    # token, administration, members with their users
    assert counts == [3, 3]
