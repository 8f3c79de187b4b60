import pytest
from django.core.cache import cache

from common.exceptions import RateLimited
from common.ratelimit import Limit, enforce, hit


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def test_limit_parses_requests_per_seconds():
    assert Limit.parse(" 150 / 300 ") == Limit(150, 300)
    for bad in ("150", "0/10", "10/0", "a/b", "-1/5"):
        with pytest.raises(ValueError):
            Limit.parse(bad)


def test_hit_counts_down_within_a_window_and_resets_in_the_next():
    limit = Limit(3, 60)
    assert [hit("b", limit, now=120.0).remaining for _ in range(4)] == [2, 1, 0, -1]
    usage = hit("b", limit, now=150.5)
    assert (usage.remaining, usage.reset) == (-2, 29)
    assert usage.headers() == {
        "RateLimit-Limit": "3",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "29",
    }
    assert hit("b", limit, now=180.0).remaining == 2  # a new window
    assert hit("other", limit, now=150.0).remaining == 2  # buckets are separate


def test_enforce_raises_with_retry_after_once_the_credential_is_spent(settings):
    settings.RATE_LIMITS = {"x": {"credential": "2/60", "organization": "100/60"}}
    enforce(dialect="x", credential="t1", organization="o")
    enforce(dialect="x", credential="t1", organization="o")
    with pytest.raises(RateLimited) as exc:
        enforce(dialect="x", credential="t1", organization="o")
    assert 1 <= exc.value.retry_after <= 60
    # Another token of the same organization still has its own allowance.
    assert enforce(dialect="x", credential="t2", organization="o").remaining == 1


def test_enforce_limits_the_organization_across_credentials(settings):
    settings.RATE_LIMITS = {"x": {"credential": "100/60", "organization": "3/60"}}
    for n in range(3):
        enforce(dialect="x", credential=f"t{n}", organization="o")
    with pytest.raises(RateLimited):
        enforce(dialect="x", credential="t9", organization="o")
    assert enforce(dialect="x", credential="t9", organization="other").remaining == 2
