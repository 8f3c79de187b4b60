"""The Moneybird projects API at the HTTP layer: every example of the OpenAPI's five project
operations with whole bodies, the state filter, paging (25 a page), delete versus archive, the
audit events of every write, scopes, tenant isolation, bad input and the list's query count."""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from administrations import services
from administrations.models import Project
from notes.models import Event
from tests.conftest import Api
from tests.factories import AdministrationFactory, ProjectFactory, TokenFactory, member
from tests.timeentries.moneybird_support import (
    ID_RE,
    NOT_FOUND,
    local,
    local_today,
    make_entry,
    not_found,
    unprocessable,
)
from timeentries.models import TimeEntry

PROJECT_KEYS = {"id", "name", "state", "budget"}
GET_NOT_FOUND = {"error": "Record not found for model name: Project"}
BLANK_NAME = unprocessable(name=("blank", "can't be blank"))
TAKEN_NAME = unprocessable(name=("taken", "has already been taken"))
MISSING_PROJECT = {
    "error": "param is missing or the value is empty: project",
    "symbolic": {"project": "missing"},
}


def expected(project: Project) -> dict:
    project.refresh_from_db()
    return {
        "id": str(project.pk),
        "name": project.name,
        "state": project.state,
        "budget": project.budget,
    }


def assert_project_shape(body: dict) -> None:
    """The OpenAPI's project_response: exactly these keys, with these types."""
    assert set(body) == PROJECT_KEYS
    assert isinstance(body["id"], str) and ID_RE.match(body["id"])
    assert isinstance(body["name"], str) and body["name"]
    assert body["state"] in ("active", "archived")
    assert body["budget"] is None or type(body["budget"]) is int


def events(project_id, action=None) -> list[Event]:
    rows = Event.objects.filter(subject_type="Project", entity_id=project_id).order_by("id")
    return list(rows if action is None else rows.filter(action=action))


def snapshot():
    """Everything a project write could touch."""
    return (
        sorted(Project.objects.values_list("pk", "name", "state", "budget", "updated_at")),
        Event.objects.count(),
    )


@pytest.fixture
def project(administration):
    return ProjectFactory(administration=administration, name="Project 1", budget=10)


@pytest.fixture
def archived(administration):
    project = ProjectFactory(administration=administration, name="Project Blackbird", budget=10)
    return services.project_update(project=project, actor=None, changes={"state": "archived"})


@pytest.fixture
def foreign(db):
    """Another administration, with its own owner and a project that has a time entry."""
    administration = AdministrationFactory(name="Other")
    owner = member(administration, role="owner")
    project = ProjectFactory(administration=administration, name="Project 1", budget=3)
    make_entry(administration, owner, local(local_today(), 9), project_id=project.pk)
    return administration, project


def send(api, method, path, body=None):
    url = path if path.startswith("/") else api.url(path)
    if method in ("post", "patch", "put"):
        return getattr(api.client, method)(url, body, format="json")
    return getattr(api.client, method)(url)


def routes(project_id):
    """(name, method, path, body) for every projects route, aimed at `project_id`."""
    return [
        ("list", "get", "projects", None),
        ("create", "post", "projects", {"project": {"name": "Routed"}}),
        ("get", "get", f"projects/{project_id}", None),
        ("update", "patch", f"projects/{project_id}", {"project": {"name": "Hijack"}}),
        ("replace", "put", f"projects/{project_id}", {"project": {"budget": 99}}),
        ("delete", "delete", f"projects/{project_id}", None),
    ]


ROUTE_NAMES = [name for name, *_ in routes(1)]
ID_ROUTES = ["get", "update", "replace", "delete"]


def route(name, project_id):
    return next(r for r in routes(project_id) if r[0] == name)


# --- the OpenAPI's examples ---------------------------------------------------------------------


def test_returns_the_list_of_projects(api, project, archived):
    response = api.get("projects.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == [
        {"id": str(project.pk), "name": "Project 1", "state": "active", "budget": 10}
    ]
    assert_project_shape(response.json()[0])
    assert response["X-Total-Count"] == "1"
    assert not response.has_header("Link")


def test_returns_the_list_of_filtered_archived_projects(api, project, archived):
    response = api.get("projects.json", {"filter": "state:archived"})
    assert response.status_code == 200
    assert response.json() == [
        {"id": str(archived.pk), "name": "Project Blackbird", "state": "archived", "budget": 10}
    ]


def test_returns_a_400_if_page_param_is_invalid(api, project):
    response = api.get("projects.json", {"page": 0})
    assert response.status_code == 400
    assert response.json() == {"error": "Page is too small", "symbolic": {"page": "min"}}


def test_creates_a_new_project(api, administration, owner):
    response = api.post("projects.json", {"project": {"name": "Falcon"}})
    assert response.status_code == 201
    project = Project.objects.get()
    assert response.json() == {
        "id": str(project.pk),
        "name": "Falcon",
        "state": "active",
        "budget": None,
    }
    assert project.administration == administration
    assert project.currency == administration.currency
    [created] = events(project.pk)
    assert (created.action, created.user, created.administration) == (
        "project_created",
        owner,
        administration,
    )


@pytest.mark.parametrize("body", [{"name": ""}, {}, {"name": None}, {"name": "   "}])
def test_returns_an_error_when_information_is_missing(api, body):
    before = snapshot()
    response = api.post("projects.json", {"project": body})
    assert response.status_code == 422
    assert response.json() == BLANK_NAME
    assert snapshot() == before


def test_returns_a_single_project(api, project):
    response = api.get(f"projects/{project.pk}.json")
    assert response.status_code == 200
    assert response.json() == {
        "id": str(project.pk),
        "name": "Project 1",
        "state": "active",
        "budget": 10,
    }


@pytest.mark.parametrize("project_id", ["496081426286904547", "1", "9999999999999999999"])
def test_returns_404_when_project_does_not_exist(api, project, project_id):
    response = api.get(f"projects/{project_id}.json")
    assert response.status_code == 404
    assert response.json() == GET_NOT_FOUND


def test_updates_a_project(api, owner, project):
    response = api.patch(
        f"projects/{project.pk}.json", {"project": {"name": "Eagle", "budget": 1000}}
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": str(project.pk),
        "name": "Eagle",
        "state": "active",
        "budget": 1000,
    }
    assert response.json() == expected(project)
    [updated] = events(project.pk, "project_updated")
    assert updated.user == owner
    assert updated.data == {"name": ["Project 1", "Eagle"], "budget": [10, 1000]}


@pytest.mark.parametrize("method", ["patch", "delete"])
@pytest.mark.parametrize("project_id", ["496081426286904547", "9999999999999999999"])
def test_returns_a_404_when_the_project_does_not_exist(api, project, method, project_id):
    before = snapshot()
    response = send(api, method, f"projects/{project_id}.json", {"project": {"name": "Eagle"}})
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert snapshot() == before


@pytest.mark.parametrize("name", ["", None, "  "])
def test_returns_a_422_when_the_project_is_invalid(api, project, name):
    before = snapshot()
    response = api.patch(f"projects/{project.pk}.json", {"project": {"name": name}})
    assert response.status_code == 422
    assert response.json() == BLANK_NAME
    assert snapshot() == before


def test_deletes_a_project_without_links(api, administration, owner, project):
    response = api.delete(f"projects/{project.pk}.json")
    assert response.status_code == 204
    assert response.content == b""
    assert not Project.objects.filter(pk=project.pk).exists()
    [destroyed] = events(project.pk, "project_destroyed")
    assert (destroyed.user, destroyed.administration, destroyed.data) == (
        owner,
        administration,
        {"name": "Project 1"},
    )
    assert api.get(f"projects/{project.pk}").json() == GET_NOT_FOUND


# --- delete versus archive ----------------------------------------------------------------------


def test_delete_archives_a_project_that_time_entries_use(api, administration, owner, project):
    entry = make_entry(administration, owner, local(local_today(), 9), project_id=project.pk)
    response = api.delete(f"projects/{project.pk}")
    assert response.status_code == 204
    assert response.content == b""
    project.refresh_from_db()
    assert project.state == "archived"
    entry.refresh_from_db()
    assert entry.project_id == project.pk
    assert [e.action for e in events(project.pk)] == ["project_created", "project_archived"]
    archived_event = events(project.pk, "project_archived")[0]
    assert (archived_event.user, archived_event.data) == (owner, {"state": ["active", "archived"]})
    # Still there, now among the archived ones, and the entry still shows it.
    assert api.get(f"projects/{project.pk}").json() == {**expected(project), "state": "archived"}
    assert api.get("projects").json() == []
    assert [p["id"] for p in api.get("projects", {"filter": "state:archived"}).json()] == [
        str(project.pk)
    ]
    shown = api.get(f"time_entries/{entry.pk}").json()["project"]
    assert shown == {"id": str(project.pk), "name": "Project 1", "state": "archived", "budget": 10}


def test_deleting_an_archived_project_in_use_again_changes_nothing(
    api, administration, owner, project
):
    make_entry(administration, owner, local(local_today(), 9), project_id=project.pk)
    assert api.delete(f"projects/{project.pk}").status_code == 204
    before = snapshot()
    response = api.delete(f"projects/{project.pk}")
    assert response.status_code == 204
    assert snapshot() == before


def test_an_archived_project_without_entries_is_deleted(api, archived):
    assert api.delete(f"projects/{archived.pk}").status_code == 204
    assert not Project.objects.filter(pk=archived.pk).exists()
    assert [e.action for e in events(archived.pk)] == [
        "project_created",
        "project_archived",
        "project_destroyed",
    ]


def test_delete_after_the_last_entry_left_deletes(api, administration, owner, project):
    entry = make_entry(administration, owner, local(local_today(), 9), project_id=project.pk)
    api.patch(f"time_entries/{entry.pk}", {"time_entry": {"project_id": None}})
    assert api.delete(f"projects/{project.pk}").status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()


# --- the state filter ---------------------------------------------------------------------------


@pytest.fixture
def mixed(administration, project, archived):
    other = ProjectFactory(administration=administration, name="Another active")
    return {"active": [other, project], "archived": [archived]}


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [p["name"] for p in response.json()]


@pytest.mark.parametrize(
    ("filter_string", "expected_names"),
    [
        (None, ["Another active", "Project 1"]),
        ("", ["Another active", "Project 1"]),
        (" ", ["Another active", "Project 1"]),
        ("state:active", ["Another active", "Project 1"]),
        ("state:archived", ["Project Blackbird"]),
        ("state:all", ["Another active", "Project 1", "Project Blackbird"]),
        ("state:archived|active", ["Another active", "Project 1", "Project Blackbird"]),
        ("state:active|all", ["Another active", "Project 1", "Project Blackbird"]),
    ],
)
def test_state_filter(api, mixed, filter_string, expected_names):
    params = {} if filter_string is None else {"filter": filter_string}
    assert names(api.get("projects", params)) == expected_names


@pytest.mark.parametrize(
    ("filter_string", "names_term"),
    [
        ("state:bogus", "bogus"),
        ("state:active|bogus", "bogus"),
        ("state:Active", "Active"),
        ("state", "state"),
        ("state:", "state:"),
        ("period:this_year", "period"),
        ("state:all,state:active", "state"),
        ("State:all", "State:all"),
    ],
)
def test_malformed_filter_is_400_naming_the_term(api, mixed, filter_string, names_term):
    response = api.get("projects", {"filter": filter_string})
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"error", "symbolic"}
    assert body["symbolic"] == {"filter": "invalid"}
    assert names_term in body["error"]


# --- paging -------------------------------------------------------------------------------------

LINK_RE = re.compile(r'<([^>]+)>; rel="(next|prev)"')


def links(response) -> dict[str, dict[str, str]]:
    result = {}
    for url, rel in LINK_RE.findall(response.get("Link", "")):
        parts = urlsplit(url)
        result[rel] = {
            "path": parts.path,
            **{k: v[0] for k, v in parse_qs(parts.query).items()},
        }
    return result


@pytest.fixture
def thirty(administration):
    made = [ProjectFactory(administration=administration, name=f"P{n:02d}") for n in range(30)]
    return [str(p.pk) for p in made]  # already in name order


def test_25_projects_a_page_by_default_with_link_header(api, administration, thirty):
    path = f"/api/v2/{administration.pk}/projects.json"
    first = api.get("projects.json")
    assert [p["id"] for p in first.json()] == thirty[:25]
    assert first["X-Total-Count"] == "30"
    assert links(first) == {"next": {"path": path, "page": "2", "per_page": "25"}}
    second = api.client.get(LINK_RE.search(first["Link"])[1])
    assert [p["id"] for p in second.json()] == thirty[25:]
    assert links(second) == {"prev": {"path": path, "page": "1", "per_page": "25"}}


def test_per_page_and_page_keep_the_filter(api, administration, thirty, archived):
    response = api.get("projects", {"per_page": 10, "page": 2, "filter": "state:all"})
    every = [p["id"] for p in api.get("projects", {"per_page": 100, "filter": "state:all"}).json()]
    assert [p["id"] for p in response.json()] == every[10:20]
    assert response["X-Total-Count"] == "31"
    path = f"/api/v2/{administration.pk}/projects"
    query = {"path": path, "filter": "state:all", "per_page": "10"}
    assert links(response) == {"next": {**query, "page": "3"}, "prev": {**query, "page": "1"}}


def test_page_beyond_the_end_is_empty(api, thirty):
    response = api.get("projects", {"page": 9})
    assert (response.status_code, response.json(), response["X-Total-Count"]) == (200, [], "30")


@pytest.mark.parametrize("page", ["0", "-1", "-99999999999"])
def test_page_below_one_is_too_small(api, page):
    response = api.get("projects", {"page": page})
    assert response.status_code == 400
    assert response.json() == {"error": "Page is too small", "symbolic": {"page": "min"}}


@pytest.mark.parametrize(
    ("params", "body"),
    [
        (
            {"page": "abc"},
            {"error": "page does not have a valid value", "symbolic": {"page": "invalid"}},
        ),
        (
            {"page": "1.5"},
            {"error": "page does not have a valid value", "symbolic": {"page": "invalid"}},
        ),
        (
            {"per_page": "0"},
            {"error": "per_page does not have a valid value", "symbolic": {"per_page": "invalid"}},
        ),
        (
            {"per_page": "x"},
            {"error": "per_page does not have a valid value", "symbolic": {"per_page": "invalid"}},
        ),
        (
            {"per_page": "101"},
            {"error": "per_page does not have a valid value", "symbolic": {"per_page": "max"}},
        ),
    ],
)
def test_other_bad_paging_is_400(api, params, body):
    response = api.get("projects", params)
    assert response.status_code == 400
    assert response.json() == body


def test_list_query_count_does_not_grow_with_the_page(api, administration, thirty):
    counts = []
    for per_page in (1, 30):
        with CaptureQueriesContext(connection) as queries:
            response = api.get("projects", {"per_page": per_page})
        assert len(response.json()) == per_page
        counts.append(len(queries))
    # token, administration, count, page
    assert counts == [4, 4]


# --- writes and their events ----------------------------------------------------------------------


def test_every_write_is_audited(api, administration, owner):
    created = api.post("projects", {"project": {"name": "Falcon", "budget": 5}}).json()
    pk = int(created["id"])
    api.patch(f"projects/{pk}", {"project": {"budget": 8}})
    api.patch(f"projects/{pk}", {"project": {"name": "Falcon", "budget": 8}})  # no change
    send(api, "put", f"projects/{pk}", {"project": {"name": "Eagle"}})
    api.delete(f"projects/{pk}")
    rows = events(pk)
    assert [(e.action, e.data) for e in rows] == [
        ("project_created", {}),
        ("project_updated", {"budget": [5, 8]}),
        ("project_updated", {"name": ["Falcon", "Eagle"]}),
        ("project_destroyed", {"name": "Eagle"}),
    ]
    assert {(e.user, e.administration) for e in rows} == {(owner, administration)}


def test_create_with_a_budget(api):
    response = api.post("projects", {"project": {"name": "Falcon", "budget": 12}})
    assert response.status_code == 201
    assert response.json() == expected(Project.objects.get())
    assert response.json()["budget"] == 12


def test_update_only_touches_the_given_attributes(api, project):
    response = api.patch(f"projects/{project.pk}", {"project": {"budget": None}})
    assert response.status_code == 200
    assert response.json() == {**expected(project), "name": "Project 1", "budget": None}


def test_an_empty_update_changes_nothing(api, project):
    before = snapshot()
    response = api.patch(f"projects/{project.pk}", {"project": {}})
    assert response.status_code == 200
    assert response.json() == expected(project)
    assert snapshot() == before


def test_state_cannot_be_set_through_the_api(api, project):
    """Moneybird's project body has only name and budget; other keys are dropped, as its
    permitted parameters do. Archiving goes through DELETE."""
    before = snapshot()
    response = api.patch(f"projects/{project.pk}", {"project": {"state": "archived", "id": 1}})
    assert response.status_code == 200
    assert response.json()["state"] == "active"
    assert snapshot() == before
    created = api.post("projects", {"project": {"name": "Falcon", "state": "archived"}})
    assert created.json()["state"] == "active"


def test_name_is_trimmed(api):
    response = api.post("projects", {"project": {"name": "  Falcon \n"}})
    assert response.status_code == 201
    assert response.json()["name"] == "Falcon"


@pytest.mark.parametrize("name", ["Project 1", "project 1", "PROJECT 1", " Project 1 "])
def test_create_with_a_name_taken_in_any_case_is_422(api, project, name):
    before = snapshot()
    response = api.post("projects", {"project": {"name": name}})
    assert response.status_code == 422
    assert response.json() == TAKEN_NAME
    assert snapshot() == before


def test_rename_to_a_taken_name_is_422(api, administration, project):
    other = ProjectFactory(administration=administration, name="Falcon")
    before = snapshot()
    response = api.patch(f"projects/{other.pk}", {"project": {"name": "PROJECT 1"}})
    assert response.status_code == 422
    assert response.json() == TAKEN_NAME
    assert snapshot() == before


def test_a_project_may_change_the_case_of_its_own_name(api, project):
    response = api.patch(f"projects/{project.pk}", {"project": {"name": "PROJECT 1"}})
    assert response.status_code == 200
    assert response.json()["name"] == "PROJECT 1"


def test_the_same_name_in_another_administration_is_fine(api, foreign):
    response = api.post("projects", {"project": {"name": foreign[1].name}})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("budget", "stored"),
    [(7, 7), (0, 0), (1.0, 1), ("1.0", 1), ("10", 10), ("10,0", 10), (" 3 ", 3), (None, None)],
)
def test_budget_forms_moneybird_accepts(api, project, budget, stored):
    response = api.patch(f"projects/{project.pk}", {"project": {"budget": budget}})
    assert response.status_code == 200, response.content
    assert response.json()["budget"] == stored
    assert type(response.json()["budget"]) is type(stored)


BAD_INPUT = [
    ("budget", 1.5, "invalid", "must be a whole number of hours"),
    ("budget", "1,5", "invalid", "must be a whole number of hours"),
    ("budget", -1, "invalid", "must be a whole number of hours"),
    ("budget", "-3", "invalid", "must be a whole number of hours"),
    ("budget", 2**31, "less_than_or_equal_to", "must be less than or equal to 2147483647"),
    ("budget", 10**30, "less_than_or_equal_to", "must be less than or equal to 2147483647"),
    ("budget", True, "not_a_number", "is not a number"),
    ("budget", "ten", "not_a_number", "is not a number"),
    ("budget", "1e3", "not_a_number", "is not a number"),
    ("budget", "", "not_a_number", "is not a number"),
    ("budget", [1], "not_a_number", "is not a number"),
    ("budget", {"hours": 1}, "not_a_number", "is not a number"),
    ("name", ["Falcon"], "invalid", "is not a string"),
    ("name", {"name": "Falcon"}, "invalid", "is not a string"),
    ("name", True, "invalid", "is not a string"),
    ("name", "x" * 256, "too_long", "is too long (maximum is 255 characters)"),
    ("name", "Fal\x00con", "null_characters_not_allowed", "Null characters are not allowed."),
]


@pytest.mark.parametrize(("field", "value", "code", "message"), BAD_INPUT)
def test_bad_input_on_create_is_422(api, field, value, code, message):
    body = {"name": "Falcon", field: value}
    response = api.post("projects", {"project": body})
    assert response.status_code == 422, response.content
    assert response.json() == unprocessable(**{field: (code, message)})
    assert not Project.objects.exists()


@pytest.mark.parametrize(("field", "value", "code", "message"), BAD_INPUT)
def test_bad_input_on_update_is_422(api, project, field, value, code, message):
    before = snapshot()
    response = api.patch(f"projects/{project.pk}", {"project": {field: value}})
    assert response.status_code == 422, response.content
    assert response.json() == unprocessable(**{field: (code, message)})
    assert snapshot() == before


def test_a_name_of_255_characters_is_fine(api):
    response = api.post("projects", {"project": {"name": "x" * 255}})
    assert response.status_code == 201


def test_a_numeric_name_is_read_as_text(api):
    response = api.post("projects", {"project": {"name": 2026}})
    assert response.status_code == 201
    assert response.json()["name"] == "2026"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "Unwrapped"},
        {"project": None},
        {"project": "Falcon"},
        {"project": ["x"]},
        [],
        "x",
    ],
)
@pytest.mark.parametrize("method", ["post", "patch"])
def test_missing_project_wrapper_is_400(api, project, body, method):
    before = snapshot()
    path = "projects" if method == "post" else f"projects/{project.pk}"
    response = getattr(api.client, method)(
        api.url(path), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == MISSING_PROJECT
    assert snapshot() == before


@pytest.mark.parametrize("raw", ["{bad", '{"project": {"name": "x",}}', "nul", '{"project": NaN}'])
@pytest.mark.parametrize("method", ["post", "patch"])
def test_invalid_json_is_400(api, project, raw, method):
    before = snapshot()
    path = "projects" if method == "post" else f"projects/{project.pk}"
    response = getattr(api.client, method)(api.url(path), raw, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"].startswith("Invalid request body: JSON parse error")
    assert snapshot() == before


def test_form_encoded_body_is_415_not_a_crash(api):
    response = api.client.post(
        api.url("projects"), "project[name]=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert set(response.json()) == {"error"}
    assert not Project.objects.exists()


# --- who may: tokens and scopes -----------------------------------------------------------------


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_settings_scope_is_enough_on_every_route(make_api, administration, owner, project, name):
    settings_only = make_api(administration, owner, scopes=("settings",))
    _, method, path, body = route(name, project.pk)
    response = send(settings_only, method, path, body)
    assert response.status_code in (200, 201, 204), response.content


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_without_settings_scope_is_401_on_every_route(
    make_api, administration, owner, project, name
):
    limited = make_api(administration, owner, scopes=("time_entries", "sales_invoices"))
    before = snapshot()
    _, method, path, body = route(name, project.pk)
    response = send(limited, method, path, body)
    assert response.status_code == 401
    assert response.json() == {"error": "No access to settings"}
    assert snapshot() == before


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_without_token_is_401_on_every_route(api, project, name):
    api.client.credentials()
    before = snapshot()
    _, method, path, body = route(name, project.pk)
    response = send(api, method, path, body)
    assert response.status_code == 401
    assert response.json() == {"error": "Authentication credentials were not provided"}
    assert snapshot() == before


# --- tenants ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ID_ROUTES)
def test_another_administrations_project_is_404_on_every_route(api, project, foreign, name):
    """Our administration in the URL, the other one's project id: as if it did not exist."""
    before = snapshot()
    _, method, path, body = route(name, foreign[1].pk)
    response = send(api, method, path, body)
    assert response.status_code == 404
    assert response.json() == (GET_NOT_FOUND if name == "get" else NOT_FOUND)
    assert snapshot() == before


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_another_administrations_url_is_404_on_every_route(api, foreign, name):
    administration, project = foreign
    before = snapshot()
    _, method, path, body = route(name, project.pk)
    response = send(api, method, f"/api/v2/{administration.pk}/{path}", body)
    assert response.status_code == 404
    assert response.json() == not_found("administration_id")
    assert snapshot() == before


def test_another_administrations_projects_never_show(api, project, foreign):
    for state in ("active", "archived", "all"):
        response = api.get("projects", {"filter": f"state:{state}", "per_page": 100})
        assert str(foreign[1].pk) not in [p["id"] for p in response.json()]
    assert api.get("projects", {"filter": "state:all"}).json() == [expected(project)]


def test_a_restricted_token_reaches_only_its_administration(api, owner, administration):
    elsewhere = AdministrationFactory(name="Elsewhere")
    services.member_add(administration=elsewhere, actor=None, email=owner.email, role="owner")
    theirs = ProjectFactory(administration=elsewhere)
    restricted = Api(administration, owner, TokenFactory(user=owner, administration=administration))
    assert restricted.get("projects").status_code == 200
    before = snapshot()
    response = send(restricted, "delete", f"/api/v2/{elsewhere.pk}/projects/{theirs.pk}")
    assert response.status_code == 404
    assert response.json() == not_found("administration_id")
    assert snapshot() == before


def test_a_project_in_use_elsewhere_is_not_archived_by_our_delete(api, foreign):
    _, project = foreign
    api.delete(f"projects/{project.pk}")
    project.refresh_from_db()
    assert project.state == "active"
    assert TimeEntry.objects.filter(project=project).exists()
