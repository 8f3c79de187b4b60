"""A server worker imports what the API needs and nothing else (issue 12, worker memory; README
"Performance"): the admin, sign-in and OAuth2, the OpenAPI views, simplejwt, requests, PyYAML,
Pygments and cryptography load only when something asks for them (config/urls.py, config/apps.py,
config/lean.py). Checked in a fresh process that starts as a gunicorn worker does (the WSGI
application and the URLconf loaded) and then serves the hot API paths, since this test process
has long imported everything."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.factories import TokenFactory
from tests.timeentries.moneybird_support import make_entry

ROOT = Path(__file__).resolve().parents[2]

# Modules (and their submodules) a worker that only answered the API must not have imported.
NOT_FOR_THE_API = [
    "config.urls_admin",
    "common.admin",
    "administrations.admin",
    "invoices.admin",
    "notes.admin",
    "timeentries.admin",
    "timeentries.admin_pages",
    "webhooks.admin",
    "django.contrib.admin.views.main",
    "django.contrib.auth.admin",
    "common.signin",
    "oauth2_provider.views",
    "oauth2_provider.oauth2_validators",
    "oauthlib.oauth2.rfc6749.grant_types",
    "oauthlib.oauth2.rfc6749.endpoints.pre_configured",
    "oauthlib.oauth2.rfc8628",
    "rest_framework_simplejwt",
    "common.apidocs",
    "drf_spectacular.views",
    "drf_spectacular.renderers",
    "requests",
    "yaml",
    "pygments",
    "cryptography",
    "timeentries.imports",
    "rich",
    "tqdm",
    "hypothesis",
    "schemathesis",
]

WORKER = """
import json, os, sys

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
# What config/gunicorn.py's when_ready does in the master before it forks the workers.
from django.urls import get_resolver

get_resolver().url_patterns

from django.test import Client

NOT_FOR_THE_API = json.loads(os.environ["NOT_FOR_THE_API"])
calls = json.loads(os.environ["CALLS"])


def loaded():
    return sorted(
        name
        for name in sys.modules
        if any(name == prefix or name.startswith(prefix + ".") for prefix in NOT_FOR_THE_API)
    )


client = Client(HTTP_AUTHORIZATION="Bearer " + os.environ["SECRET"])
for method, path, body in calls:
    response = client.generic(method, path, json.dumps(body) if body else "", "application/json")
    if not 200 <= response.status_code < 300:
        sys.exit(f"{method} {path}: {response.status_code} {response.content[:500]!r}")
after_api = loaded()
# The pages that do need them still load them, on first use.
for path in ("/admin/login/", "/auth/login", "/api/docs/"):
    response = Client().get(path)
    if response.status_code != 200:
        sys.exit(f"GET {path}: {response.status_code}")
print(json.dumps({"after_api": after_api, "after_pages": loaded()}))
"""


def database_url() -> str:
    """This test run's database, for the worker process."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = quote(settings["USER"] or "")
    password = f":{quote(settings['PASSWORD'])}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "127.0.0.1"
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(settings['NAME'])}"


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_served_the_api_has_not_imported_the_rest(administration, owner):
    token = TokenFactory(user=owner, administration=administration)
    entry = make_entry(administration, owner, datetime(2026, 3, 2, 9, tzinfo=UTC))
    moneybird = f"/api/v2/{administration.pk}"
    created = {
        "started_at": "2026-03-03 09:00:00 UTC",
        "ended_at": "2026-03-03 10:00:00 UTC",
        "description": "Worker",
    }
    calls = [
        ("GET", f"{moneybird}/time_entries.json?per_page=100", None),
        ("GET", f"{moneybird}/time_entries.json?filter=state:open%7Cnon_billable", None),
        ("GET", f"{moneybird}/time_entries/{entry.pk}.json", None),
        ("GET", f"{moneybird}/time_entries/report.json?group_by=project,week", None),
        ("POST", f"{moneybird}/time_entries.json", {"time_entry": created}),
        ("PATCH", f"{moneybird}/time_entries/{entry.pk}.json", {"time_entry": {"billable": False}}),
        ("GET", f"{moneybird}/contacts.json", None),
        ("GET", f"{moneybird}/projects.json", None),
        ("GET", "/api/v1/time-entries?limit=100", None),
        ("GET", f"/api/v1/time-entries/{entry.pk}", None),
    ]
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env = {
        **base,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "DEBUG": "false",
        # Static files as this test run has them (no collectstatic): the pages below use some.
        "PYTEST_VERSION": os.environ.get("PYTEST_VERSION", "1"),
        "SECRET_KEY": "test-worker-imports-" + "x" * 40,
        "ALLOWED_HOSTS": "testserver",
        "SECRET": token.secret,
        "CALLS": json.dumps(calls),
        "NOT_FOR_THE_API": json.dumps(NOT_FOR_THE_API),
    }
    done = subprocess.run(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["after_api"] == []
    # Proof that the check sees them when they are there.
    for module in ("config.urls_admin", "timeentries.admin", "common.signin", "common.apidocs"):
        assert module in result["after_pages"]
    assert "oauthlib.oauth2.rfc6749.grant_types" in result["after_pages"]
