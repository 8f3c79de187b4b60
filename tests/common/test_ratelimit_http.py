"""Rate limits as clients see them, on both dialects."""

import pytest
from django.core.cache import caches
from django.test import override_settings

from tests.conftest import Api, redis_available
from tests.factories import TokenFactory, member


def limits(moneybird: str = "150/300", organization: str = "1500/300") -> dict:
    return {
        "moneybird": {"credential": moneybird, "organization": organization},
        "expensicat": {"credential": moneybird, "organization": organization},
    }


def test_every_response_carries_standard_rate_limit_headers(api):
    first = api.get("time_entries")
    second = api.get("time_entries/1")  # a 404 counts too
    assert first.status_code == 200 and second.status_code == 404
    assert first["RateLimit-Limit"] == second["RateLimit-Limit"] == "150"
    assert (first["RateLimit-Remaining"], second["RateLimit-Remaining"]) == ("149", "148")
    assert 1 <= int(first["RateLimit-Reset"]) <= 300  # seconds, not an epoch


def test_moneybird_429_in_its_error_shape_with_retry_after_seconds(api, settings):
    settings.RATE_LIMITS = limits("3/60")
    statuses = [api.get("time_entries").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api.get("time_entries")
    assert refused.json() == {"error": "Retry later", "symbolic": {"rate_limit": "exceeded"}}
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["RateLimit-Remaining"] == "0"
    assert refused["RateLimit-Limit"] == "3"


def test_a_spent_token_leaves_other_tokens_alone(api, settings, administration, owner):
    settings.RATE_LIMITS = limits("2/60")
    for _ in range(2):
        api.get("time_entries")
    assert api.get("time_entries").status_code == 429
    fresh = Api(administration, owner, TokenFactory(user=owner))
    assert fresh.get("time_entries").status_code == 200


def test_the_organization_limit_spans_its_tokens(api, settings, administration):
    settings.RATE_LIMITS = limits("100/60", organization="3/60")
    colleague = member(administration)
    other = Api(administration, colleague, TokenFactory(user=colleague))
    assert [c.get("time_entries").status_code for c in (api, other, api)] == [200, 200, 200]
    assert other.get("time_entries").status_code == 429


def test_expensicat_429_in_its_error_shape(owner, administration, settings):
    settings.RATE_LIMITS = limits("1/60")
    token = TokenFactory(user=owner, scopes=["entries:read"])
    client = Api(administration, owner, token).client
    assert client.get("/api/v1/time-entries").status_code == 200
    refused = client.get("/api/v1/time-entries")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(refused["Retry-After"]) <= 60


@pytest.mark.skipif(not redis_available(), reason="no Redis on 127.0.0.1:6379")
def test_counters_are_shared_through_redis_across_connections(settings):
    """Two cache connections stand for two server processes: they see one count."""
    from common.ratelimit import Limit, hit

    redis_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/15",
    }
    with override_settings(CACHES={"default": redis_cache}):
        caches["default"].clear()
        limit = Limit(10, 60)
        first = hit("shared", limit, now=1000.0)
        caches["default"].close()  # a fresh connection, as another process would have
        second = hit("shared", limit, now=1001.0)
        caches["default"].clear()
    assert (first.remaining, second.remaining) == (9, 8)


@pytest.mark.skipif(not redis_available(), reason="no Redis on 127.0.0.1:6379")
def test_counting_survives_a_redis_restart():
    """The counters' connection is kept between requests: when the server drops it, or comes
    back without the script (both happen on a restart), the next count still lands."""
    import redis

    from common.ratelimit import Limit, hit

    redis_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/15",
    }
    server = redis.Redis(host="127.0.0.1", port=6379, db=15)
    with override_settings(CACHES={"default": redis_cache}):
        caches["default"].clear()
        limit = Limit(10, 60)
        assert hit("restart", limit, now=1000.0).remaining == 9
        server.script_flush()
        assert hit("restart", limit, now=1000.0).remaining == 8
        server.client_kill_filter(_type="normal", skipme=True)
        assert hit("restart", limit, now=1000.0).remaining == 7
        caches["default"].clear()


@pytest.mark.skipif(not redis_available(), reason="no Redis on 127.0.0.1:6379")
def test_an_error_redis_answers_is_raised_as_redis_py_raises_it_and_not_sent_again():
    """Redis's own error (here a counter key holding a list) is no broken connection: raised as
    redis-py's ResponseError, the command not sent a second time, the connection kept."""
    import redis

    from common.ratelimit import Limit, _connections, _window, hit

    redis_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/15",
    }
    server = redis.Redis(host="127.0.0.1", port=6379, db=15)
    limit = Limit(10, 60)
    with override_settings(CACHES={"default": redis_cache}):
        caches["default"].clear()
        assert hit("fine", limit, now=1000.0).remaining == 9
        held = _connections[caches["default"]._cache]
        (key, _), _ = _window("wrong", limit, 1000.0)
        server.rpush(caches["default"].make_key(key), "not a counter")
        with pytest.raises(redis.exceptions.ResponseError):
            hit("wrong", limit, now=1000.0)
        assert _connections[caches["default"]._cache] is held and held._sock is not None
        assert server.llen(caches["default"].make_key(key)) == 1
        assert hit("fine", limit, now=1000.0).remaining == 8
        caches["default"].clear()
