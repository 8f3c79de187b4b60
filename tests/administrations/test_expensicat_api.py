"""Expensicat's /api/v1 projects, customers, organizations/current and members over HTTP, and
how a request finds its organization (credential, only membership, X-Organization-Id)."""

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from administrations import services
from administrations.models import Contact, Project
from common.api.expensicat import resolve_organization
from common.exceptions import BadRequest, NotFound
from notes.models import Event
from tests.expensicat_support import (
    CUSTOMER_KEYS,
    MEMBER_KEYS,
    ORGANIZATION_KEYS,
    assert_error,
    assert_list_shape,
    assert_project_shape,
    ec_api,
    is_id,
    is_ts,
    walk,
)
from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    ProjectFactory,
    TimeEntryFactory,
    member,
)


def ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def snapshot():
    """Everything a project or customer write could touch."""
    return (
        sorted(Project.objects.values_list("pk", "name", "state", "contact_id", "updated_at")),
        sorted(Contact.objects.values_list("pk", "company_name", "email", "archived")),
        Event.objects.count(),
    )


@pytest.fixture
def ec(owner):
    return ec_api(owner)


@pytest.fixture
def customer(administration):
    return ContactFactory(
        administration=administration, company_name="Foobar Holding B.V.", email="info@foo.bar"
    )


@pytest.fixture
def project(administration, customer):
    return ProjectFactory(
        administration=administration, name="Website", contact_id=customer.pk, hourly_rate="95.50"
    )


@pytest.fixture
def foreign(db):
    administration = AdministrationFactory(name="Other")
    owner = member(administration, role="owner")
    customer = ContactFactory(administration=administration)
    project = ProjectFactory(administration=administration, contact_id=customer.pk)
    return SimpleNamespace(
        administration=administration, owner=owner, customer=customer, project=project
    )


def expected_project(project: Project) -> dict:
    project.refresh_from_db()
    customer = project.contact
    return {
        "id": str(project.pk),
        "organization_id": str(project.administration_id),
        "name": project.name,
        "customer_id": None if customer is None else str(customer.pk),
        "hourly_rate": None if project.hourly_rate is None else str(project.hourly_rate),
        "currency": project.currency,
        "archived": project.state == "archived",
        "created_at": ts(project.created_at),
        "updated_at": ts(project.updated_at),
        "customer": None
        if customer is None
        else {"id": str(customer.pk), "name": customer.company_name},
    }


def expected_customer(contact: Contact) -> dict:
    contact.refresh_from_db()
    return {
        "id": str(contact.pk),
        "organization_id": str(contact.administration_id),
        "name": contact.company_name,
        "email": contact.email or None,
        "phone": contact.phone or None,
        "archived": contact.archived,
        "created_at": ts(contact.created_at),
        "updated_at": ts(contact.updated_at),
    }


# --- projects -------------------------------------------------------------------------------


def test_projects_list(ec, administration, project):
    bare = ProjectFactory(administration=administration, name="Internal")
    response = ec.get("projects")
    assert response.status_code == 200
    body = response.json()
    assert_list_shape(body)
    for item in body["data"]:
        assert_project_shape(item)
    assert body == {
        "data": [expected_project(project), expected_project(bare)],
        "meta": {"count": 2, "next_cursor": None},
    }
    # A string on /v1/projects, where a time entry's project has a number.
    assert body["data"][0]["hourly_rate"] == "95.50"
    assert body["data"][1]["hourly_rate"] is None


def test_project_hourly_rate_is_a_string_here_and_a_number_in_a_time_entry(
    ec, administration, owner, project
):
    entry = TimeEntryFactory(
        administration=administration, actor=owner, user_id=owner.pk, project_id=project.pk
    )
    in_entry = ec.get(f"time-entries/{entry.pk}").json()["data"]["project"]["hourly_rate"]
    alone = ec.get(f"projects/{project.pk}").json()["data"]["hourly_rate"]
    assert (in_entry, alone) == (95.5, "95.50")


def test_projects_cursor_walk(ec, administration):
    projects = [ProjectFactory(administration=administration) for _ in range(7)]
    pages = walk(ec, "projects", {"limit": 3})
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [pk for page in pages for pk in page] == sorted(str(p.pk) for p in projects)


def test_project_create(ec, administration, owner, customer):
    response = ec.post(
        "projects",
        {"name": "Shop", "customer_id": str(customer.pk), "hourly_rate": 80, "currency": "usd"},
    )
    assert response.status_code == 201, response.content
    project = Project.objects.get(name="Shop")
    assert response.json() == {"data": expected_project(project)}
    assert response.json()["data"]["hourly_rate"] == "80.00"
    assert project.currency == "USD" and project.contact == customer
    assert Event.objects.filter(action="project_created", entity_id=project.pk).exists()


def test_project_create_defaults(ec, administration):
    response = ec.post("projects", {"name": "Bare"})
    assert response.status_code == 201
    body = response.json()["data"]
    assert_project_shape(body)
    assert body["customer"] is None and body["hourly_rate"] is None
    assert body["currency"] == administration.currency and body["archived"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "Website"}, "name"),  # taken
        ({"name": "WEBSITE"}, "name"),  # taken, whatever the case
        ({"name": "P", "hourly_rate": -1}, "hourly_rate"),
        ({"name": "P", "hourly_rate": "abc"}, "hourly_rate"),
        ({"name": "P", "hourly_rate": "1.234"}, "hourly_rate"),
        ({"name": "P", "hourly_rate": "NaN"}, "hourly_rate"),
        ({"name": "P", "currency": "euro"}, "currency"),
        ({"name": "P", "currency": "E1"}, "currency"),
        ({"name": "P", "customer_id": "abc"}, "customer_id"),
        ({"name": "P", "archived": "perhaps"}, "archived"),
    ],
)
def test_project_create_validation_is_422(ec, project, body, field):
    before = snapshot()
    error = assert_error(ec.post("projects", body), 422, "VALIDATION_ERROR", field=field)
    assert set(error["details"]) == {field}
    assert snapshot() == before


def test_project_update(ec, project):
    response = ec.patch(
        f"projects/{project.pk}", {"name": "Webshop", "hourly_rate": "100", "archived": True}
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"data": expected_project(project)}
    assert project.name == "Webshop" and project.state == "archived"
    response = ec.patch(f"projects/{project.pk}", {"customer_id": None, "archived": False})
    assert response.json()["data"]["customer"] is None
    assert response.json()["data"]["archived"] is False


def test_project_update_validation_is_422(ec, administration, project):
    ProjectFactory(administration=administration, name="Taken")
    before = snapshot()
    for body, field in (
        ({"name": "taken"}, "name"),
        ({"name": None}, "name"),
        ({"hourly_rate": -5}, "hourly_rate"),
    ):
        response = ec.patch(f"projects/{project.pk}", body)
        assert_error(response, 422, "VALIDATION_ERROR", field=field)
    assert snapshot() == before


def test_project_delete(ec, administration):
    unused = ProjectFactory(administration=administration)
    response = ec.delete(f"projects/{unused.pk}")
    assert response.status_code == 204 and response.content == b""
    assert not Project.objects.filter(pk=unused.pk).exists()
    assert_error(ec.get(f"projects/{unused.pk}"), 404, "NOT_FOUND")


def test_deleting_a_project_in_use_archives_it(ec, administration, owner, project):
    TimeEntryFactory(
        administration=administration, actor=owner, user_id=owner.pk, project_id=project.pk
    )
    response = ec.delete(f"projects/{project.pk}")
    assert response.status_code == 200
    assert response.json() == {"data": expected_project(project)}
    assert project.state == "archived"


def test_project_with_another_organizations_customer_is_404(ec, project, foreign):
    before = snapshot()
    body = {"name": "Stolen", "customer_id": str(foreign.customer.pk)}
    assert_error(ec.post("projects", body), 404, "NOT_FOUND", field="customer_id")
    response = ec.patch(f"projects/{project.pk}", {"customer_id": str(foreign.customer.pk)})
    assert_error(response, 404, "NOT_FOUND", field="customer_id")
    assert snapshot() == before


# --- customers ------------------------------------------------------------------------------


def test_customers_list(ec, administration, customer):
    person = ContactFactory(
        administration=administration, company_name="", firstname="Ada", lastname="Lovelace"
    )
    body = ec.get("customers").json()
    assert_list_shape(body)
    for item in body["data"]:
        assert set(item) == CUSTOMER_KEYS
        assert is_id(item["id"]) and is_ts(item["created_at"])
    assert body["data"][0] == expected_customer(customer)
    assert body["data"][1]["name"] == "Ada Lovelace" and body["data"][1]["id"] == str(person.pk)
    assert body["data"][1]["email"] is None


def test_customers_cursor_walk(ec, administration):
    contacts = [ContactFactory(administration=administration) for _ in range(5)]
    pages = walk(ec, "customers", {"limit": 2})
    assert [pk for page in pages for pk in page] == sorted(str(c.pk) for c in contacts)


def test_customer_create_update_delete(ec):
    response = ec.post("customers", {"name": "  Acme Ltd ", "email": "a@acme.test"})
    assert response.status_code == 201, response.content
    contact = Contact.objects.get()
    assert response.json() == {"data": expected_customer(contact)}
    assert contact.company_name == "Acme Ltd"

    response = ec.patch(f"customers/{contact.pk}", {"phone": "+31 20 123", "archived": True})
    assert response.status_code == 200
    assert response.json() == {"data": expected_customer(contact)}
    assert contact.archived and contact.phone == "+31 20 123"

    response = ec.delete(f"customers/{contact.pk}")
    assert response.status_code == 204
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("method", "body", "field"),
    [
        ("post", {}, "name"),
        ("post", {"name": ""}, "name"),
        ("post", {"name": "x" * 256}, "name"),
        ("post", {"name": "A", "email": "not an address"}, "email"),
        ("patch", {"name": "   "}, "name"),
        ("patch", {"email": "nope"}, "email"),
        ("patch", {"archived": "sometimes"}, "archived"),
    ],
)
def test_customer_validation_is_422(ec, customer, method, body, field):
    before = snapshot()
    path = "customers" if method == "post" else f"customers/{customer.pk}"
    response = ec.call(method, path, body)
    assert_error(response, 422, "VALIDATION_ERROR", field=field)
    assert snapshot() == before


def test_deleting_a_customer_in_use_is_422(ec, customer, project):
    before = snapshot()
    assert_error(ec.delete(f"customers/{customer.pk}"), 422, "VALIDATION_ERROR", field="base")
    assert snapshot() == before


# --- organizations/current and members ------------------------------------------------------


def test_current_organization(ec, administration):
    response = ec.get("organizations/current")
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "id": str(administration.pk),
            "name": "Acme",
            "currency": "EUR",
            "time_zone": "Europe/Amsterdam",
            "country": "NL",
            "language": administration.language,
            "role": "owner",
            "prevent_overlapping_entries": False,
            "created_at": ts(administration.created_at),
            "updated_at": ts(administration.updated_at),
        }
    }
    assert set(response.json()["data"]) == ORGANIZATION_KEYS


@pytest.mark.parametrize(
    ("scopes", "status"),
    [
        (("team:read",), 200),
        (("entries:read",), 200),
        (("invoices:read",), 403),
        (("invoices:write",), 403),
    ],
)
def test_current_organization_scopes(owner, scopes, status):
    response = ec_api(owner, scopes=scopes).get("organizations/current")
    if status == 200:
        assert response.status_code == 200
    else:
        assert_error(response, 403, "FORBIDDEN")


def test_members(ec, administration, owner):
    admin = member(administration, role="admin", name="Ada Admin")
    plain = member(administration, role="member", name="Max Member")
    response = ec.get("members")
    assert response.status_code == 200
    body = response.json()
    assert_list_shape(body)
    assert body["data"] == [
        {
            "id": str(user.pk),
            "full_name": user.name,
            "email": user.email,
            "avatar_url": None,
            "role": role,
            "joined_at": ts(user.memberships.get().created_at),
        }
        for user, role in ((owner, "owner"), (admin, "admin"), (plain, "member"))
    ]
    assert all(set(item) == MEMBER_KEYS for item in body["data"])


def test_members_cursor_walk_and_scope(owner, administration):
    others = [member(administration) for _ in range(4)]
    pages = walk(ec_api(owner, scopes=("team:read",)), "members", {"limit": 2})
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [pk for page in pages for pk in page] == [str(u.pk) for u in [owner, *others]]
    assert_error(
        ec_api(owner, scopes=("entries:read", "entries:write")).get("members"), 403, "FORBIDDEN"
    )


@pytest.mark.parametrize("path", ["members", "organizations/current"])
def test_read_only_routes_answer_405_to_writes(ec, path):
    assert_error(ec.post(path, {}), 405, "METHOD_NOT_ALLOWED")


def test_members_query_count_does_not_grow(ec, administration):
    for _ in range(12):
        member(administration)
    counts = []
    for limit in (2, 12):
        with CaptureQueriesContext(connection) as queries:
            assert ec.get("members", {"limit": limit}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- scopes and tenants on every route ------------------------------------------------------


def write_routes(project, customer) -> list[tuple[str, str, dict | None]]:
    return [
        ("post", "projects", {"name": "New"}),
        ("patch", f"projects/{project.pk}", {"name": "Changed"}),
        ("delete", f"projects/{project.pk}", None),
        ("post", "customers", {"name": "New"}),
        ("patch", f"customers/{customer.pk}", {"name": "Changed"}),
        ("delete", f"customers/{customer.pk}", None),
    ]


@pytest.mark.parametrize("index", range(6))
def test_a_token_without_entries_write_cannot_write(owner, project, customer, index):
    reader = ec_api(owner, scopes=("entries:read", "team:read"))
    method, path, body = write_routes(project, customer)[index]
    before = snapshot()
    assert_error(reader.call(method, path, body), 403, "FORBIDDEN")
    assert snapshot() == before


@pytest.mark.parametrize("path", ["projects", "customers"])
def test_reads_need_entries_read(owner, path):
    assert_error(ec_api(owner, scopes=("team:read",)).get(path), 403, "FORBIDDEN")


def id_routes(project_id, customer_id) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", f"projects/{project_id}", None),
        ("patch", f"projects/{project_id}", {"name": "Changed"}),
        ("delete", f"projects/{project_id}", None),
        ("get", f"customers/{customer_id}", None),
        ("patch", f"customers/{customer_id}", {"name": "Changed"}),
        ("delete", f"customers/{customer_id}", None),
    ]


@pytest.mark.parametrize("index", range(6))
def test_another_organizations_ids_are_404_and_unchanged(ec, project, foreign, index):
    method, path, body = id_routes(foreign.project.pk, foreign.customer.pk)[index]
    before = snapshot()
    assert_error(ec.call(method, path, body), 404, "NOT_FOUND", field="id")
    assert snapshot() == before


@pytest.mark.parametrize("index", range(6))
@pytest.mark.parametrize("pk", ["34123123", "x1", "0", "99999999999999999999"])
def test_unknown_ids_are_404(ec, index, pk):
    method, path, body = id_routes(pk, pk)[index]
    assert_error(ec.call(method, path, body), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "path", ["projects", "customers", "members", "organizations/current", "time-entries"]
)
def test_another_organization_in_the_header_is_404_on_every_list(owner, project, foreign, path):
    ec = ec_api(owner, organization=foreign.administration)
    assert_error(ec.get(path), 404, "NOT_FOUND", field="X-Organization-Id")


def test_lists_never_show_another_organizations_records(ec, project, customer, foreign):
    assert [p["id"] for p in ec.get("projects").json()["data"]] == [str(project.pk)]
    assert [c["id"] for c in ec.get("customers").json()["data"]] == [str(customer.pk)]
    assert foreign.owner.email not in [m["email"] for m in ec.get("members").json()["data"]]


def test_unknown_v1_path_is_404_in_expensicat_shape(ec):
    assert_error(ec.get("invoices-and-more"), 404, "NOT_FOUND")


# --- which organization ---------------------------------------------------------------------


@pytest.fixture
def second(owner):
    """Another organization `owner` belongs to (as an admin)."""
    other = AdministrationFactory(name="Second")
    services.member_add(administration=other, actor=None, email=owner.email, role="admin")
    return other


def current(ec) -> str:
    response = ec.get("organizations/current")
    assert response.status_code == 200, response.content
    return response.json()["data"]["id"]


def test_the_only_membership_needs_no_header(ec, administration):
    assert current(ec) == str(administration.pk)


def test_several_memberships_need_the_header(owner, administration, second):
    error = assert_error(
        ec_api(owner).get("organizations/current"), 400, "BAD_REQUEST", field="X-Organization-Id"
    )
    assert "X-Organization-Id" in error["message"]
    assert current(ec_api(owner, organization=administration)) == str(administration.pk)
    chosen = ec_api(owner, organization=second)
    assert current(chosen) == str(second.pk)
    assert chosen.get("organizations/current").json()["data"]["role"] == "admin"


@pytest.mark.parametrize("header", ["", "abc", "0", "34123123", "99999999999999999999"])
def test_a_header_naming_no_reachable_organization_is_404(owner, header):
    response = ec_api(owner, organization=header).get("organizations/current")
    assert_error(response, 404, "NOT_FOUND", field="X-Organization-Id")


def test_a_restricted_token_uses_its_organization(owner, administration, second):
    restricted = ec_api(owner, administration=second)
    assert current(restricted) == str(second.pk)
    assert current(ec_api(owner, administration=second, organization=second)) == str(second.pk)
    # The header cannot reach past the restriction, even to the user's other organization.
    response = ec_api(owner, administration=second, organization=administration).get("members")
    assert_error(response, 404, "NOT_FOUND", field="X-Organization-Id")


def test_a_user_without_organizations_is_404(db):
    loner = services.user_get_or_create(email="loner@example.com")[0]
    assert_error(ec_api(loner).get("organizations/current"), 404, "NOT_FOUND")


def test_a_session_claim_decides_like_a_restricted_token(owner, administration, second):
    """Session JWTs will carry organization_id; resolve_organization reads it first."""

    def request(claim, header=None):
        headers = {} if header is None else {"X-Organization-Id": str(header)}
        auth = SimpleNamespace(organization_id=claim)
        return SimpleNamespace(user=owner, auth=auth, headers=headers)

    assert resolve_organization(request(second.pk)) == second
    assert resolve_organization(request(administration.pk, administration.pk)) == administration
    with pytest.raises(NotFound):
        resolve_organization(request(second.pk, administration.pk))
    with pytest.raises(NotFound):
        resolve_organization(request(AdministrationFactory().pk))
    with pytest.raises(BadRequest):
        resolve_organization(request(None))


# --- customers are covered by the invoices scopes ---------------------------------------------


def oauth_client(user, scope: str):
    """An Expensicat client with an OAuth2 access token holding exactly `scope`."""
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken
    from rest_framework.test import APIClient

    secret = "uwo_customer-scope-test-token"
    AccessToken.objects.create(
        user=user, token=secret, scope=scope, expires=timezone.now() + timedelta(hours=1)
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.mark.parametrize("index", range(5))
def test_an_entries_only_oauth_token_gets_403_for_customers(owner, customer, index):
    client = oauth_client(owner, "entries:read entries:write")
    method, path, body = [
        ("get", "customers", None),
        ("post", "customers", {"name": "New"}),
        ("get", f"customers/{customer.pk}", None),
        ("patch", f"customers/{customer.pk}", {"name": "Changed"}),
        ("delete", f"customers/{customer.pk}", None),
    ][index]
    before = snapshot()
    response = getattr(client, method)(f"/api/v1/{path}", body, format="json")
    error = assert_error(response, 403, "FORBIDDEN")
    assert customer.company_name not in response.content.decode()
    assert "invoices" in error["message"]
    assert snapshot() == before


def test_the_same_oauth_token_still_reads_projects_and_entries(owner, project):
    client = oauth_client(owner, "entries:read entries:write")
    assert client.get("/api/v1/projects").status_code == 200
    assert client.get("/api/v1/time-entries").status_code == 200


def test_invoices_read_reads_customers_but_does_not_write_them(owner, customer):
    client = oauth_client(owner, "invoices:read")
    body = client.get("/api/v1/customers").json()
    assert [c["id"] for c in body["data"]] == [str(customer.pk)]
    assert client.get(f"/api/v1/customers/{customer.pk}").status_code == 200
    before = snapshot()
    response = client.patch(f"/api/v1/customers/{customer.pk}", {"name": "X"}, format="json")
    assert_error(response, 403, "FORBIDDEN")
    assert snapshot() == before


def test_invoices_write_writes_customers(owner, customer):
    client = oauth_client(owner, "invoices:write")
    response = client.post("/api/v1/customers", {"name": "Acme"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["data"]["name"] == "Acme"


def test_a_projects_customer_inside_a_time_entry_stays_visible_with_entries_read(
    owner, administration, project, customer
):
    TimeEntryFactory(administration=administration, user_id=owner.pk, project_id=project.pk)
    client = oauth_client(owner, "entries:read")
    body = client.get("/api/v1/time-entries").json()
    [entry] = body["data"]
    assert entry["project"]["customer"] == {"id": str(customer.pk), "name": customer.company_name}
    project_body = client.get(f"/api/v1/projects/{project.pk}").json()["data"]
    assert project_body["customer"]["id"] == str(customer.pk)


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_hourly_rate_clears_it_as_the_schema_says(ec, project, blank):
    # Found by fuzzing: DRF reads a blank decimal as null, which the schema refused.
    response = ec.patch(f"projects/{project.pk}", {"hourly_rate": blank})
    assert response.status_code == 200, response.content
    assert response.json()["data"]["hourly_rate"] is None
    schema = APIClient().get("/api/schema/expensicat/", {"format": "json"}).json()
    rate = schema["components"]["schemas"]["PatchedExpensicatProjectInputRequest"]
    pattern = rate["properties"]["hourly_rate"]["oneOf"][0]["pattern"]
    assert re.search(pattern, blank) and re.search(pattern, " 12.50 ")
    assert not re.search(pattern, "12.5x")
