import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import AdministrationFactory, TokenFactory, member


class Api:
    """A client for one user and token: `api.get(path)` sends the bearer token and JSON."""

    def __init__(self, administration, user, token):
        self.administration = administration
        self.user = user
        self.token = token
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.secret}")

    def url(self, path: str) -> str:
        return f"/api/v2/{self.administration.pk}/{path.lstrip('/')}"

    def get(self, path: str, params=None, **extra):
        return self.client.get(self.url(path), params, **extra)

    def post(self, path: str, data=None, **extra):
        return self.client.post(self.url(path), data, format="json", **extra)

    def patch(self, path: str, data=None, **extra):
        return self.client.patch(self.url(path), data, format="json", **extra)

    def delete(self, path: str, **extra):
        return self.client.delete(self.url(path), **extra)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the cache, which outlives a test's database rollback."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def administration(db):
    return AdministrationFactory(name="Acme", time_zone="Europe/Amsterdam")


@pytest.fixture
def owner(administration):
    return member(administration, role="owner", name="Moneybird")


@pytest.fixture
def token(owner):
    return TokenFactory(user=owner)


@pytest.fixture
def api(administration, owner, token) -> Api:
    return Api(administration, owner, token)


@pytest.fixture
def make_api():
    """Build an Api for any administration/user/scopes: make_api(adm, user, scopes=[...])."""

    def build(administration, user, scopes=("time_entries",), **token_kwargs):
        return Api(administration, user, TokenFactory(user=user, scopes=scopes, **token_kwargs))

    return build
