"""Schemathesis fuzzes both dialects against the OpenAPI the server itself publishes
(/api/schema/moneybird/ and /api/schema/expensicat/), through the WSGI app, with every check it
has: no 5xx, status codes, headers and content types documented, bodies matching their schema,
schema-valid requests accepted and schema-invalid ones rejected.

Every operation of the published schemas is a test of its own (new routes are fuzzed as soon as
they are in the schema). Requests carry a bearer token of an administration with data, and a
valid id in the path is often swapped for a real id of that administration (any id parameter
whose name leads to a resource the world below holds; others keep what schemathesis generated),
so the happy paths are walked too. Each case runs in a savepoint rolled back afterwards, so a
DELETE does not starve the cases after it.

CI runs a bounded, derandomized number of examples per operation; for a longer, random run by
hand: `UURWERK_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest tests/common/test_fuzz.py`."""

import os
import re
import socket
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation
from schemathesis.openapi.checks import UseAfterFree
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    use_after_free,
)

from administrations.filtersets import CONTACT_TYPES, DELIVERY_METHODS, TRUSTED_TYPES
from administrations.models import ContactPerson
from common.api import ID_PATTERN
from common.auth import KNOWN_SCOPES
from common.openapi import CONTACTS_FILTER_FORMAT, CURSOR_FORMAT, TIME_ENTRIES_FILTER_FORMAT
from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    NoteFactory,
    ProjectFactory,
    TimeEntryFactory,
    TokenFactory,
    member,
)
from webhooks import transport
from webhooks.models import Delivery, Webhook

# Examples per operation in the fuzzing phase (the examples and coverage phases add their own).
CI_EXAMPLES = 6
EXAMPLES = int(os.environ.get("UURWERK_FUZZ_EXAMPLES") or CI_EXAMPLES)
# CI replays the same cases every run, so it cannot flake; a run by hand explores.
DERANDOMIZE = "UURWERK_FUZZ_EXAMPLES" not in os.environ

APP = WSGIHandler()
moneybird = schemathesis.openapi.from_wsgi("/api/schema/moneybird/?format=json", APP)
expensicat = schemathesis.openapi.from_wsgi("/api/schema/expensicat/?format=json", APP)

# Real ids of the fuzzed administration by resource, filled by the `world` fixture before any
# case is drawn: {"contacts": ["123", ...], "projects": [...], ...}.
POOLS: dict[str, list[str]] = {}
# The schema's own id pattern: a value outside it is a negative case and must stay as it is.
ID_RE = re.compile(ID_PATTERN)


def _pool(path: str, parameter: str) -> list[str]:
    """The real ids that fit `parameter` of `path`: `{time_entry_id}` -> time entries, `{id}`
    -> the resource named by the segment before it (`/contacts/{id}`), `{customer_id}` under
    contacts -> contacts' customer ids. Unknown names get none (schemathesis' values stay)."""
    segments = [s for s in path.split("/") if s]
    if parameter == "administration_id":
        return POOLS.get("administrations", [])
    if parameter == "id":
        index = segments.index("{id}")
        resource = segments[index - 1] if index else ""
        if resource == "notes":
            # The notes of the entity the path names.
            parent = segments[index - 3] if index >= 3 else ""
            return POOLS.get(f"notes:{_canonical(parent)}", [])
        return POOLS.get(_canonical(resource), [])
    name = parameter.removesuffix("_id")
    if parameter == "customer_id" and "contacts" in segments:
        return POOLS.get("customer_ids", [])
    child = next((c for c in ("notes", "contact_people") if c in segments), None)
    if child and f"{{{parameter}}}" in segments:
        # The parent of notes (or contact people): the one that has them, mostly.
        parents = POOLS.get(f"parents:{child}:{_canonical(name)}", [])
        return parents * 3 + POOLS.get(_canonical(name), [])
    return POOLS.get(_canonical(name), POOLS.get(_canonical(name + "s"), []))


def _canonical(resource: str) -> str:
    resource = resource.replace("-", "_")
    aliases = {
        "customers": "contacts",
        "customer": "contacts",
        "contact": "contacts",
    }
    if resource in aliases:
        return aliases[resource]
    if resource.endswith(("s", "people")):
        return resource
    return resource[:-1] + "ies" if resource.endswith("y") else resource + "s"


def _real_ids(context: Any, path_parameters: dict[str, Any]) -> Any:
    """Most of the time, swap each well-formed id for a real one of the administration. A
    malformed value (the negative cases) stays as it is, so the case stays what it claims."""
    if not path_parameters:
        return st.just(path_parameters)
    path = context.operation.path
    strategies = {}
    for name, value in path_parameters.items():
        pool = _pool(path, name)
        # A customer_id is any text, so any generated value may give way.
        free = name == "customer_id" and pool == POOLS.get("customer_ids")
        if pool and isinstance(value, str) and (free or ID_RE.match(value)):
            weight = 19 if name == "administration_id" else 3
            strategies[name] = st.one_of(*[st.sampled_from(pool)] * weight, st.just(value))
        else:
            strategies[name] = st.just(value)
    return st.fixed_dictionaries(strategies)


# Ids in a body, by the key that holds them: the resource whose real ids fit.
BODY_IDS = {
    "user_id": "users",
    "assignee_id": "users",
    "contact_id": "contacts",
    "customer_id": "contacts",
    "project_id": "projects",
}


def _real_body_ids(context: Any, body: Any) -> Any:
    """As _real_ids, for the ids a body refers to (`{"time_entry": {"project_id": ...}}`)."""
    if not isinstance(body, dict):
        return st.just(body)
    strategies = {}
    for key, value in body.items():
        pool = POOLS.get(BODY_IDS.get(key, ""), [])
        if isinstance(value, dict):
            strategies[key] = _real_body_ids(context, value)
        elif pool and isinstance(value, str) and ID_RE.match(value):
            strategies[key] = st.one_of(
                st.sampled_from(pool), st.sampled_from(pool), st.just(value)
            )
        else:
            strategies[key] = st.just(value)
    return st.fixed_dictionaries(strategies)


def _single_values(context: Any, query: dict[str, Any] | None) -> bool:
    """Every query parameter here is one value, and a repeated one (`?q=a&q=b`) is read as its
    last (Django's QueryDict.get), which OpenAPI cannot state: such cases are not drawn."""
    return not query or not any(isinstance(value, list) for value in query.values())


for _schema in (moneybird, expensicat):
    _schema.hook("flatmap_path_parameters")(_real_ids)
    _schema.hook("flatmap_body")(_real_body_ids)
    _schema.hook("filter_query")(_single_values)

# A cursor is valid only when the server made it (common.pagination): none is the first page.
schemathesis.openapi.format(CURSOR_FORMAT, st.just(""))


def _time_entry_filters() -> st.SearchStrategy[str]:
    """Valid `filter` values of GET time_entries (format moneybird-time-entries-filter): one or
    more terms of its documented grammar, with ids of the world's records."""

    def ids(pool: str) -> st.SearchStrategy[str]:
        return st.integers(0, 7).map(lambda i: POOLS[pool][i % len(POOLS[pool])])

    years = st.integers(1990, 2030)
    months = st.integers(1, 12)
    terms = st.one_of(
        st.lists(st.sampled_from(["all", "open", "non_billable"]), min_size=1, max_size=2).map(
            lambda states: "state:" + "|".join(states)
        ),
        st.sampled_from(
            [f"{w}_{u}" for w in ("this", "prev", "next") for u in ("week", "month", "year")]
        ).map(lambda p: f"period:{p}"),
        st.tuples(years, months, st.integers(0, 30)).map(
            lambda t: f"period:{t[0]}{t[1]:02}..{t[0] + t[2] // 12}{t[1]:02}"
        ),
        st.tuples(years, months, st.integers(1, 28)).map(
            lambda t: f"day:{t[0]}-{t[1]:02}-{t[2]:02}"
        ),
        ids("contacts").map(lambda i: f"contact_id:{i}"),
        ids("projects").map(lambda i: f"project_id:{i}"),
        ids("users").map(lambda i: f"user_id:{i}"),
        st.sampled_from(["true", "false"]).map(lambda b: f"include_active:{b}"),
        st.sampled_from(["true", "false"]).map(lambda b: f"include_nil_contacts:{b}"),
    )
    return st.lists(terms, max_size=3, unique_by=lambda t: t.split(":")[0]).map(",".join)


schemathesis.openapi.format(TIME_ENTRIES_FILTER_FORMAT, _time_entry_filters())


def _contact_filters() -> st.SearchStrategy[str]:
    """Valid `filter` values of GET contacts/filter (format moneybird-contacts-filter), by the
    keys of administrations.filtersets.ContactFilterSet."""

    def choices(key: str, values: list[str]) -> st.SearchStrategy[str]:
        return st.lists(st.sampled_from(values), min_size=1, max_size=2).map(
            lambda chosen: f"{key}:" + "|".join(chosen)
        )

    moments = st.datetimes(datetime(1990, 1, 1), datetime(2030, 12, 31)).map(
        lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S")
    )
    names = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
    terms = st.one_of(
        choices("contact_type", list(CONTACT_TYPES)),
        choices("delivery_method", ["all", *DELIVERY_METHODS]),
        choices("trusted_type", list(TRUSTED_TYPES)),
        choices("invoice_workflow_id", ["1", "652353094736138240"]),
        choices("estimate_workflow_id", ["7"]),
        st.sampled_from(["created_after", "updated_after"]).flatmap(
            lambda key: moments.map(lambda moment: f"{key}:{moment}")
        ),
        st.sampled_from(["first_name", "last_name"]).flatmap(
            lambda key: names.map(lambda name: f"{key}:{name}")
        ),
    )
    return st.lists(terms, max_size=3, unique_by=lambda t: t.split(":")[0]).map(",".join)


schemathesis.openapi.format(CONTACTS_FILTER_FORMAT, _contact_filters())


def _no_network(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """Fuzzed webhook URLs reach no network: internal addresses are refused as in production, a
    host name is unresolvable without asking a resolver (there may be none to answer), and a
    push to a public address is refused at once. Each is a 422 on `url`, as documented."""
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        # An address literal is parsed, never looked up; any name is unknown.
        try:
            return real(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        except (OSError, UnicodeError, TypeError):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None

    def post(target: transport.Target, body: bytes, headers: dict[str, str]) -> transport.Answer:
        return transport.Answer(status=None, body="ConnectionError: no network in the fuzz run")

    monkeypatch.setattr(transport.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(transport, "post", post)


@pytest.fixture
def world(db, settings, monkeypatch):
    """An administration with a member per role, contacts (one with a person), projects,
    entries (one running), notes, a webhook with a delivery, and a token with every scope; its
    ids go to POOLS."""
    settings.ALLOWED_HOSTS = ["*"]
    _no_network(monkeypatch, settings)
    # Hundreds of requests per operation: the limiter is tested elsewhere.
    unlimited = {"credential": "1000000/60", "organization": "1000000/60"}
    settings.RATE_LIMITS = {"moneybird": unlimited, "expensicat": unlimited}
    administration = AdministrationFactory(name="Fuzz", time_zone="Europe/Amsterdam")
    owner = member(administration, role="owner", name="Owner")
    colleague = member(administration, role="member", name="Colleague")
    # Bound to the administration: its plainest reads are then the hot reads (common.hotpath),
    # which the fuzzing reaches as well as every view.
    token = TokenFactory(user=owner, scopes=sorted(KNOWN_SCOPES), administration=administration)
    # The first has no entries, so that it can be deleted (hypothesis favours a pool's first).
    contacts = [ContactFactory(administration=administration) for _ in range(3)]
    projects = [ProjectFactory(administration=administration) for _ in range(2)]
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    entries = [
        TimeEntryFactory(
            administration=administration,
            user_id=user.pk,
            contact_id=contacts[1 + i % 2].pk,
            project_id=projects[i % 2].pk,
            started_at=start + timedelta(days=i),
            ended_at=start + timedelta(days=i, hours=2),
        )
        for i, user in enumerate([owner, colleague, owner])
    ]
    # Stopped today, so that it can be resumed.
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    entries.append(
        TimeEntryFactory(
            administration=administration,
            user_id=owner.pk,
            started_at=now - timedelta(minutes=2),
            ended_at=now - timedelta(minutes=1),
        )
    )
    TimeEntryFactory(
        administration=administration,
        user_id=colleague.pk,
        started_at=start + timedelta(days=5),
        ended_at=None,
    )
    # Notes on one entry and one contact: a note's path names its parent too, and a note
    # under another parent is not found.
    entry_notes = [NoteFactory(entity=entries[0]) for _ in range(2)]
    contact_notes = [NoteFactory(entity=contacts[0]) for _ in range(2)]
    person = ContactPerson.objects.create(
        administration=administration,
        contact=contacts[0],
        firstname="Ada",
        lastname="Lovelace",
        email="ada@example.com",
    )
    # Made with the models: webhook_create test-pushes to its URL. Deactivated, so that the
    # other cases' writes queue no deliveries, and activating it is a change.
    webhook = Webhook.objects.create(
        administration=administration,
        url="https://hooks.example.com/uurwerk",
        enabled_events=["time_entry"],
        token="a" * 24,
        secret="b" * 64,
        deactivated_at=now,
    )
    delivery = Delivery.objects.create(
        webhook=webhook,
        event_id=1,
        action="time_entry_created",
        entity_type="TimeEntry",
        entity_id=entries[0].pk,
        body="{}",
        idempotency_key="c" * 36,
        state=Delivery.State.FAILED,
        attempts=1,
        last_http_status=500,
        last_attempt_at=now,
    )

    def ids(records) -> list[str]:
        return [str(record.pk) for record in records]

    POOLS.clear()
    POOLS.update(
        {
            "administrations": [str(administration.pk)],
            "contacts": ids(contacts),
            "parents:notes:time_entries": ids(entries[:1]),
            "parents:notes:contacts": ids(contacts[:1]),
            "customer_ids": [c.customer_id for c in contacts if c.customer_id],
            "projects": ids(projects),
            "time_entries": ids(entries),
            "users": ids([owner, colleague]),
            "members": ids([owner, colleague]),
            "notes:time_entries": ids(entry_notes),
            "notes:contacts": ids(contact_notes),
            "parents:contact_people:contacts": ids(contacts[:1]),
            "contact_people": ids([person]),
            "webhooks": ids([webhook]),
            "deliveries": ids([delivery]),
        }
    )
    # The test database lives in one transaction: the WSGI handler must not close the
    # connection at the end of a request (Django's test client disconnects this too).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield {"Authorization": f"Bearer {token.secret}"}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
    POOLS.clear()


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=DERANDOMIZE,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


# The 422s a schema-valid request may get: rules on more than one field, on the stored state or
# on other records, which a JSON Schema cannot state (each operation's 422 says so). By code in
# Moneybird's `details`, by message in Expensicat's (it has no codes per field).
STATE_RULES = {
    "ended_at_before_started_at": "cannot be before the start time",
    "too_short": "must be at least one minute after the start time",
    "less_than": "must be less than the duration of the entry",
    "taken": "has already been taken",
    "cannot_resume_timer": "Cannot resume timer",
    "running": "another timer of this person was started at the same time; try again",
    "contact_in_use": "Contact has time entries; archive it instead",
    "not_in_future": "cannot be in the future",
    # A 400 in Moneybird (its `symbolic` code): archiving an archived contact.
    "can_not_be_archived": "Contact can not be archived",
    # An Idempotency-Key a scenario drew twice, for two different requests.
    "reused": "was already used for another request (method, path or body)",
    # A 400 in Expensicat (matched by its message): a range of days that ends before it starts.
    "end_before_start": "end_date: must not be before start_date",
}


# Rules on one attribute that need another one or a computation, by (attribute, code): an IBAN's
# checksum, the SEPA attributes an active mandate needs, and a contact's name that a change
# would leave empty.
FIELD_RULES = {
    ("sepa_iban", "invalid"),
    *((f, "blank") for f in ("sepa_iban", "sepa_iban_account_name", "sepa_mandate_id")),
    ("sepa_mandate_date", "blank"),
    *((f, "is required") for f in ("company_name", "firstname", "lastname")),
    # A contact person's contact that is not the administration's (Moneybird: "must exist").
    ("contact", "blank"),
    # A webhook URL whose host doesn't resolve (here: any name) or that doesn't answer the
    # test push with 200 (here: any public address; _no_network).
    ("url", "invalid"),
    ("url", "test_push_failed"),
}


def _rule_rejections(response: Any) -> bool:
    """Whether a 400 or 422 names only rules of STATE_RULES."""
    try:
        body = response.json()
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and "code" in error:  # Expensicat, by message
        said = [m for messages in error.get("details", {}).values() for m in messages]
        return bool(said) and all(message in STATE_RULES.values() for message in said)
    symbolic = body.get("symbolic") if isinstance(body, dict) else None
    if response.status_code == 400:  # Moneybird, by its symbolic code
        return isinstance(symbolic, dict) and all(c in STATE_RULES for c in symbolic.values())
    details = body.get("details") if isinstance(body, dict) else None
    if not isinstance(details, dict):
        return False
    codes = [(field, item.get("error")) for field, items in details.items() for item in items]
    return bool(codes) and all(c in STATE_RULES or (f, c) in FIELD_RULES for f, c in codes)


def positive_data_acceptance_but_state_rules(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis' positive_data_acceptance, except that a 422 for a rule of STATE_RULES (or a
    412 for an If-Match of another version) is an answer, not a rejection of schema-valid data;
    any other 422 still fails."""
    if response.status_code in (400, 422) and _rule_rejections(response):
        return None
    # If-Match naming another version than the record's: the stored state decides, not the
    # request's shape (412 is documented).
    if response.status_code == 412 and "If-Match" in (case.headers or {}):
        return None
    return positive_data_acceptance(ctx, response, case)


def _excused(check: Any, failure: type[Exception], excuse: Any) -> Any:
    """schemathesis' `check`, except that its `failure` on a response `excuse` explains passes."""

    def excused(ctx: Any, response: Any, case: Any) -> bool | None:
        try:
            return check(ctx, response, case)
        except failure:
            if excuse(response):
                return None
            raise

    excused.__name__ = f"{check.__name__}_excused"
    return excused


def _every_item_failed(response: Any) -> bool:
    """A bulk answer whose every item failed (200, each item with the status its single request
    would have had) rejected them all."""
    try:
        body = response.json()
    except ValueError:
        return False
    items = body.get("data") if isinstance(body, dict) else body
    return (
        isinstance(items, list)
        and bool(items)
        and all(isinstance(i, dict) and int(i.get("status") or 0) >= 400 for i in items)
    )


def _archived(response: Any) -> bool:
    """An archived record (Expensicat's `archived`, Moneybird's `state`): one its DELETE
    archived instead (a project that time entries use: 200 with the archived project) is still
    there, archived."""
    try:
        body = response.json()
    except ValueError:
        return False
    record = body.get("data", body) if isinstance(body, dict) else None
    return isinstance(record, dict) and (
        record.get("archived") is True or record.get("state") == "archived"
    )


negative_data_rejection_but_bulk = _excused(
    negative_data_rejection, AcceptedNegativeData, _every_item_failed
)
use_after_free_but_archived = _excused(use_after_free, UseAfterFree, _archived)


# Cases run per dialect in this process, shown at the end with `-s` (the closing note's figures).
CASES: Counter[str] = Counter()
# Operations that answered a 2xx at least once: the happy paths were walked.
REACHED: set[str] = set()
TRIED: set[str] = set()


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    print(f"\nschemathesis cases: {dict(CASES)}")
    print(f"operations without a 2xx: {sorted(TRIED - REACHED)}")


def _credential(case: Any, headers: dict[str, str]) -> dict[str, str]:
    """The token, unless the case is one without it on purpose: a negative header component
    that left Authorization out (the credential the caller adds would make it valid)."""
    info = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    if info is not None and info.mode.is_negative and "Authorization" not in (case.headers or {}):
        return {}
    if case.headers and "Authorization" in case.headers:
        # A drawn credential is replaced in the case itself, so that the checks judge the
        # request as it was sent, not a malformed Authorization it never carried.
        case.headers["Authorization"] = headers["Authorization"]
    return headers


def _call(case, headers: dict[str, str]) -> None:
    CASES[case.operation.path.split("/")[2]] += 1  # "v1" (Expensicat) or "v2" (Moneybird)
    # A savepoint per case: each one meets the same world, and nothing a case breaks leaks.
    TRIED.add(case.operation.label)
    with transaction.atomic():
        response = case.call_and_validate(
            headers=_credential(case, headers),
            excluded_checks=[positive_data_acceptance, negative_data_rejection],
            additional_checks=[
                positive_data_acceptance_but_state_rules,
                negative_data_rejection_but_bulk,
            ],
        )
        transaction.set_rollback(True)
    if 200 <= response.status_code < 300:
        REACHED.add(case.operation.label)


@moneybird.parametrize()
@FUZZ_SETTINGS
def test_moneybird(case, world):
    _call(case, world)


@expensicat.parametrize()
@FUZZ_SETTINGS
def test_expensicat(case, world):
    _call(case, world)


# Scenarios: chains of calls along the links schemathesis infers (create, then read, change,
# delete what was made), for the checks that look at more than one response (a deleted record
# is gone, a created one can be read).
STATEFUL_EXAMPLES = max(EXAMPLES // 2, 5)


def _scenarios(schema: Any, headers: dict[str, str]) -> Any:
    class Scenarios(schema.as_state_machine()):
        def setup(self) -> None:
            super().setup()
            # A savepoint per scenario, as per case above.
            self._savepoint = transaction.atomic()
            self._savepoint.__enter__()

        def teardown(self) -> None:
            transaction.set_rollback(True)
            self._savepoint.__exit__(None, None, None)
            super().teardown()

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": _credential(case, headers)}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            CASES[case.operation.path.split("/")[2]] += 1
            TRIED.add(case.operation.label)
            if 200 <= response.status_code < 300:
                REACHED.add(case.operation.label)
            case.validate_response(
                response,
                headers=headers,
                excluded_checks=[positive_data_acceptance, negative_data_rejection, use_after_free],
                additional_checks=[
                    positive_data_acceptance_but_state_rules,
                    negative_data_rejection_but_bulk,
                    use_after_free_but_archived,
                ],
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )

    return Scenarios


SCENARIO_SETTINGS = settings(FUZZ_SETTINGS, max_examples=STATEFUL_EXAMPLES, stateful_step_count=6)


def test_moneybird_scenarios(world):
    _scenarios(moneybird, world).run(settings=SCENARIO_SETTINGS)


def test_expensicat_scenarios(world):
    _scenarios(expensicat, world).run(settings=SCENARIO_SETTINGS)
