"""create_oauth_app: registers an authorization-code application, prints its client_id (and the
secret of a confidential client, which is stored only as a hash), and refuses bad input with a
CommandError that writes nothing."""

import io

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from oauth2_provider.models import Application

pytestmark = pytest.mark.django_db

REDIRECT = "https://client.example.com/callback"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # Passwords and client secrets are hashed with PBKDF2's million rounds otherwise.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_oauth_app", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_public_application_prints_only_its_client_id():
    out, err = run("Timer app", "--redirect-uri", REDIRECT)
    application = Application.objects.get()
    assert out == f"client_id: {application.client_id}\n"
    assert err == ""
    assert application.name == "Timer app"
    assert application.client_type == Application.CLIENT_PUBLIC
    assert application.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert application.redirect_uris == REDIRECT
    # DOT's own unguessable secret, hashed and never shown: a public client has no use for it.
    assert application.client_secret.startswith("md5$")  # the test's hasher, see fast_hashing


def test_confidential_application_prints_its_secret_once_and_stores_a_hash():
    out, err = run("Server app", "--redirect-uri", REDIRECT, "--confidential")
    application = Application.objects.get()
    client_id_line, secret_line = out.splitlines()
    assert client_id_line == f"client_id: {application.client_id}"
    secret = secret_line.removeprefix("client_secret: ")
    assert len(secret) >= 40
    assert application.client_type == Application.CLIENT_CONFIDENTIAL
    assert application.client_secret != secret
    assert check_password(secret, application.client_secret)
    assert "stored only as a hash" in err


def test_several_redirect_uris():
    run("App", "--redirect-uri", REDIRECT, "--redirect-uri", "http://127.0.0.1:8765/cb")
    assert Application.objects.get().redirect_uris == f"{REDIRECT} http://127.0.0.1:8765/cb"


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["", "--redirect-uri", REDIRECT], "name: can't be blank"),
        (["App", "--redirect-uri", " "], "redirect_uris: can't be blank"),
        (["App", "--redirect-uri", "ftp://example.com/cb"], "redirect_uris: .*invalid_scheme"),
        (["App", "--redirect-uri", "not a uri"], "redirect_uris"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(args, match):
    with pytest.raises(CommandError, match=match):
        run(*args)
    assert not Application.objects.exists()


def test_redirect_uri_is_required():
    with pytest.raises(CommandError, match="--redirect-uri"):
        run("App")
