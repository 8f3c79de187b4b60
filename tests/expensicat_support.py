"""Helpers for the Expensicat (/api/v1) HTTP tests: a client with a bearer token (and optionally
X-Organization-Id), the error body, and the response shapes of the reference document."""

import re
from typing import Any

from rest_framework.test import APIClient

from tests.factories import TokenFactory

# Every Expensicat scope: the tests narrow it where a scope is the point.
ALL_SCOPES = ("entries:read", "entries:write", "invoices:read", "invoices:write", "team:read")

ID_RE = re.compile(r"^\d+$")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

TIME_ENTRY_KEYS = {
    "id",
    "organization_id",
    "user_id",
    "project_id",
    "start_time",
    "end_time",
    "duration",
    "description",
    "billable",
    "invoice_id",
    "created_at",
    "updated_at",
    "user",
    "project",
    "invoice",
}
USER_KEYS = {"id", "full_name", "email", "avatar_url"}
ENTRY_PROJECT_KEYS = {"id", "name", "customer_id", "hourly_rate", "currency", "customer"}
CUSTOMER_REF_KEYS = {"id", "name"}
INVOICE_KEYS = {"id", "number", "status", "date", "due_date"}
PROJECT_KEYS = {
    "id",
    "organization_id",
    "name",
    "customer_id",
    "hourly_rate",
    "currency",
    "archived",
    "created_at",
    "updated_at",
    "customer",
}
CUSTOMER_KEYS = {
    "id",
    "organization_id",
    "name",
    "email",
    "phone",
    "archived",
    "created_at",
    "updated_at",
}
MEMBER_KEYS = {"id", "full_name", "email", "avatar_url", "role", "joined_at"}
ORGANIZATION_KEYS = {
    "id",
    "name",
    "currency",
    "time_zone",
    "country",
    "language",
    "role",
    "prevent_overlapping_entries",
    "created_at",
    "updated_at",
}


class ExpensicatApi:
    """`ec.get("time-entries")` sends GET /api/v1/time-entries with the bearer token (and the
    X-Organization-Id header when `organization` is given); bodies are JSON."""

    def __init__(self, user, token, organization=None):
        self.user = user
        self.token = token
        self.client = APIClient()
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token.secret}"}
        if organization is not None:
            headers["HTTP_X_ORGANIZATION_ID"] = str(getattr(organization, "pk", organization))
        self.client.credentials(**headers)

    @staticmethod
    def url(path: str) -> str:
        return f"/api/v1/{path.lstrip('/')}"

    def get(self, path: str, params=None, **extra):
        return self.client.get(self.url(path), params, **extra)

    def post(self, path: str, data=None, **extra):
        return self.client.post(self.url(path), data, format="json", **extra)

    def patch(self, path: str, data=None, **extra):
        return self.client.patch(self.url(path), data, format="json", **extra)

    def delete(self, path: str, **extra):
        return self.client.delete(self.url(path), **extra)

    def call(self, method: str, path: str, body: Any = None):
        if method in ("post", "patch"):
            return getattr(self, method)(path, body)
        return getattr(self, method)(path)


def ec_api(user, scopes=ALL_SCOPES, *, organization=None, **token_kwargs) -> ExpensicatApi:
    token = TokenFactory(user=user, scopes=scopes, **token_kwargs)
    return ExpensicatApi(user, token, organization=organization)


def assert_error(response, status: int, code: str, *, field: str | None = None) -> dict:
    """The response is Expensicat's error body with this status and code (and, when `field` is
    given, details naming it); returns the error object."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    for messages in error["details"].values():
        assert isinstance(messages, list) and all(isinstance(m, str) for m in messages)
    if field is not None:
        assert field in error["details"], error
    return error


def is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(ID_RE.match(value))


def is_ts(value: Any) -> bool:
    return isinstance(value, str) and bool(TS_RE.match(value))


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def assert_time_entry_shape(body: dict[str, Any]) -> None:
    """Every field of the document's time entry, with the document's types (null where a
    relation is absent or the entry runs)."""
    assert set(body) == TIME_ENTRY_KEYS, set(body) ^ TIME_ENTRY_KEYS
    for key in ("id", "organization_id", "user_id"):
        assert is_id(body[key]), key
    for key in ("project_id", "invoice_id"):
        assert body[key] is None or is_id(body[key]), key
    assert is_ts(body["start_time"])
    assert body["end_time"] is None or is_ts(body["end_time"])
    assert type(body["duration"]) is int and body["duration"] >= 0
    assert isinstance(body["description"], str) and body["description"]
    assert type(body["billable"]) is bool
    assert is_ts(body["created_at"]) and is_ts(body["updated_at"])

    user = body["user"]
    assert set(user) == USER_KEYS and user["id"] == body["user_id"]
    assert isinstance(user["full_name"], str) and isinstance(user["email"], str)
    assert user["avatar_url"] is None or isinstance(user["avatar_url"], str)

    project = body["project"]
    if body["project_id"] is None:
        assert project is None
    else:
        assert set(project) == ENTRY_PROJECT_KEYS and project["id"] == body["project_id"]
        assert isinstance(project["name"], str) and isinstance(project["currency"], str)
        # A number inside a time entry.
        assert project["hourly_rate"] is None or is_number(project["hourly_rate"])
        if project["customer_id"] is None:
            assert project["customer"] is None
        else:
            assert set(project["customer"]) == CUSTOMER_REF_KEYS
            assert project["customer"]["id"] == project["customer_id"]
            assert isinstance(project["customer"]["name"], str)

    invoice = body["invoice"]
    if body["invoice_id"] is None:
        assert invoice is None
    else:
        assert set(invoice) == INVOICE_KEYS and invoice["id"] == body["invoice_id"]


def assert_project_shape(body: dict[str, Any]) -> None:
    assert set(body) == PROJECT_KEYS, set(body) ^ PROJECT_KEYS
    assert is_id(body["id"]) and is_id(body["organization_id"])
    assert isinstance(body["name"], str) and isinstance(body["currency"], str)
    # A string on /v1/projects (the document's type there), unlike inside a time entry.
    assert body["hourly_rate"] is None or isinstance(body["hourly_rate"], str)
    assert type(body["archived"]) is bool
    assert is_ts(body["created_at"]) and is_ts(body["updated_at"])
    if body["customer_id"] is None:
        assert body["customer"] is None
    else:
        assert set(body["customer"]) == CUSTOMER_REF_KEYS
        assert body["customer"]["id"] == body["customer_id"]


def assert_list_shape(body: dict[str, Any]) -> None:
    assert set(body) == {"data", "meta"}
    assert isinstance(body["data"], list)
    assert set(body["meta"]) == {"count", "next_cursor"}
    assert body["meta"]["count"] == len(body["data"])
    assert body["meta"]["next_cursor"] is None or isinstance(body["meta"]["next_cursor"], str)


def walk(ec: ExpensicatApi, path: str, params: dict | None = None) -> list[list[str]]:
    """Follow next_cursor from the first page to the last; the ids of each page."""
    pages: list[list[str]] = []
    params = dict(params or {})
    while True:
        response = ec.get(path, params)
        assert response.status_code == 200, response.content
        body = response.json()
        assert_list_shape(body)
        pages.append([item["id"] for item in body["data"]])
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            return pages
        params["cursor"] = cursor
        assert len(pages) < 100, "the cursor never ends"
