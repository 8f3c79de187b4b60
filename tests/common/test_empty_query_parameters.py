"""An empty query parameter (`?time_zone=`) is the same as leaving it out, in both dialects, and
the published OpenAPI says so (`allowEmptyValue` on every optional query parameter), so that a
client, a generator or a fuzzer reads what the server does. Walked over every GET operation of
both schemas, each optional parameter on its own."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from common.openapi import GRAMMAR_FORMATS
from tests.expensicat_support import ALL_SCOPES
from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    NoteFactory,
    ProjectFactory,
    TimeEntryFactory,
    TokenFactory,
    member,
)

MONEYBIRD_SCOPES = ("time_entries", "settings", "sales_invoices")


@pytest.fixture(scope="module")
def schema() -> dict:
    return APIClient().get("/api/schema/", {"format": "json"}).json()


def _query_parameters(schema: dict, method: str | None = None):
    for path, item in schema["paths"].items():
        for verb, operation in item.items():
            if method is not None and verb != method:
                continue
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    yield path, verb, parameter


def test_every_optional_query_parameter_admits_an_empty_value(schema):
    parameters = list(_query_parameters(schema))
    assert len(parameters) > 40
    grammars = set()
    for path, verb, parameter in parameters:
        where = (verb, path, parameter["name"])
        own_format = parameter["schema"].get("format") in GRAMMAR_FORMATS
        grammars |= {parameter["schema"]["format"]} if own_format else set()
        if parameter.get("required") or own_format:
            # Bulk DELETE's ids: an empty list of ids is a 400. A cursor or a filter: its
            # grammar says what empty means.
            assert "allowEmptyValue" not in parameter, where
        else:
            assert parameter.get("allowEmptyValue") is True, where
    assert grammars == GRAMMAR_FORMATS


@pytest.fixture
def world(db):
    administration = AdministrationFactory(name="Empty values", time_zone="Europe/Amsterdam")
    owner = member(administration, role="owner")
    contact = ContactFactory(administration=administration, customer_id="C-1")
    project = ProjectFactory(administration=administration, contact_id=contact.pk)
    start = timezone.now().replace(microsecond=0) - timedelta(days=1)
    entry = TimeEntryFactory(
        administration=administration,
        user_id=owner.pk,
        contact_id=contact.pk,
        project_id=project.pk,
        started_at=start,
        ended_at=start + timedelta(hours=1),
    )
    NoteFactory(administration=administration, entity=entry, actor=owner)
    ids = {
        "administration_id": administration.pk,
        "time_entries": entry.pk,
        "time_entry_id": entry.pk,
        "contacts": contact.pk,
        "contact_id": contact.pk,
        "customer_id": contact.customer_id,
        "projects": project.pk,
    }
    moneybird = APIClient()
    token = TokenFactory(user=owner, scopes=MONEYBIRD_SCOPES)
    moneybird.credentials(HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    expensicat = APIClient()
    token = TokenFactory(user=owner, scopes=ALL_SCOPES)
    expensicat.credentials(HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    return {"ids": ids, "/api/v2/": moneybird, "/api/v1/": expensicat}


def _url(path: str, ids: dict) -> str:
    """The path with real ids: `{id}` by the segment before it, others by their name; an id
    the world has none of stays unknown (a 404 either way)."""

    def real(match: re.Match) -> str:
        name = match.group(1)
        if name == "id":
            segment = path[: match.start()].rstrip("/").rsplit("/", 1)[-1]
            return str(ids.get(segment, 1))
        return str(ids.get(name, 1))

    return re.sub(r"\{(\w+)\}", real, path)


def test_an_empty_query_parameter_answers_as_if_left_out(schema, world):
    compared = 0
    for path, _, parameter in _query_parameters(schema, "get"):
        if parameter.get("required"):
            continue
        client = world[path[:8]]
        url = _url(path, world["ids"])
        without = client.get(url)
        empty = client.get(f"{url}?{parameter['name']}=")
        where = (path, parameter["name"])
        assert empty.status_code == without.status_code, (where, empty.content)
        assert empty.content == without.content, where
        compared += 1 if without.status_code == 200 else 0
    # Most of them on an answer with records, not on a 404.
    assert compared > 40
