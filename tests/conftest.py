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
    """Rate-limit counters live in the cache, which outlives a test's database rollback; so do
    the credentials a process remembers for counting ahead."""
    from common import ratelimit

    cache.clear()
    ratelimit._buckets_seen.clear()
    yield
    cache.clear()
    ratelimit._buckets_seen.clear()


def redis_available() -> bool:
    try:
        import redis

        return redis.Redis(host="127.0.0.1", port=6379, socket_timeout=0.5).ping()
    except Exception:
        return False


@pytest.fixture
def on_redis():
    """The cache (the rate limit's counters) on the Redis at 127.0.0.1:6379, database 15."""
    from django.core.cache import caches
    from django.test import override_settings

    if not redis_available():
        pytest.skip("no Redis on 127.0.0.1:6379")
    redis_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/15",
    }
    with override_settings(CACHES={"default": redis_cache}):
        caches["default"].clear()
        yield
        caches["default"].clear()


@pytest.fixture
def counting_steps():
    """The order in which requests are counted and their API tokens read: "count" for each
    count sent to the rate limit (common.ratelimit.begin), "credential" for each token read."""
    from unittest import mock

    from administrations.auth import ApiTokenAuthentication
    from common import ratelimit

    steps: list[str] = []
    real_begin = ratelimit.begin
    real_authenticate = ApiTokenAuthentication.authenticate_bearer

    def begin(**kwargs):
        steps.append("count")
        return real_begin(**kwargs)

    def authenticate(self, request, secret):
        steps.append("credential")
        return real_authenticate(self, request, secret)

    with (
        mock.patch.object(ratelimit, "begin", begin),
        mock.patch.object(ApiTokenAuthentication, "authenticate_bearer", authenticate),
    ):
        yield steps


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
