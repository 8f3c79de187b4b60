"""Tenancy, proven for every route: the walk is generated from the URL configuration.

Every route of both dialects (/api/v2/..., /api/v1/...) that takes an id in its path is called,
with every HTTP method its view allows, by a credential of another administration: the answer
is the dialect's 404 (unless EXPECTED names another answer for that route and method), in the
dialect's error shape, it reveals nothing of the record (no id nor text of the other
administration's records in the body), and nothing changes (every row of every table of ours,
events included, is the same before and after). Moneybird routes are also called with the other
administration's id in the path, Expensicat routes with it in X-Organization-Id.

The walk must know how to make a record for each route: RECORDS maps a route's URL name to a
maker. A route with an id parameter and no maker fails the walk with a message saying what to
add, so the walk cannot fall behind the URL conf. The same makers drive a check that the
administration's own credential does reach every record (else a 404 would prove nothing), and
that every id in those answers is a string.
"""

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from rest_framework.test import APIClient

from administrations import services
from administrations.models import Administration, User
from common.auth import KNOWN_SCOPES
from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    NoteFactory,
    ProjectFactory,
    TimeEntryFactory,
    TokenFactory,
    member,
)
from webhooks.models import Delivery, Webhook

METHODS = ("get", "post", "put", "patch", "delete")
# The apps whose tables the walk compares before and after each request.
OUR_APPS = ("administrations", "timeentries", "notes", "invoices")


# --- the routes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    regex: str  # the whole path pattern, without ^
    methods: tuple[str, ...]

    @property
    def dialect(self) -> str:
        return "moneybird" if self.regex.startswith("api/v2/") else "expensicat"

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(re.compile(self.regex).groupindex)

    @property
    def ids(self) -> tuple[str, ...]:
        """The path parameters that address a record (the administration's own is not one)."""
        return tuple(p for p in self.parameters if p != "administration_id")

    def url(self, values: dict[str, Any]) -> str:
        """The path with `values` put in; checked to resolve back to this route."""
        path = re.sub(r"\(\?P<(\w+)>[^()]*\)", lambda m: str(values[m.group(1)]), self.regex)
        for suffix in (r"(?:\.json)?", r"(?:\.json|\.csv)?"):
            path = path.replace(suffix, "")
        path = "/" + path.rstrip("$").replace("\\", "")
        assert resolve(path).url_name == self.name, (path, self.name)
        return path


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        regex = prefix + entry.pattern.regex.pattern.lstrip("^")
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, regex)
        else:
            yield regex, entry


def api_routes() -> list[Route]:
    """Every route of both dialects, from the URL configuration."""
    routes = []
    for regex, pattern in _patterns(get_resolver()):
        if not regex.startswith(("api/v1/", "api/v2/")):
            continue
        view = getattr(pattern.callback, "cls", None) or pattern.callback.view_class
        methods = tuple(m for m in METHODS if hasattr(view, m))
        routes.append(Route(pattern.name or regex, regex, methods))
    return routes


ROUTES = api_routes()
ID_ROUTES = [r for r in ROUTES if r.ids]


def cases(routes: list[Route]) -> list[Any]:
    return [pytest.param(r, m, id=f"{m.upper()} {r.name}") for r in routes for m in r.methods]


# --- making records ---------------------------------------------------------------------------


@dataclass
class World:
    """One administration with its owner and every record the makers made in it. Every text a
    maker writes carries `marker`, and every record's id goes into `ids`: neither may show in an
    answer to another administration's credential."""

    administration: Administration
    owner: User
    marker: str
    ids: list[int] = field(default_factory=list)
    serial: Iterator[int] = field(default_factory=count)

    def text(self, what: str) -> str:
        return f"{what} {self.marker} {next(self.serial)}"

    def keep(self, record: Any) -> Any:
        self.ids.append(record.pk)
        return record

    # The records a maker can ask for; each call makes a new one.
    def contact(self) -> Any:
        return self.keep(
            ContactFactory(
                administration=self.administration,
                company_name=self.text("Company"),
                customer_id=self.text("C").replace(" ", "-"),
            )
        )

    def project(self) -> Any:
        contact = self.contact()
        return self.keep(
            ProjectFactory(
                administration=self.administration, name=self.text("Project"), contact_id=contact.pk
            )
        )

    def entry(self, *, running: bool = False, of_today: bool = False) -> Any:
        project = self.project()
        values: dict[str, Any] = {"ended_at": None} if running else {}
        if of_today:
            # Only an entry of today in the administration's zone resumes: the factory's
            # two hours ago is yesterday there between midnight and two.
            now = timezone.now().replace(second=0, microsecond=0)
            midnight = now.astimezone(self.administration.tz).replace(hour=0, minute=0)
            values["started_at"] = max(midnight, now - timedelta(hours=2))
            values["ended_at"] = values["started_at"] + timedelta(hours=1)
        return self.keep(
            TimeEntryFactory(
                administration=self.administration,
                user_id=self.owner.pk,
                description=self.text("Entry"),
                project_id=project.pk,
                contact_id=project.contact_id,
                **values,
            )
        )

    def person(self, contact: Any) -> Any:
        return self.keep(
            services.contact_person_create(
                contact=contact,
                actor=None,
                firstname=self.text("First"),
                lastname=self.text("Last"),
                department=self.text("Department"),
            )
        )

    def note(self, entity: Any) -> Any:
        return self.keep(NoteFactory(entity=entity, actor=self.owner, note=self.text("Note")))

    def webhook(self) -> Any:
        # Straight to the table: webhook_create would test-push to the URL first.
        return self.keep(
            Webhook.objects.create(
                administration=self.administration,
                url=f"https://hooks.example.com/{self.text('hook').replace(' ', '-')}",
                enabled_events=["time_entry"],
                token=self.marker[:24],
                secret="0" * 64,
            )
        )

    def delivery(self, webhook: Any) -> Any:
        return self.keep(
            Delivery.objects.create(
                webhook=webhook,
                event_id=1,
                action="time_entry_created",
                entity_type="TimeEntry",
                entity_id=1,
                body=self.text("body"),
                idempotency_key=self.text("key").replace(" ", "-"),
                state=Delivery.State.DELIVERED,
            )
        )


@dataclass
class Target:
    """What a route is called with: its path parameters besides administration_id, and per
    method a body that the administration's own credential would have had accepted."""

    path: dict[str, Any]
    bodies: dict[str, Any] = field(default_factory=dict)


def _same_for_patch_and_put(body: Any) -> dict[str, Any]:
    return {"patch": body, "put": body}


# The registry: a route's URL name -> a maker of its record in a World. To cover a new route,
# add its name with a lambda that makes the record(s) its path addresses and returns a Target
# (the path parameters, and a valid body per writing method).
RECORDS: dict[str, Callable[[World], Target]] = {
    # Moneybird
    "mb-time-entry": lambda w: Target(
        {"pk": w.entry().pk},
        _same_for_patch_and_put({"time_entry": {"description": "Changed"}}),
    ),
    "mb-time-entry-stop": lambda w: Target({"pk": w.entry(running=True).pk}),
    "mb-time-entry-resume": lambda w: Target({"pk": w.entry(of_today=True).pk}),
    "mb-time-entry-notes": lambda w: Target(
        {"time_entry_id": w.entry().pk}, {"post": {"note": {"note": "Hello"}}}
    ),
    "mb-time-entry-note": lambda w: (
        lambda entry: Target({"time_entry_id": entry.pk, "pk": w.note(entry).pk})
    )(w.entry()),
    "mb-contact": lambda w: Target(
        {"pk": w.contact().pk}, _same_for_patch_and_put({"contact": {"company_name": "Changed"}})
    ),
    "mb-contact-archive": lambda w: Target({"pk": w.contact().pk}),
    "mb-contact-by-customer-id": lambda w: Target({"customer_id": w.contact().customer_id}),
    "mb-contact-notes": lambda w: Target(
        {"contact_id": w.contact().pk}, {"post": {"note": {"note": "Hello"}}}
    ),
    "mb-contact-note": lambda w: (
        lambda contact: Target({"contact_id": contact.pk, "pk": w.note(contact).pk})
    )(w.contact()),
    "mb-contact-people": lambda w: Target(
        {"contact_id": w.contact().pk},
        {"post": {"contact_person": {"firstname": "John", "lastname": "Doe"}}},
    ),
    "mb-contact-person": lambda w: (
        lambda contact: Target(
            {"contact_id": contact.pk, "pk": w.person(contact).pk},
            {"patch": {"contact_person": {"firstname": "Jane"}}},
        )
    )(w.contact()),
    "mb-project": lambda w: Target(
        {"pk": w.project().pk}, _same_for_patch_and_put({"project": {"name": "Changed"}})
    ),
    "mb-webhook": lambda w: Target({"pk": w.webhook().pk}),
    "mb-webhook-activate": lambda w: Target({"pk": w.webhook().pk}),
    "mb-webhook-deactivate": lambda w: Target({"pk": w.webhook().pk}),
    "mb-webhook-deliveries": lambda w: Target({"pk": w.webhook().pk}),
    "mb-webhook-redeliver": lambda w: (
        lambda hook: Target({"pk": hook.pk, "delivery_id": w.delivery(hook).pk})
    )(w.webhook()),
    # Expensicat
    "ec-time-entry": lambda w: Target({"pk": w.entry().pk}, {"patch": {"description": "Changed"}}),
    "ec-project": lambda w: Target({"pk": w.project().pk}, {"patch": {"name": "Changed"}}),
    "ec-customer": lambda w: Target({"pk": w.contact().pk}, {"patch": {"name": "Changed"}}),
}

# Where a dialect documents another answer than 404 for a record not found (route, method).
EXPECTED: dict[tuple[str, str], int] = {
    # Moneybird's ReturnsA422StatusWhenAWrongContactPersonIdIsProvided: {"contact": ["must exist"]}
    ("mb-contact-people", "post"): 422,
}

# What the administration's own credential gets from a route (else 200).
OWN_STATUS: dict[str, int] = {"delete": 204, "post": 201}
OWN_STATUS_BY_ROUTE: dict[tuple[str, str], int] = {
    ("mb-contact-archive", "patch"): 204,
}


def target(route: Route, world: World) -> Target:
    maker = RECORDS.get(route.name)
    if maker is None:
        pytest.fail(
            f"The route {route.name!r} (/{route.regex}) takes the id(s) {', '.join(route.ids)} "
            f"but the tenancy walk cannot make its record: add {route.name!r} to RECORDS in "
            f"{__name__.replace('.', '/')}.py (a maker returning Target(path, bodies))."
        )
    made = maker(world)
    missing = set(route.ids) - set(made.path)
    assert not missing, f"RECORDS[{route.name!r}] gives no value for {missing}"
    return made


# --- the two administrations -----------------------------------------------------------------


@pytest.fixture
def mine(db) -> World:
    administration = AdministrationFactory(name="Mine")
    return World(administration, member(administration, role="owner"), "mine-7f3a")


@pytest.fixture
def theirs(db) -> World:
    administration = AdministrationFactory(name="Theirs d41c")
    owner = member(administration, role="owner", email="owner-d41c@theirs.test")
    return World(administration, owner, "theirs-d41c", ids=[administration.pk, owner.pk])


@pytest.fixture(params=["token", "bound token"])
def bound(request) -> bool:
    """Either credential: a token for every administration of its user, or one bound to the
    user's own, whose plainest reads the hot reads answer (common.middleware.HotReadMiddleware)
    rather than the views."""
    return request.param == "bound token"


def client_for(world: World, *, bound: bool = False, **headers: str) -> APIClient:
    """A client with a token of every scope of both dialects for the world's owner; `bound`:
    bound to the world's administration."""
    token = TokenFactory(
        user=world.owner,
        scopes=sorted(KNOWN_SCOPES),
        administration=world.administration if bound else None,
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.secret}", **headers)
    return client


def call(client: APIClient, method: str, url: str, body: Any = None):
    if method in ("post", "put", "patch"):
        return getattr(client, method)(url, body if body is not None else {}, format="json")
    return getattr(client, method)(url)


def snapshot() -> dict[str, list[str]]:
    """Every row of every table of ours."""
    return {
        model._meta.label: sorted(repr(row) for row in model.objects.values_list())
        for app in OUR_APPS
        for model in apps.get_app_config(app).get_models()
    }


def assert_refused(response, route: Route, method: str, theirs: World, expected: int) -> None:
    """The dialect's error body with the expected status, revealing nothing of `theirs`."""
    assert response.status_code == expected, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    if route.dialect == "moneybird":
        if expected == 422:
            assert set(body) <= {"error", "details"} and isinstance(body["error"], dict), body
        else:
            # {"error", "symbolic"}, or only "error" where Moneybird's example has only that
            # (a project's GET: "Record not found for model name: Project").
            assert set(body) in ({"error", "symbolic"}, {"error"}), body
            assert isinstance(body["error"], str) and isinstance(body.get("symbolic", {}), dict)
    else:
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
        codes = {404: "NOT_FOUND", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 422: "VALIDATION_ERROR"}
        assert body["error"]["code"] == codes[expected], body
    text = response.content.decode()
    assert theirs.marker not in text, text
    assert theirs.owner.email not in text, text
    leaked = [pk for pk in theirs.ids if str(pk) in text]
    assert not leaked, f"the answer names their record(s) {leaked}: {text}"


# --- the walk ---------------------------------------------------------------------------------


def test_the_walk_finds_the_routes_of_both_dialects():
    names = {r.name for r in ID_ROUTES}
    # The routes issue 10 names, so that a broken URL walk can't pass by finding nothing.
    assert {"mb-time-entry", "mb-contact", "mb-project", "ec-time-entry", "ec-customer"} <= names
    assert any(r.dialect == "expensicat" for r in ID_ROUTES)


@pytest.mark.parametrize(("route", "method"), cases(ID_ROUTES))
def test_another_administrations_record_is_not_found(mine, theirs, route, method, bound):
    made = target(route, theirs)
    url = route.url({"administration_id": mine.administration.pk, **made.path})
    client = client_for(mine, bound=bound)
    before = snapshot()
    response = call(client, method, url, made.bodies.get(method))
    assert_refused(response, route, method, theirs, EXPECTED.get((route.name, method), 404))
    assert snapshot() == before


@pytest.mark.parametrize(
    ("route", "method"), cases([r for r in ROUTES if "administration_id" in r.parameters])
)
def test_another_administration_in_the_path_is_not_found(mine, theirs, route, method, bound):
    made = target(route, theirs) if route.ids else Target({})
    url = route.url({"administration_id": theirs.administration.pk, **made.path})
    client = client_for(mine, bound=bound)
    before = snapshot()
    response = call(client, method, url, made.bodies.get(method))
    assert_refused(response, route, method, theirs, 404)
    assert response.json()["symbolic"] == {"administration_id": "not_found"}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("route", "method"), cases([r for r in ROUTES if r.dialect == "expensicat"])
)
def test_another_organization_in_the_header_is_not_found(mine, theirs, route, method):
    made = target(route, theirs) if route.ids else Target({})
    client = client_for(mine, HTTP_X_ORGANIZATION_ID=str(theirs.administration.pk))
    before = snapshot()
    response = call(client, method, route.url(made.path), made.bodies.get(method))
    assert_refused(response, route, method, theirs, 404)
    assert "X-Organization-Id" in response.json()["error"]["details"]
    assert snapshot() == before


# --- the same records reached by their own administration ---------------------------------------


def integer_ids(value: Any, path: str = "") -> list[str]:
    """Where `value` holds an id as a JSON number (a key `id` or `*_id`), or any number a
    JavaScript client could not hold exactly."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if (key == "id" or key.endswith("_id")) and type(item) is int:
                found.append(f"{path}.{key}")
            found += integer_ids(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += integer_ids(item, f"{path}[{index}]")
    elif type(value) is int and abs(value) > 2**53:
        found.append(path)
    return found


@pytest.mark.parametrize(("route", "method"), cases(ID_ROUTES))
def test_the_own_administration_reaches_the_record(mine, route, method, bound):
    """Proves the makers make what the routes address: the walk's 404s mean something."""
    made = target(route, mine)
    url = route.url({"administration_id": mine.administration.pk, **made.path})
    response = call(client_for(mine, bound=bound), method, url, made.bodies.get(method))
    expected = OWN_STATUS_BY_ROUTE.get((route.name, method), OWN_STATUS.get(method, 200))
    assert response.status_code == expected, (response.status_code, response.content)
    if response.content:
        body = json.loads(response.content)
        assert integer_ids(body) == [], body


# The change feed serves only events of committed transactions older than any still running
# (notes/feed.py) on PostgreSQL.
COMMITTED_ONLY = {"mb-events", "ec-events"}


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if "get" in r.methods and not r.ids], ids=lambda r: r.name
)
def test_every_list_renders_ids_as_strings(mine, route):
    for make in (mine.entry, mine.project):
        make()
    mine.note(mine.entry())
    mine.note(mine.contact())
    mine.webhook()
    url = route.url({"administration_id": mine.administration.pk})
    response = client_for(mine).get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert integer_ids(body) == [], body
    if route.name in COMMITTED_ONLY and connection.vendor == "postgresql":
        return  # the test's own transaction is still open: the feed rightly withholds it
    assert body  # the records made are listed: a check over nothing proves nothing


# --- ids in bodies and filters ------------------------------------------------------------------


@dataclass
class Probe:
    """A request of `mine` naming a record of `theirs` in its body or query string, and the
    answer it must get: a 404 in the dialect's shape, or where the route skips or filters by
    ids, a 200 with nothing of theirs in it."""

    route: str
    method: str
    query: str = ""
    body: Any = None
    status: int = 404


def _entry_body(mine: World, **ids: Any) -> dict[str, Any]:
    times = {"started_at": "2026-01-05T10:00:00Z", "ended_at": "2026-01-05T11:00:00Z"}
    return {"time_entry": {**times, "description": "x", "user_id": str(mine.owner.pk), **ids}}


def _ec_entry(**ids: Any) -> dict[str, Any]:
    times = {"start_time": "2026-01-05T10:00:00Z", "end_time": "2026-01-05T11:00:00Z"}
    return {**times, "description": "x", **ids}


# Routes that take ids in their body or query string, with how to name a record of theirs. The
# URL conf cannot say which these are: add a probe when a route starts taking one.
BODY_IDS: dict[str, Callable[[World, World], Probe]] = {
    "MB entry with their contact": lambda m, t: Probe(
        "mb-time-entries", "post", body=_entry_body(m, contact_id=str(t.contact().pk))
    ),
    "MB entry with their project": lambda m, t: Probe(
        "mb-time-entries", "post", body=_entry_body(m, project_id=str(t.project().pk))
    ),
    "MB entry for their user": lambda m, t: Probe(
        "mb-time-entries", "post", body=_entry_body(m, user_id=str(t.owner.pk))
    ),
    "MB entry update to their project": lambda m, t: Probe(
        "mb-time-entry",
        "patch",
        body={"time_entry": {"project_id": t.project().pk}},
    ),
    "MB filter by their contact": lambda m, t: Probe(
        "mb-time-entries", "get", query=f"filter=contact_id:{t.contact().pk}"
    ),
    "MB filter by their project": lambda m, t: Probe(
        "mb-time-entries", "get", query=f"filter=project_id:{t.project().pk}"
    ),
    "MB filter by their user": lambda m, t: Probe(
        "mb-time-entries", "get", query=f"filter=user_id:{t.owner.pk}"
    ),
    "MB synchronization of their contact": lambda m, t: Probe(
        "mb-contacts-synchronization", "post", body={"ids": [str(t.contact().pk)]}, status=200
    ),
    "EC entry with their project": lambda m, t: Probe(
        "ec-time-entries", "post", body=_ec_entry(project_id=str(t.project().pk))
    ),
    "EC entry update to their project": lambda m, t: Probe(
        "ec-time-entry", "patch", body={"project_id": str(t.project().pk)}
    ),
    "EC project with their customer": lambda m, t: Probe(
        "ec-projects", "post", body={"name": "x", "customer_id": str(t.contact().pk)}
    ),
    "EC list by their project": lambda m, t: Probe(
        "ec-time-entries", "get", query=f"project_id={t.project().pk}", status=200
    ),
    "EC list by their user": lambda m, t: Probe(
        "ec-time-entries", "get", query=f"user_id={t.owner.pk}", status=200
    ),
}


@pytest.mark.parametrize("name", list(BODY_IDS))
def test_their_ids_in_a_body_or_filter_reach_nothing(mine, theirs, name):
    probe = BODY_IDS[name](mine, theirs)
    [route] = [r for r in ROUTES if r.name == probe.route]
    path = target(route, mine).path if route.ids else {}
    url = route.url({"administration_id": mine.administration.pk, **path})
    client = client_for(mine)
    before = snapshot()
    response = call(
        client, probe.method, f"{url}?{probe.query}" if probe.query else url, probe.body
    )
    if probe.status == 404:
        assert_refused(response, route, probe.method, theirs, 404)
    else:
        assert response.status_code == probe.status, response.content
        body = response.json()
        assert (body["data"] if route.dialect == "expensicat" else body) == []
        text = response.content.decode()
        assert theirs.marker not in text and not [pk for pk in theirs.ids if str(pk) in text]
    assert snapshot() == before
