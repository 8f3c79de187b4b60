"""Signing in, through HTTP as a browser and an API client would: the login and consent pages
(with CSRF checks on, no JavaScript), the OAuth2 authorization-code flow with PKCE on both
dialects' paths, refresh and revocation; session JWTs; and what each credential may do."""

import base64
import hashlib
import json
import secrets
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken as JwtAccessToken
from rest_framework_simplejwt.tokens import RefreshToken as JwtRefreshToken

from administrations import services as admin_services
from administrations.models import User
from common.auth import (
    EXPENSICAT_SCOPES,
    KNOWN_SCOPES,
    MONEYBIRD_SCOPES,
    OAUTH_TOKEN_PREFIX,
    Grant,
    implied_scopes,
)
from tests.factories import AdministrationFactory, MembershipFactory, TokenFactory

pytestmark = pytest.mark.django_db

REDIRECT = "https://client.example.com/callback"
PASSWORD = "correct horse battery"
AUTHORIZE_PATHS = ["/api/auth/oauth2/authorize", "/oauth/authorize"]
TOKEN_PATHS = ["/api/auth/oauth2/token", "/oauth/token"]


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # Passwords and client secrets are hashed with PBKDF2's million rounds otherwise.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- helpers ------------------------------------------------------------------------------------


class Forms(HTMLParser):
    """The forms of a page: their action and the values their inputs would submit."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "fields": {}, "buttons": {}})
        elif tag in ("input", "button") and self.forms and attrs.get("name"):
            form = self.forms[-1]
            kind = "buttons" if tag == "button" or attrs.get("type") == "submit" else "fields"
            form[kind][attrs["name"]] = attrs.get("value") or ""


def form(response, index: int = 0) -> dict:
    return Forms(response.content.decode()).forms[index]


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize_url(path: str, application, *, scope="time_entries", challenge=None, **extra):
    params = {
        "response_type": "code",
        "client_id": application.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "s-123",
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return f"{path}?{urlencode(params | extra)}"


def sign_in(browser: Client, email: str, next_url: str = "") -> object:
    page = browser.get("/auth/login" + (f"?{urlencode({'next': next_url})}" if next_url else ""))
    assert page.status_code == 200
    fields = form(page)["fields"]
    return browser.post(
        "/auth/login", {**fields, "username": email, "password": PASSWORD, "next": next_url}
    )


def approve(browser: Client, url: str, *, allow: bool = True):
    """Show the consent page and press Allow (or Deny); the redirect back to the client."""
    page = browser.get(url)
    assert page.status_code == 200, page.content
    consent = form(page)
    data = dict(consent["fields"])
    if allow:
        data["allow"] = consent["buttons"]["allow"]
    return browser.post(url, data)


def exchange(path: str, body: dict, *, as_json: bool):
    client = APIClient()
    if as_json:
        return client.post(path, json.dumps(body), content_type="application/json")
    return client.post(path, urlencode(body), content_type="application/x-www-form-urlencoded")


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def administration():
    return AdministrationFactory(name="Acme")


@pytest.fixture
def user(administration) -> User:
    return MembershipFactory(
        administration=administration, email="ann@example.com", password=PASSWORD, role="owner"
    ).user


@pytest.fixture
def application():
    app, secret = admin_services.oauth_application_create(
        name="Timer app", redirect_uris=[REDIRECT]
    )
    assert secret is None
    return app


@pytest.fixture
def browser(user) -> Client:
    """A browser with the user signed in through the login page (CSRF checks on)."""
    client = Client(enforce_csrf_checks=True)
    assert sign_in(client, user.email).status_code == 302
    return client


def code_for(browser, application, *, path=AUTHORIZE_PATHS[0], scope="time_entries"):
    verifier, challenge = pkce()
    response = approve(browser, authorize_url(path, application, scope=scope, challenge=challenge))
    assert response.status_code == 302
    return query(response["Location"])["code"], verifier


def tokens_for(browser, application, *, scope="time_entries") -> dict:
    code, verifier = code_for(browser, application, scope=scope)
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": application.client_id,
        "code_verifier": verifier,
    }
    response = exchange(TOKEN_PATHS[0], body, as_json=False)
    assert response.status_code == 200, response.content
    return response.json()


# --- the OAuth2 dance ---------------------------------------------------------------------------


def test_oauth_dance(administration, user, application):
    browser = Client(enforce_csrf_checks=True)
    verifier, challenge = pkce()
    url = authorize_url(AUTHORIZE_PATHS[0], application, challenge=challenge)
    time_entries = f"/api/v2/{administration.pk}/time_entries"
    statuses = []

    # 1. Not signed in: the authorization endpoint sends the browser to the login page.
    response = browser.get(url)
    statuses.append(response.status_code)
    assert urlsplit(response["Location"]).path == "/auth/login"
    assert query(response["Location"]) == {"next": url}

    # 2-3. The login page, then email and password; back to the authorization request.
    page = browser.get(response["Location"])
    statuses.append(page.status_code)
    response = browser.post(
        "/auth/login",
        {**form(page)["fields"], "username": "ann@example.com", "password": PASSWORD},
    )
    statuses.append(response.status_code)
    assert response["Location"] == url

    # 4-5. The consent page names the application and the scopes; Allow sends the code back.
    page = browser.get(url)
    statuses.append(page.status_code)
    html = page.content.decode()
    assert "Timer app" in html and MONEYBIRD_SCOPES["time_entries"] in html
    consent = form(page)
    response = browser.post(url, {**consent["fields"], "allow": consent["buttons"]["allow"]})
    statuses.append(response.status_code)
    assert response["Location"].startswith(REDIRECT + "?")
    params = query(response["Location"])
    assert params["state"] == "s-123"
    assert params["iss"] == "http://testserver"

    # 6. The code and the PKCE verifier buy an access and a refresh token.
    response = exchange(
        TOKEN_PATHS[0],
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": REDIRECT,
            "client_id": application.client_id,
            "code_verifier": verifier,
        },
        as_json=False,
    )
    statuses.append(response.status_code)
    issued = response.json()
    assert issued["token_type"] == "Bearer"
    assert issued["scope"] == "time_entries"
    assert issued["access_token"].startswith(OAUTH_TOKEN_PREFIX)

    # 7. The access token reads Moneybird's time entries.
    response = bearer(issued["access_token"]).get(time_entries)
    statuses.append(response.status_code)

    # 8-10. Refreshing gives a new pair; the old access token stops working, the new one works.
    response = exchange(
        TOKEN_PATHS[0],
        {
            "grant_type": "refresh_token",
            "refresh_token": issued["refresh_token"],
            "client_id": application.client_id,
        },
        as_json=False,
    )
    statuses.append(response.status_code)
    refreshed = response.json()
    assert refreshed["access_token"] != issued["access_token"]
    assert refreshed["refresh_token"] != issued["refresh_token"]
    response = bearer(issued["access_token"]).get(time_entries)
    statuses.append(response.status_code)
    response = bearer(refreshed["access_token"]).get(time_entries)
    statuses.append(response.status_code)

    # 11-12. Revoked, the access token is refused.
    response = exchange(
        "/api/auth/oauth2/revoke",
        {"token": refreshed["access_token"], "client_id": application.client_id},
        as_json=False,
    )
    statuses.append(response.status_code)
    response = bearer(refreshed["access_token"]).get(time_entries)
    statuses.append(response.status_code)
    assert response.json() == {"error": "Token is invalid"}

    assert statuses == [302, 200, 302, 200, 302, 200, 200, 200, 401, 200, 200, 401]


@pytest.mark.parametrize("authorize_path", AUTHORIZE_PATHS)
@pytest.mark.parametrize("token_path", TOKEN_PATHS)
@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_code_exchange_on_every_path_as_form_and_json(
    administration, browser, application, authorize_path, token_path, as_json
):
    code, verifier = code_for(browser, application, path=authorize_path)
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": application.client_id,
        "code_verifier": verifier,
    }
    response = exchange(token_path, body, as_json=as_json)
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    issued = response.json()
    assert set(issued) == {"access_token", "expires_in", "token_type", "scope", "refresh_token"}
    assert (
        bearer(issued["access_token"]).get(f"/api/v2/{administration.pk}/time_entries").status_code
        == 200
    )

    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": issued["refresh_token"],
        "client_id": application.client_id,
    }
    response = exchange(token_path, refresh, as_json=as_json)
    assert response.status_code == 200, response.content
    # The refresh token was rotated: the old one is spent.
    response = exchange(token_path, refresh, as_json=as_json)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("path", ["/api/auth/oauth2/revoke", "/oauth/revoke"])
@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_revocation_on_both_paths(administration, browser, application, path, as_json):
    issued = tokens_for(browser, application)
    body = {"token": issued["access_token"], "client_id": application.client_id}
    assert exchange(path, body, as_json=as_json).status_code == 200
    response = bearer(issued["access_token"]).get(f"/api/v2/{administration.pk}/time_entries")
    assert response.status_code == 401
    assert response.json() == {"error": "Token is invalid"}


def test_revoking_the_refresh_token_ends_it(browser, application):
    issued = tokens_for(browser, application)
    body = {"token": issued["refresh_token"], "client_id": application.client_id}
    assert exchange("/oauth/revoke", body, as_json=False).status_code == 200
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": issued["refresh_token"],
        "client_id": application.client_id,
    }
    assert exchange("/oauth/token", refresh, as_json=False).status_code == 400


def test_tokens_are_stored_only_as_checksums(browser, application):
    issued = tokens_for(browser, application)
    access = AccessToken.objects.get()
    assert access.token == ""
    assert access.token_checksum == hashlib.sha256(issued["access_token"].encode()).hexdigest()
    assert RefreshToken.objects.get().token == ""


# --- PKCE ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", AUTHORIZE_PATHS)
def test_public_client_without_pkce_is_refused(browser, application, path):
    response = browser.get(authorize_url(path, application))
    assert response.status_code == 302
    params = query(response["Location"])
    assert response["Location"].startswith(REDIRECT)
    assert params["error"] == "invalid_request"
    assert "code" not in params


def test_plain_pkce_is_refused(browser, application):
    url = authorize_url(
        AUTHORIZE_PATHS[0], application, code_challenge="x" * 43, code_challenge_method="plain"
    )
    # Refused when the code would be issued: the user sees the consent page first.
    response = approve(browser, url)
    assert response.status_code == 302
    assert query(response["Location"])["error"] == "invalid_request"
    assert "code" not in query(response["Location"])


def test_code_without_or_with_a_wrong_verifier_is_refused(browser, application):
    code, _ = code_for(browser, application)
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": application.client_id,
    }
    response = exchange(TOKEN_PATHS[0], body, as_json=True)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    response = exchange(TOKEN_PATHS[0], body | {"code_verifier": pkce()[0]}, as_json=True)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert AccessToken.objects.count() == 0


def test_confidential_client_authenticates_with_its_secret_and_pkce(administration, browser):
    app, secret = admin_services.oauth_application_create(
        name="Server app", redirect_uris=[REDIRECT], confidential=True
    )
    # Without PKCE a confidential client is refused too (RFC 9700: PKCE of every client).
    response = browser.get(authorize_url("/oauth/authorize", app))
    assert response.status_code == 302
    assert query(response["Location"])["error"] == "invalid_request"
    code, verifier = code_for(browser, app, path="/oauth/authorize")
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    credentials = {"client_id": app.client_id, "client_secret": "wrong"}
    response = exchange("/oauth/token", body | credentials, as_json=True)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    credentials["client_secret"] = secret
    response = exchange("/oauth/token", body | credentials, as_json=True)
    assert response.status_code == 200, response.content
    access = response.json()["access_token"]
    assert bearer(access).get(f"/api/v2/{administration.pk}/time_entries").status_code == 200


# --- consent ------------------------------------------------------------------------------------


def test_deny_sends_access_denied_back(browser, application):
    _, challenge = pkce()
    url = authorize_url(AUTHORIZE_PATHS[1], application, challenge=challenge)
    response = approve(browser, url, allow=False)
    assert response.status_code == 302
    assert query(response["Location"]) == {"error": "access_denied", "state": "s-123"}
    assert AccessToken.objects.count() == 0


def test_consent_page_lets_someone_else_sign_in(browser, application):
    _, challenge = pkce()
    url = authorize_url(AUTHORIZE_PATHS[1], application, challenge=challenge)
    sign_out = form(browser.get(url), 1)
    assert sign_out["action"] == "/auth/logout"
    response = browser.post(sign_out["action"], sign_out["fields"])
    assert (response.status_code, response["Location"]) == (302, url)
    response = browser.get(url)
    assert urlsplit(response["Location"]).path == "/auth/login"


def test_consent_form_needs_its_csrf_token(browser, application):
    _, challenge = pkce()
    url = authorize_url(AUTHORIZE_PATHS[0], application, challenge=challenge)
    consent = form(browser.get(url))
    fields = {k: v for k, v in consent["fields"].items() if k != "csrfmiddlewaretoken"}
    assert browser.post(url, {**fields, "allow": "true"}).status_code == 403


def test_unknown_scope_is_refused(browser, application):
    _, challenge = pkce()
    response = browser.get(
        authorize_url(
            AUTHORIZE_PATHS[0], application, scope="time_entries admin", challenge=challenge
        )
    )
    assert response.status_code == 302
    assert query(response["Location"])["error"] == "invalid_scope"


def test_unknown_client_gets_an_error_page_not_a_redirect(browser, application):
    _, challenge = pkce()
    url = authorize_url(AUTHORIZE_PATHS[0], application, challenge=challenge, client_id="nope")
    response = browser.get(url)
    assert response.status_code == 400
    assert "cannot be completed" in response.content.decode()


def test_consent_lists_every_scope_asked_for(browser, application):
    _, challenge = pkce()
    scope = "entries:read team:read"
    page = browser.get(
        authorize_url(AUTHORIZE_PATHS[0], application, scope=scope, challenge=challenge)
    )
    html = page.content.decode()
    assert EXPENSICAT_SCOPES["entries:read"] in html
    assert EXPENSICAT_SCOPES["team:read"] in html
    assert MONEYBIRD_SCOPES["time_entries"] not in html


# --- the login page -----------------------------------------------------------------------------


def test_login_page_refuses_a_wrong_password(user):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/auth/login")
    response = browser.post(
        "/auth/login", {**form(page)["fields"], "username": user.email, "password": "wrong"}
    )
    assert response.status_code == 200
    assert "did not match" in response.content.decode()
    assert "_auth_user_id" not in browser.session


def test_login_then_logout(user):
    browser = Client(enforce_csrf_checks=True)
    response = sign_in(browser, user.email)
    assert response.status_code == 302
    page = browser.get(response["Location"])
    assert "You are signed in as" in page.content.decode()
    response = browser.post("/auth/logout", form(page)["fields"])
    assert response.status_code == 302
    assert "_auth_user_id" not in browser.session


# --- what an OAuth token may do ----------------------------------------------------------------


def test_token_without_the_scope_is_refused_moneybird_style(administration, browser, application):
    issued = tokens_for(browser, application, scope="settings")
    response = bearer(issued["access_token"]).get(f"/api/v2/{administration.pk}/time_entries")
    assert response.status_code == 401
    assert response.json() == {"error": "No access to time_entries"}


def test_expensicat_scope_reaches_moneybird_through_implication(
    administration, browser, application
):
    issued = tokens_for(browser, application, scope="entries:write")
    response = bearer(issued["access_token"]).get(f"/api/v2/{administration.pk}/time_entries")
    assert response.status_code == 200


def test_oauth_token_reaches_only_the_users_administrations(browser, application):
    other = AdministrationFactory(name="Other")
    issued = tokens_for(browser, application)
    response = bearer(issued["access_token"]).get(f"/api/v2/{other.pk}/time_entries")
    assert response.status_code == 404


def test_expired_or_unknown_oauth_token_is_401(administration, browser, application, user):
    issued = tokens_for(browser, application)
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    url = f"/api/v2/{administration.pk}/time_entries"
    for secret in (issued["access_token"], OAUTH_TOKEN_PREFIX + "nonsense"):
        response = bearer(secret).get(url)
        assert response.status_code == 401
        assert response.json() == {"error": "Token is invalid"}


def test_oauth_token_of_a_deactivated_user_is_401(administration, browser, application, user):
    issued = tokens_for(browser, application)
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = bearer(issued["access_token"]).get(f"/api/v2/{administration.pk}/time_entries")
    assert response.status_code == 401


@pytest.mark.parametrize("credential", ["oauth", "jwt"])
def test_oauth_and_jwt_write_as_the_signed_in_user(
    administration, user, browser, application, credential
):
    if credential == "oauth":
        secret = tokens_for(browser, application)["access_token"]
    else:
        secret = obtain(email=user.email, password=PASSWORD).json()["access"]
    body = {"time_entry": {"description": "Signed in", "started_at": "2026-03-02T10:00:00Z"}}
    url = f"/api/v2/{administration.pk}/time_entries"
    response = bearer(secret).post(url, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["user_id"] == str(user.pk)
    response = bearer(secret).post(url, "{not json", content_type="application/json")
    assert response.status_code == 400


def test_token_endpoint_refuses_a_body_that_is_not_a_json_object(application):
    for body in ("not json", "[1, 2]", '{"code": {"nested": 1}}'):
        response = APIClient().post(TOKEN_PATHS[0], body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


# --- session JWTs -------------------------------------------------------------------------------


def obtain(**body):
    return APIClient().post("/api/auth/token", body, format="json")


def refresh_jwt(refresh: str):
    return APIClient().post("/api/auth/token/refresh", {"refresh": refresh}, format="json")


def test_jwt_obtain_call_and_refresh(administration, user):
    response = obtain(email="Ann@Example.com ", password=PASSWORD)
    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    # The user's only organization is the one the session acts on.
    assert JwtAccessToken(tokens["access"])["organization_id"] == str(administration.pk)
    url = f"/api/v2/{administration.pk}/time_entries"
    assert bearer(tokens["access"]).get(url).status_code == 200

    response = refresh_jwt(tokens["refresh"])
    assert response.status_code == 200
    refreshed = response.json()
    assert set(refreshed) == {"access"}
    assert JwtAccessToken(refreshed["access"])["organization_id"] == str(administration.pk)
    assert bearer(refreshed["access"]).get(url).status_code == 200


def test_jwt_for_a_chosen_organization_reaches_only_that_one(administration, user):
    other = AdministrationFactory(name="Other")
    admin_services.member_add(administration=other, actor=None, email=user.email)
    response = obtain(email=user.email, password=PASSWORD, organization_id=str(other.pk))
    access = response.json()["access"]
    assert bearer(access).get(f"/api/v2/{other.pk}/time_entries").status_code == 200
    assert bearer(access).get(f"/api/v2/{administration.pk}/time_entries").status_code == 404

    # Without a choice, a member of two organizations reaches both.
    access = obtain(email=user.email, password=PASSWORD).json()["access"]
    assert "organization_id" not in JwtAccessToken(access)
    assert bearer(access).get(f"/api/v2/{other.pk}/time_entries").status_code == 200
    assert bearer(access).get(f"/api/v2/{administration.pk}/time_entries").status_code == 200


@pytest.mark.parametrize("organization_id", ["foreign", "123", "abc"])
def test_jwt_for_an_organization_the_user_is_not_in_is_400(user, organization_id):
    if organization_id == "foreign":
        organization_id = AdministrationFactory(name="Foreign").pk
    response = obtain(email=user.email, password=PASSWORD, organization_id=organization_id)
    assert response.status_code == 400
    message = "You are not a member of this organization"
    assert response.json() == {
        "error": {
            "code": "BAD_REQUEST",
            "message": message,
            "details": {"organization_id": [message]},
        }
    }


@pytest.mark.parametrize("email", ["ann@example.com", "nobody@example.com"])
def test_jwt_wrong_password_or_unknown_email_is_401(user, email):
    response = obtain(email=email, password="wrong password")
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "UNAUTHORIZED", "message": "Invalid email or password", "details": {}}
    }


def test_jwt_for_a_deactivated_user_is_refused(user):
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert obtain(email=user.email, password=PASSWORD).status_code == 401


def test_jwt_obtain_without_fields_is_422(user):
    response = obtain(email="")
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {"email": ["can't be blank"]}


def jwt_for(user, **claims) -> JwtAccessToken:
    token = JwtRefreshToken.for_user(user).access_token
    for key, value in claims.items():
        token[key] = value
    return token


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("expired", "Token has expired"),
        ("refresh", "Token is invalid"),
        ("garbage.garbage.garbage", "Token is invalid"),
        ("forged", "Token is invalid"),
    ],
)
def test_bad_jwt_is_401_in_moneybird_shape(administration, user, secret, message):
    if secret == "expired":
        token = jwt_for(user)
        token.set_exp(from_time=timezone.now() - timedelta(hours=1))
        secret = str(token)
    elif secret == "refresh":
        secret = str(JwtRefreshToken.for_user(user))
    elif secret == "forged":
        header, payload, _ = str(jwt_for(user)).split(".")
        secret = f"{header}.{payload}.{'A' * 43}"
    response = bearer(secret).get(f"/api/v2/{administration.pk}/time_entries")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": message}


def test_password_change_ends_session_jwts(administration, user):
    tokens = obtain(email=user.email, password=PASSWORD).json()
    admin_services.user_update(user=user, actor=None, changes={"password": "a new long password"})
    url = f"/api/v2/{administration.pk}/time_entries"
    assert bearer(tokens["access"]).get(url).status_code == 401
    response = refresh_jwt(tokens["refresh"])
    assert response.status_code == 401


@pytest.mark.parametrize("refresh", ["garbage", "access"])
def test_jwt_refresh_with_a_bad_token_is_401(user, refresh):
    if refresh == "access":
        refresh = obtain(email=user.email, password=PASSWORD).json()["access"]
    response = refresh_jwt(refresh)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


def test_jwt_refresh_after_leaving_the_organization_is_401(administration, user):
    other = MembershipFactory(administration=administration, role="owner")
    tokens = obtain(email=user.email, password=PASSWORD).json()
    membership = user.memberships.get()
    admin_services.member_remove(membership=membership, actor=other.user)
    response = refresh_jwt(tokens["refresh"])
    assert response.status_code == 401


# --- one notion of what a credential may do -----------------------------------------------------


def test_scope_vocabulary_is_the_services_one():
    assert (
        admin_services.KNOWN_SCOPES
        == KNOWN_SCOPES
        == set(MONEYBIRD_SCOPES) | set(EXPENSICAT_SCOPES)
    )


@pytest.mark.parametrize(
    ("granted", "implied", "not_implied"),
    [
        ({"time_entries"}, {"entries:read", "entries:write"}, {"settings"}),
        ({"sales_invoices"}, {"invoices:read", "invoices:write"}, {"time_entries"}),
        ({"settings"}, {"team:read"}, {"time_entries"}),
        ({"entries:write"}, {"entries:read", "time_entries"}, {"settings"}),
        ({"entries:read"}, set(), {"time_entries", "entries:write"}),
        ({"invoices:write"}, {"invoices:read", "sales_invoices"}, set()),
        ({"team:read"}, set(), {"settings"}),
    ],
)
def test_scope_implications(granted, implied, not_implied):
    scopes = implied_scopes(granted)
    assert granted | implied <= scopes
    assert not scopes & not_implied


def test_grant_carries_the_implied_scopes_and_both_names_of_the_restriction():
    grant = Grant("api_token", frozenset({"time_entries"}), 42)
    assert grant.allows("entries:read") and not grant.allows("settings")
    assert grant.organization_id == grant.administration_id == 42
    with pytest.raises(AttributeError):
        grant.scopes = frozenset()  # type: ignore[misc]


def test_every_credential_becomes_a_grant(administration, user, browser, application):
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from common.auth import ApiTokenAuthentication, JWTAuthentication, OAuth2Authentication

    def authenticate(auth_class, secret):
        request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {secret}"))
        return auth_class().authenticate(request)

    token = TokenFactory(user=user, scopes=["entries:write"], administration=administration)
    _, grant = authenticate(ApiTokenAuthentication, token.secret)
    assert grant == Grant(
        "api_token",
        frozenset({"entries:write"}),
        administration.pk,
        credential_id=f"api_token:{token.pk}",
    )

    access = obtain(email=user.email, password=PASSWORD).json()["access"]
    _, grant = authenticate(JWTAuthentication, access)
    assert grant == Grant("jwt", KNOWN_SCOPES, administration.pk, credential_id=f"jwt:{user.pk}")

    issued = tokens_for(browser, application, scope="settings team:read")
    authenticated_user, grant = authenticate(OAuth2Authentication, issued["access_token"])
    assert authenticated_user == user
    assert grant.kind == "oauth" and grant.credential_id.startswith("oauth:")
    assert grant.scopes == Grant("oauth", frozenset({"settings", "team:read"})).scopes
    assert grant.administration_id is None

    # Each class leaves the others' credentials alone.
    assert authenticate(ApiTokenAuthentication, access) is None
    assert authenticate(OAuth2Authentication, token.secret) is None
    assert authenticate(JWTAuthentication, issued["access_token"]) is None


def test_api_token_with_an_expensicat_scope_reaches_moneybird(administration, user):
    token = TokenFactory(user=user, scopes=["entries:write"])
    url = f"/api/v2/{administration.pk}/time_entries"
    assert bearer(token.secret).get(url).status_code == 200
    token = TokenFactory(user=user, scopes=["entries:read"])
    response = bearer(token.secret).get(url)
    assert response.status_code == 401
    assert response.json() == {"error": "No access to time_entries"}
