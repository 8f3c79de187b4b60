"""Who may reach which time entries: bearer tokens, scopes, and tenant isolation on every route
(a foreign id is a 404 that changes nothing, exactly like an id that does not exist)."""

from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from administrations import services as admin_services
from administrations.models import User
from notes.models import Event, Note
from tests.conftest import Api
from tests.factories import AdministrationFactory, NoteFactory, TokenFactory, member
from tests.timeentries.moneybird_support import (
    NOT_FOUND,
    ROUTE_NAMES,
    call,
    expected_time_entry,
    local,
    local_today,
    make_entry,
    not_found,
    routes,
)
from timeentries.models import TimeEntry


@pytest.fixture
def own(administration, owner):
    """An entry (stopped, started today) with a note in the token's own administration."""
    entry = make_entry(administration, owner, local(local_today(), 0, 5), minutes=1)
    note = NoteFactory(entity=entry, actor=owner)
    return entry, note


def route(name, entry, note):
    return next(r for r in routes(entry.pk, note.pk) if r[0] == name)


def snapshot():
    """Everything a write could touch."""
    return (
        sorted(
            TimeEntry.objects.values_list(
                "pk", "description", "started_at", "ended_at", "user_id", "updated_at"
            )
        ),
        sorted(Note.objects.values_list("pk", "note", "entity_id")),
        Event.objects.count(),
    )


# --- authentication -----------------------------------------------------------------------------


def anonymous(administration, authorization: str | None = None) -> SimpleNamespace:
    """A client for `administration`'s URLs without a valid token."""
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return SimpleNamespace(client=client, url=lambda path: f"/api/v2/{administration.pk}/{path}")


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_missing_token_is_401_on_every_route(administration, own, name):
    before = snapshot()
    _, method, path, body = route(name, *own)
    response = call(anonymous(administration), method, path, body)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {"error": "Authentication credentials were not provided"}
    assert snapshot() == before


@pytest.mark.parametrize(
    "header",
    [
        "Bearer 84ec207ad0154a508f798e615a998ac1fd752926d00f955fb1df3e144cba44ab",
        "Bearer",
        "Bearer two parts",
        "bearer nonsense",
    ],
)
@pytest.mark.parametrize("name", ["list", "get", "create", "delete"])
def test_bad_token_is_401(administration, own, header, name):
    before = snapshot()
    _, method, path, body = route(name, *own)
    response = call(anonymous(administration, header), method, path, body)
    assert response.status_code == 401
    assert response.json() == {"error": "Token is invalid"}
    assert snapshot() == before


def test_other_authorization_scheme_is_401(api):
    api.client.credentials(HTTP_AUTHORIZATION=f"Token {api.token.secret}")
    response = api.get("time_entries")
    assert response.status_code == 401
    assert response.json() == {"error": "Authentication credentials were not provided"}


def test_token_works_until_revoked(api, own):
    assert api.get("time_entries").status_code == 200
    admin_services.token_revoke(token=api.token, actor=api.user)
    response = api.get("time_entries")
    assert response.status_code == 401
    assert response.json() == {"error": "Token is invalid"}
    response = api.delete(f"time_entries/{own[0].pk}")
    assert response.status_code == 401
    assert TimeEntry.objects.filter(pk=own[0].pk).exists()


def test_token_of_a_deactivated_user_is_401(api, owner):
    User.objects.filter(pk=owner.pk).update(is_active=False)
    response = api.get("time_entries")
    assert response.status_code == 401
    assert response.json() == {"error": "Token is invalid"}


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_token_without_time_entries_scope_is_401(make_api, administration, owner, own, name):
    limited = make_api(administration, owner, scopes=("sales_invoices", "settings"))
    before = snapshot()
    _, method, path, body = route(name, *own)
    response = call(limited, method, path, body)
    assert response.status_code == 401
    assert response.json() == {"error": "No access to time_entries"}
    assert snapshot() == before


# --- tenants ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_another_administrations_url_is_404_on_every_route(api, foreign, name):
    """The token's user is not a member of `foreign`: its URL looks like one that does not exist,
    even with the ids of that administration's own records."""
    before = snapshot()
    _, method, path, body = route(name, foreign.entry, foreign.note)
    response = call(api, method, f"/api/v2/{foreign.administration.pk}/{path}", body)
    assert response.status_code == 404
    assert response.json() == not_found("administration_id")
    assert snapshot() == before


@pytest.mark.parametrize("administration_id", ["34123123", "9999999999999999999"])
def test_unknown_administration_is_404(api, administration_id):
    response = api.client.get(f"/api/v2/{administration_id}/time_entries.json")
    assert response.status_code == 404
    assert response.json() == not_found("administration_id")


def test_token_restricted_to_one_administration(make_api, administration, owner, own):
    elsewhere = AdministrationFactory(name="Elsewhere")
    admin_services.member_add(administration=elsewhere, actor=None, email=owner.email, role="owner")
    theirs = make_entry(elsewhere, owner, local(local_today(), 1))
    restricted = Api(administration, owner, TokenFactory(user=owner, administration=administration))

    assert restricted.get("time_entries").status_code == 200
    url = f"/api/v2/{elsewhere.pk}/time_entries/{theirs.pk}"
    response = call(restricted, "get", url)
    assert response.status_code == 404
    assert response.json() == not_found("administration_id")
    response = call(restricted, "delete", url)
    assert response.status_code == 404
    assert TimeEntry.objects.filter(pk=theirs.pk).exists()
    # An unrestricted token of the same user reaches both.
    both = make_api(elsewhere, owner)
    assert both.get(f"time_entries/{theirs.pk}").status_code == 200


@pytest.mark.parametrize("name", [n for n in ROUTE_NAMES if n not in ("list", "create", "report")])
def test_foreign_ids_under_own_administration_are_404_on_every_route(api, own, foreign, name):
    """Our administration in the URL, the other administration's entry (and note) ids."""
    before = snapshot()
    _, method, path, body = route(name, foreign.entry, foreign.note)
    response = call(api, method, path, body)
    assert response.status_code == 404
    expected = not_found("time_entry_id") if name == "note_create" else NOT_FOUND
    assert response.json() == expected
    assert snapshot() == before


def test_foreign_note_under_own_entry_is_404(api, own, foreign):
    before = snapshot()
    entry, _ = own
    response = api.delete(f"time_entries/{entry.pk}/notes/{foreign.note.pk}")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert snapshot() == before


def test_foreign_entries_never_show_in_the_list(api, own, foreign):
    response = api.get("time_entries", {"filter": "state:all,include_active:true"})
    assert [item["id"] for item in response.json()] == [str(own[0].pk)]
    assert response.json() == [expected_time_entry(own[0], notes=response.json()[0]["notes"])]
    assert response.json()[0]["notes"][0]["id"] == str(own[1].pk)


def test_foreign_entry_stays_as_it_was(api, foreign):
    """After a round of foreign calls on every route, the foreign entry renders unchanged to its
    own administration."""
    theirs = TokenFactory(user=foreign.owner)
    own_view = APIClient()
    own_view.credentials(HTTP_AUTHORIZATION=f"Bearer {theirs.secret}")
    url = f"/api/v2/{foreign.administration.pk}/time_entries/{foreign.entry.pk}"
    before = own_view.get(url).json()
    for _, method, path, body in routes(foreign.entry.pk, foreign.note.pk):
        call(api, method, path, body)
    assert own_view.get(url).json() == before


# --- references inside bodies -------------------------------------------------------------------


def reference(foreign, key):
    return {
        "contact_id": foreign.contact.pk,
        "project_id": foreign.project.pk,
        "user_id": foreign.owner.pk,
    }[key]


@pytest.mark.parametrize("key", ["contact_id", "project_id", "user_id"])
def test_create_referencing_another_administration_is_404(api, foreign, key):
    before = snapshot()
    response = api.post(
        "time_entries",
        {
            "time_entry": {
                "started_at": "2026-03-02T10:00:00Z",
                "ended_at": "2026-03-02T11:00:00Z",
                "description": "Sneaky",
                key: reference(foreign, key),
            }
        },
    )
    assert response.status_code == 404
    assert response.json() == not_found(key)
    assert snapshot() == before


@pytest.mark.parametrize("key", ["contact_id", "project_id", "user_id"])
@pytest.mark.parametrize("value", [123, "123", "9223372036854775807"])
def test_create_referencing_an_unknown_record_is_404(api, key, value):
    response = api.post(
        "time_entries",
        {
            "time_entry": {
                "started_at": "2026-03-02T10:00:00Z",
                "ended_at": "2026-03-02T11:00:00Z",
                "description": "Dangling",
                key: value,
            }
        },
    )
    assert response.status_code == 404
    assert response.json() == not_found(key)
    assert not TimeEntry.objects.exists()


def test_create_for_a_user_who_left_is_404(api, administration):
    former = member(administration)
    former.memberships.get().delete()
    response = api.post(
        "time_entries",
        {
            "time_entry": {
                "started_at": "2026-03-02T10:00:00Z",
                "ended_at": "2026-03-02T11:00:00Z",
                "description": "x",
                "user_id": former.pk,
            }
        },
    )
    assert response.status_code == 404
    assert response.json() == not_found("user_id")


@pytest.mark.parametrize("key", ["contact_id", "project_id", "user_id"])
def test_update_referencing_another_administration_is_404(api, own, foreign, key):
    before = snapshot()
    entry, _ = own
    response = api.patch(
        f"time_entries/{entry.pk}",
        {"time_entry": {"description": "Changed too", key: reference(foreign, key)}},
    )
    assert response.status_code == 404
    assert response.json() == not_found(key)
    assert snapshot() == before


def test_note_assigned_to_another_administrations_user_is_404(api, own, foreign):
    before = snapshot()
    entry, _ = own
    response = api.post(
        f"time_entries/{entry.pk}/notes",
        {"note": {"note": "Do this", "todo": True, "assignee_id": foreign.owner.pk}},
    )
    assert response.status_code == 404
    assert response.json() == not_found("assignee_id")
    assert snapshot() == before
