"""Safe defaults for a deployment: no start without SECRET_KEY when DEBUG is off; `check
--deploy` clean with the README's production environment; OAuth clients need PKCE and may
use plain http only for loopback redirects; static files served by the app (whitenoise)."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from administrations import services as admin_services
from common.exceptions import ValidationFailed

ROOT = Path(__file__).resolve().parents[2]

# README "Production", with a real key and the database of this test run's server.
PRODUCTION = {
    "DATABASE_URL": "postgres://uurwerk@127.0.0.1:5432/uurwerk",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "api.example.com",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "TRUST_X_FORWARDED_PROTO": "true",
    "DEBUG": "false",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """manage.py in a fresh process, with only `env` on top of a clean environment: no
    variable of this test run (PYTEST_VERSION, DATABASE_URL, ...) leaks in."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_a_secret_key_and_debug_off_the_server_refuses_to_start():
    done = manage("check", DEBUG="false")
    assert done.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in done.stderr


def test_a_debug_run_starts_without_a_key():
    """make run sets DEBUG; it keeps working with no key set."""
    done = manage("check", DEBUG="true")
    assert done.returncode == 0, done.stderr


def test_check_deploy_passes_with_the_production_environment():
    done = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout
    assert "WARNING" not in done.stderr


def test_check_deploy_still_flags_a_debug_key():
    """The fallback key of a debug run is one check --deploy names, not a hidden one."""
    env = {**PRODUCTION, "DEBUG": "true"}
    del env["SECRET_KEY"]
    done = manage("check", "--deploy", **env)
    assert "security.W009" in done.stderr or "security.W009" in done.stdout
    assert "security.W018" in done.stderr + done.stdout  # DEBUG on


# --- OAuth redirect URIs: plain http only for loopback (RFC 8252) --------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://client.example.com/callback",
        "http://127.0.0.1:8765/callback",
        "http://[::1]:8765/callback",
        "http://localhost:8765/callback",
    ],
)
def test_https_and_loopback_http_redirects_are_accepted(db, uri):
    application, _ = admin_services.oauth_application_create(name="App", redirect_uris=[uri])
    assert application.redirect_uri_allowed(uri)


@pytest.mark.parametrize(
    "uris",
    [
        ["http://client.example.com/callback"],
        ["http://10.0.0.5:8765/callback"],
        ["http://127.0.0.1.example.com/callback"],
        # one loopback URI doesn't let a remote http one in beside it
        ["http://127.0.0.1:8765/callback", "http://client.example.com/callback"],
    ],
)
def test_plain_http_elsewhere_is_refused(db, uris):
    with pytest.raises(ValidationFailed) as refused:
        admin_services.oauth_application_create(name="App", redirect_uris=uris)
    assert "redirect_uris" in refused.value.errors


def test_every_client_must_use_pkce(db):
    from common.signin import OAuth2Validator as Validator

    confidential, _ = admin_services.oauth_application_create(
        name="Server", redirect_uris=["https://client.example.com/cb"], confidential=True
    )
    assert Validator().is_pkce_required(confidential.client_id, request=None)


# --- static files: served by the app, compressed, with hashed names --------------------------


def test_static_files_are_served_by_the_app_compressed_with_hashed_names(db, tmp_path, settings):
    """As deployed: collectstatic into STATIC_ROOT with the production storage, then the admin's
    stylesheet is served by the app itself (no proxy route), under its hashed name."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    call_command("collectstatic", "--noinput", verbosity=0)
    client = Client()  # a new handler: whitenoise reads STATIC_ROOT when it is built
    page = client.get("/admin/login/").content.decode()
    href = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page)
    assert href, page[:500]
    response = client.get(href[1], HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]
