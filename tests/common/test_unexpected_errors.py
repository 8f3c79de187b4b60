"""An exception nobody expected: a 500 in the dialect's JSON error shape (not Django's HTML
page), nothing written, and the exception logged once with its traceback to the console,
whatever DEBUG says."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from common import middleware
from tests.expensicat_support import ec_api

ROOT = Path(__file__).resolve().parents[2]


EXPENSICAT_500 = {
    "error": {"code": "INTERNAL_ERROR", "message": "Internal server error", "details": {}}
}


class Boom(RuntimeError):
    pass


def explode(*args, **kwargs):
    raise Boom("the selector fell over")


def logged_500s(caplog, path: str) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "django.request" and r.levelno == logging.ERROR and path in r.getMessage()
    ]


def unraising(client: APIClient) -> APIClient:
    # As a server answers: the test client would otherwise re-raise the view's exception.
    client.raise_request_exception = False
    return client


def test_moneybird_answers_an_unexpected_exception_with_a_json_500(api, monkeypatch, caplog):
    monkeypatch.setattr("timeentries.api.moneybird.time_entries_of", explode)
    unraising(api.client)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = api.get("time_entries.json")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": "Internal server error",
        "symbolic": {"server": "internal_error"},
    }
    [record] = logged_500s(caplog, api.url("time_entries.json"))
    assert record.exc_info is not None and record.exc_info[0] is Boom
    assert record.status_code == 500
    assert "the selector fell over" in caplog.text  # the traceback is in the log


def test_expensicat_answers_an_unexpected_exception_with_a_json_500(owner, monkeypatch, caplog):
    ec = ec_api(owner)
    monkeypatch.setattr("timeentries.rows.expensicat_page", explode)
    unraising(ec.client)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = ec.get("time-entries")
    assert response.status_code == 500
    assert response.json() == EXPENSICAT_500
    [record] = logged_500s(caplog, "/api/v1/time-entries")
    assert record.exc_info[0] is Boom


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/api/v1/time-entries",
            EXPENSICAT_500,
        ),
        (
            "/api/v2/administrations.json",
            {"error": "Internal server error", "symbolic": {"server": "internal_error"}},
        ),
    ],
)
def test_an_exception_outside_the_views_is_a_json_500_under_api(
    db, monkeypatch, caplog, path, body
):
    """Raised in a middleware, before any view: Django's handler500 answers, in JSON."""
    monkeypatch.setattr(middleware.RequestBodyLimitMiddleware, "__call__", explode)
    client = unraising(APIClient())
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get(path)
    assert response.status_code == 500
    assert response.json() == body
    [record] = logged_500s(caplog, path)
    assert record.exc_info[0] is Boom


def test_outside_the_api_it_stays_a_page(db, monkeypatch):
    monkeypatch.setattr(middleware.RequestBodyLimitMiddleware, "__call__", explode)
    response = unraising(APIClient()).get("/auth/login")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


SCRIPT = """
import django, logging
django.setup()
try:
    raise ValueError("traceback-marker")
except ValueError:
    logging.getLogger("django.request").error("Internal Server Error: /x", exc_info=True)
"""


@pytest.mark.parametrize("debug", ["true", "false"])
def test_the_console_gets_every_traceback_in_every_mode(debug):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": debug,
        "SECRET_KEY": "a-test-key-for-this-process-only-" + "x" * 40,
    }
    env.pop("LOG_LEVEL", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    # Once, with the traceback: not twice (Django's own console handler and ours).
    assert done.stderr.count("Internal Server Error: /x") == 1, done.stderr
    assert "Traceback (most recent call last)" in done.stderr
    assert 'ValueError("traceback-marker")' in done.stderr or "traceback-marker" in done.stderr
