"""The OpenAPI schema (drf-spectacular) and its docs pages: served without a credential, valid
OpenAPI 3 without a single generator warning, covering every route of both dialects."""

import re
from pathlib import Path

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from common.openapi import NOT_BLANK

OPERATIONS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema() -> dict:
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def api_routes(patterns=None, prefix: str = "") -> list[tuple[str, type]]:
    """(regex, view class) of every route under /api/v1/ and /api/v2/, walking the resolver."""
    routes = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        regex = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes += api_routes(pattern.url_patterns, regex)
        elif isinstance(pattern, URLPattern) and re.match(r"\^?api/v[12]/", regex):
            routes.append((regex, pattern.callback.cls))
    return routes


def openapi_path(regex: str) -> str:
    """`^api/v2/(?P<administration_id>\\d{1,19})/time_entries/(?P<pk>...)(?:\\.json)?$` ->
    `/api/v2/{administration_id}/time_entries/{id}`."""
    path = regex.lstrip("^").rstrip("$").replace(r"(?:\.json)?", "")
    path = path.replace(r"(?:\.json|\.csv)?", "")  # the report's suffixes
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path)
    return "/" + path.replace("{pk}", "{id}")


def test_the_schema_is_openapi_3_and_needs_no_credential(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Uurwerk API"
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token, a session JWT or an OAuth2 access token.",
    }


def test_the_schema_validates_without_warnings(tmp_path: Path):
    # The generator's warning counts live for the whole process; count this run's only.
    GENERATOR_STATS.reset()
    target = tmp_path / "schema.yml"
    # --fail-on-warn raises on any warning or error; --validate on any OpenAPI violation.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    validate_schema(yaml.safe_load(target.read_text()))


def test_every_api_route_and_method_is_documented(schema):
    routes = api_routes()
    assert len(routes) > 20
    missing = []
    for regex, view in routes:
        path = openapi_path(regex)
        methods = [m for m in OPERATIONS if hasattr(view, m)]
        assert methods, regex
        documented = schema["paths"].get(path, {})
        missing += [f"{m.upper()} {path}" for m in methods if m not in documented]
    assert missing == []
    # ...and nothing but those routes: no sign-in pages, no schema views.
    assert {openapi_path(regex) for regex, _ in routes} == set(schema["paths"])


def test_operation_ids_are_unique_and_operations_tagged_by_dialect(schema):
    operations = [(path, op) for path, item in schema["paths"].items() for op in item.values()]
    ids = [op["operationId"] for _, op in operations]
    assert len(ids) == len(set(ids))
    for path, op in operations:
        dialect = "moneybird" if path.startswith("/api/v2/") else "expensicat"
        assert op["operationId"].startswith(f"{dialect}_")
        assert [tag.split(":")[0].lower() for tag in op["tags"]] == [dialect]
        assert op["summary"]


def _ref(response: dict) -> str:
    return response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]


def _body(schema: dict, op: dict) -> dict:
    name = _ref(op["requestBody"])
    return schema["components"]["schemas"][name]


def test_moneybird_time_entry_writes_document_the_time_entry_body(schema):
    components = schema["components"]["schemas"]
    items = schema["paths"]
    writes = [
        items["/api/v2/{administration_id}/time_entries"]["post"],
        items["/api/v2/{administration_id}/time_entries/{id}"]["patch"],
        items["/api/v2/{administration_id}/time_entries/{id}"]["put"],
    ]
    for op in writes:
        body = _body(schema, op)
        assert list(body["properties"]) == ["time_entry"]
        inner = components[body["properties"]["time_entry"]["$ref"].rsplit("/", 1)[1]]
        assert {"started_at", "ended_at", "description", "project_id"} <= set(inner["properties"])
        assert _ref(op["responses"]["422"]) == "MoneybirdValidationError"
        assert _ref(op["responses"]["404"]) == "MoneybirdError"
        assert _ref(op["responses"]["401"]) == "MoneybirdError"
    created = items["/api/v2/{administration_id}/time_entries"]["post"]["responses"]["201"]
    assert _ref(created) == "MoneybirdTimeEntry"
    listed = items["/api/v2/{administration_id}/time_entries"]["get"]["responses"]["200"]
    assert listed["content"]["application/json"]["schema"]["type"] == "array"
    assert set(listed["headers"]) == {"X-Total-Count", "X-Total-Count-At-Least", "Link"}
    entry = components["MoneybirdTimeEntry"]
    assert {"id", "started_at", "ended_at", "user", "project", "events", "notes"} <= set(
        entry["properties"]
    )
    # Left out of the body for a token without the sales_invoices scope.
    assert "sales_invoice" not in entry["required"]


def test_expensicat_time_entry_writes_document_their_body(schema):
    items = schema["paths"]
    for op in (items["/api/v1/time-entries"]["post"], items["/api/v1/time-entries/{id}"]["patch"]):
        assert {"start_time", "end_time", "description"} <= set(_body(schema, op)["properties"])
        assert _ref(op["responses"]["422"]) == "ExpensicatError"
        assert _ref(op["responses"]["404"]) == "ExpensicatError"
    listed = items["/api/v1/time-entries"]["get"]
    parameters = {p["name"] for p in listed["parameters"]}
    assert {"cursor", "limit", "start_date", "end_date", "q", "project_id", "user_id"} <= (
        parameters
    )
    assert "X-Organization-Id" in parameters
    assert _ref(listed["responses"]["200"]) == "ExpensicatTimeEntryPage"


def test_each_dialect_has_its_error_shapes_as_components(schema):
    components = schema["components"]["schemas"]
    assert components["MoneybirdError"]["required"] == ["error"]
    assert set(components["MoneybirdError"]["properties"]) == {"error", "symbolic"}
    assert set(components["MoneybirdValidationError"]["required"]) == {"error", "details"}
    assert components["ExpensicatError"]["required"] == ["error"]
    assert set(components["ExpensicatErrorBody"]["required"]) == {"code", "message", "details"}
    for status in ("400", "401", "403", "404", "429"):
        op = schema["paths"]["/api/v1/projects"]["get"]
        assert _ref(op["responses"][status]) == "ExpensicatError"
    rate_limited = schema["paths"]["/api/v2/{administration_id}/projects"]["get"]["responses"]
    assert _ref(rate_limited["429"]) == "MoneybirdError"
    assert "Retry-After" in rate_limited["429"]["headers"]


@pytest.mark.parametrize(
    ("dialect", "prefix"), [("moneybird", "/api/v2/"), ("expensicat", "/api/v1/")]
)
def test_each_dialect_has_a_schema_of_its_own(dialect, prefix):
    response = APIClient().get(f"/api/schema/{dialect}/", {"format": "json"})
    assert response.status_code == 200
    body = response.json()
    validate_schema(body)
    assert body["paths"]
    assert all(path.startswith(prefix) for path in body["paths"])


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_the_docs_page_loads_its_assets_from_this_server():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assets = _assets(html)
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in assets
    assert "/api/schema/" in html
    for asset in assets:
        assert asset.startswith("/static/"), asset  # no CDN
        assert finders.find(asset.removeprefix("/static/")), asset
    assert "https://" not in html and "http://" not in html


def test_the_redoc_page_loads_its_assets_from_this_server():
    response = APIClient().get("/api/redoc/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = _assets(html)
    assert assets == ["/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"]
    assert finders.find(assets[0].removeprefix("/static/"))
    assert "https://" not in html and "http://" not in html


def test_not_blank_is_what_str_strip_leaves_something_of():
    # DRF's CharField strips with str.strip(); found by fuzzing: "\x1c\x1c" matched a pattern
    # built on `\s` (ECMAScript's), and the server refused it as blank.
    # Spelled out: `\s` means one thing in Python's re and another in ECMAScript's.
    assert "\\s" not in NOT_BLANK
    white = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    assert not [c for c in white if re.search(NOT_BLANK, f"{c}{c}")]
    for text in ("a", " a ", "\ufeff", "\x1c\x1ca", "é"):
        assert text.strip() and re.search(NOT_BLANK, text), text
    assert not re.search(NOT_BLANK, "a\x00")


def test_every_write_documents_what_its_idempotency_key_can_answer(schema):
    # Found by fuzzing: a DELETE without a 422 of its own answered one for a reused key.
    writes = [
        (path, verb, operation)
        for path, item in schema["paths"].items()
        for verb, operation in item.items()
        if verb in ("post", "put", "patch", "delete")
    ]
    assert len(writes) > 30
    for path, verb, operation in writes:
        responses = operation["responses"]
        assert {"400", "409", "422"} <= set(responses), (verb, path)
        unprocessable = "MoneybirdValidationError" if "/api/v2/" in path else "ExpensicatError"
        assert _ref(responses["422"]) == unprocessable, (verb, path)
