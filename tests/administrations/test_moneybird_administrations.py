"""GET /api/v2/administrations at the HTTP layer: the OpenAPI's examples with whole bodies, which
administrations a token reaches (membership, restriction), period_start_date, that no scope is
needed, and the query count."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from administrations import services
from administrations.models import Administration
from tests.factories import AdministrationFactory, TokenFactory, member
from tests.timeentries.moneybird_support import AMS, make_entry

# The OpenAPI's examples were recorded in 2026: period_start_date "2026-01-01".
NOW = datetime(2026, 8, 21, 13, 48, 55, tzinfo=UTC)
KEYS = {
    "id",
    "name",
    "language",
    "currency",
    "country",
    "time_zone",
    "access",
    "suspended",
    "period_locked_until",
    "period_start_date",
}


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def client_for(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    return client


def listed(token, path="/api/v2/administrations.json"):
    response = client_for(token).get(path)
    assert response.status_code == 200, response.content
    return response.json()


def expected(administration: Administration, **overrides) -> dict:
    administration.refresh_from_db()
    return {
        "id": str(administration.pk),
        "name": administration.name,
        "language": "nl",
        "currency": "EUR",
        "country": "NL",
        "time_zone": "Europe/Amsterdam",
        "access": "user",
        "suspended": False,
        "period_locked_until": None,
        "period_start_date": "2026-01-01",
        **overrides,
    }


@pytest.fixture
def user(db):
    """A user in two administrations (and the owner of neither's neighbour)."""
    first = AdministrationFactory(name="Administratie")
    person = member(first, role="owner", name="Mo Neybird")
    second = AdministrationFactory(name="Parkietje B.V.")
    services.member_add(administration=second, actor=None, email=person.email)
    AdministrationFactory(name="Not theirs")
    return SimpleNamespace(user=person, first=first, second=second)


# --- the OpenAPI's examples ---------------------------------------------------------------------


def test_return_a_list_of_administrations_that_user_has_access_to(user):
    token = TokenFactory(user=user.user)
    response = client_for(token).get("/api/v2/administrations.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == [expected(user.first), expected(user.second)]
    assert body[1] == {
        "id": str(user.second.pk),
        "name": "Parkietje B.V.",
        "language": "nl",
        "currency": "EUR",
        "country": "NL",
        "time_zone": "Europe/Amsterdam",
        "access": "user",
        "suspended": False,
        "period_locked_until": None,
        "period_start_date": "2026-01-01",
    }
    for item in body:
        assert set(item) == KEYS
        # A string, as every id (a 64-bit number exceeds JavaScript's exact 2**53).
        assert type(item["id"]) is str


def test_returns_access_type_user_when_having_direct_access(db):
    parkietje = AdministrationFactory(name="Parkietje B.V.")
    token = TokenFactory(user=member(parkietje))
    assert listed(token) == [expected(parkietje)]


def test_without_json_suffix(user):
    token = TokenFactory(user=user.user)
    assert listed(token, "/api/v2/administrations") == listed(token)


# --- who sees what ------------------------------------------------------------------------------


def test_a_restricted_token_lists_only_its_administration(user):
    token = TokenFactory(user=user.user, administration=user.second)
    assert listed(token) == [expected(user.second)]


def test_a_user_in_no_administration_gets_an_empty_list(db):
    loner, _ = services.user_get_or_create(email="loner@example.com")
    token = TokenFactory(user=loner)
    assert listed(token) == []


def test_leaving_an_administration_removes_it(user):
    token = TokenFactory(user=user.user)
    services.member_remove(
        membership=user.user.memberships.get(administration=user.second), actor=None
    )
    assert listed(token) == [expected(user.first)]


def test_a_restricted_token_lists_nothing_after_its_user_left(user):
    token = TokenFactory(user=user.user, administration=user.second)
    services.member_remove(
        membership=user.user.memberships.get(administration=user.second), actor=None
    )
    assert listed(token) == []


@pytest.mark.parametrize(
    "scopes", [("time_entries",), ("sales_invoices",), ("settings",), ("team:read",)]
)
def test_any_scope_will_do(user, scopes):
    token = TokenFactory(user=user.user, scopes=scopes)
    assert [a["id"] for a in listed(token)] == [str(user.first.pk), str(user.second.pk)]


def test_without_a_token_is_401(db):
    response = APIClient().get("/api/v2/administrations.json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {"error": "Authentication credentials were not provided"}


def test_a_revoked_token_is_401(user):
    token = TokenFactory(user=user.user)
    services.token_revoke(token=token, actor=None)
    response = client_for(token).get("/api/v2/administrations.json")
    assert response.status_code == 401
    assert response.json() == {"error": "Token is invalid"}


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_other_methods_are_405(user, method):
    token = TokenFactory(user=user.user)
    response = getattr(client_for(token), method)("/api/v2/administrations.json")
    assert response.status_code == 405
    assert set(response.json()) == {"error"}
    assert Administration.objects.count() == 3


# --- attributes ---------------------------------------------------------------------------------


def test_attributes_follow_the_administration(user):
    services.administration_update(
        administration=user.first,
        actor=None,
        changes={
            "language": "en",
            "currency": "USD",
            "country": "BE",
            "time_zone": "Europe/Brussels",
            "period_locked_until": date(2025, 12, 31),
        },
    )
    services.administration_suspension_set(administration=user.second, actor=None, suspended=True)
    token = TokenFactory(user=user.user)
    assert listed(token) == [
        expected(
            user.first,
            language="en",
            currency="USD",
            country="BE",
            time_zone="Europe/Brussels",
            period_locked_until="2025-12-31",
        ),
        expected(user.second, suspended=True),
    ]


def test_period_start_date_is_the_year_of_the_earliest_entry(user):
    # 00:30 on 1 January 2024 in Amsterdam is still 2023 in UTC: the local year counts.
    make_entry(user.first, user.user, datetime(2024, 1, 1, 0, 30, tzinfo=AMS))
    make_entry(user.first, user.user, datetime(2025, 6, 1, 9, 0, tzinfo=AMS))
    # An entry in a later year than the administration's creation does not move it.
    make_entry(user.second, user.user, datetime(2027, 1, 5, 9, 0, tzinfo=AMS))
    # 23:30 UTC on 31 December 2025 is already 2026 in Amsterdam.
    third = AdministrationFactory(name="Zeta")
    services.member_add(administration=third, actor=None, email=user.user.email)
    make_entry(third, user.user, datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    token = TokenFactory(user=user.user)
    assert [(a["name"], a["period_start_date"]) for a in listed(token)] == [
        ("Administratie", "2024-01-01"),
        ("Parkietje B.V.", "2026-01-01"),
        ("Zeta", "2026-01-01"),
    ]


def test_query_count_does_not_grow_with_the_administrations(user):
    token = TokenFactory(user=user.user)
    counts = []
    for extra in (0, 5):
        for n in range(extra):
            administration = AdministrationFactory(name=f"Extra {n}")
            services.member_add(administration=administration, actor=None, email=user.user.email)
            make_entry(administration, user.user, datetime(2025, 3, 1, 9, 0, tzinfo=AMS))
        with CaptureQueriesContext(connection) as queries:
            body = listed(token)
        counts.append(len(queries))
    assert len(body) == 7
    # token, administrations with their first entry
    assert counts == [2, 2]
