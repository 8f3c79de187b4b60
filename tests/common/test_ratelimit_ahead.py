"""Counting ahead in both dialects' views (common.ratelimit.RateLimitedViewMixin): a credential
seen before is counted while its record is read, under the buckets it had, and each request
still counts once, against the right organization."""

import pytest

from common import ratelimit
from tests.conftest import Api
from tests.expensicat_support import ExpensicatApi
from tests.factories import AdministrationFactory, MembershipFactory, TokenFactory

LIMITS = {"credential": "100/60", "organization": "50/60"}


@pytest.fixture(params=["redis", "memory"])
def cache_backend(request, settings):
    settings.RATE_LIMITS = {"moneybird": LIMITS, "expensicat": LIMITS}
    if request.param == "redis":
        request.getfixturevalue("on_redis")


@pytest.fixture
def steps(counting_steps):
    return counting_steps


def two_administrations(user) -> tuple:
    """Two administrations `user` owns."""
    both = (AdministrationFactory(), AdministrationFactory())
    for administration in both:
        MembershipFactory(administration=administration, email=user.email, role="owner")
    return both


def test_a_moneybird_token_is_counted_ahead_per_administration(cache_backend, owner, steps):
    first, second = two_administrations(owner)
    token = TokenFactory(user=owner, scopes=("time_entries",))
    here, there = Api(first, owner, token), Api(second, owner, token)
    remaining = [
        int(api.get("time_entries")["RateLimit-Remaining"])
        for api in (here, there, here, there, here)
    ]
    # The credential's bucket (100) counts all five; each administration's (50) its own, and
    # the tighter one is the one shown.
    assert remaining == [49, 49, 48, 48, 47]
    # Each administration's first request reads the credential first; later ones count ahead.
    assert steps == ["credential", "count"] * 2 + ["count", "credential"] * 3


def test_expensicat_counts_ahead_per_organization_header(cache_backend, owner, steps):
    first, second = two_administrations(owner)
    token = TokenFactory(user=owner, scopes=("entries:read",))
    here = ExpensicatApi(owner, token, organization=first)
    there = ExpensicatApi(owner, token, organization=second)
    remaining = [
        int(api.get("time-entries")["RateLimit-Remaining"]) for api in (here, there, here, there)
    ]
    assert remaining == [49, 49, 48, 48]
    assert steps == ["credential", "count"] * 2 + ["count", "credential"] * 2


def test_a_request_refused_before_it_is_counted_forgets_the_credential(
    cache_backend, administration, owner, steps
):
    api = Api(administration, owner, TokenFactory(user=owner, scopes=("time_entries",)))
    assert api.get("time_entries")["RateLimit-Remaining"] == "49"
    # 405 comes before the count: this one was counted ahead (once), and the credential is
    # forgotten, so the next one is counted after its credential is read.
    assert api.client.put(api.url("time_entries")).status_code == 405
    assert api.get("time_entries")["RateLimit-Remaining"] == "47"
    assert api.get("time_entries")["RateLimit-Remaining"] == "46"
    assert steps == [
        *("credential", "count"),
        *("count", "credential"),
        *("credential", "count"),
        *("count", "credential"),
    ]


def test_a_revoked_token_is_refused_and_not_counted_again(cache_backend, administration, owner):
    from administrations import services

    api = Api(administration, owner, TokenFactory(user=owner, scopes=("time_entries",)))
    other = Api(administration, owner, TokenFactory(user=owner, scopes=("time_entries",)))
    assert api.get("time_entries").status_code == 200
    services.token_revoke(token=api.token, actor=owner)
    assert [api.get("time_entries").status_code for _ in range(3)] == [401, 401, 401]
    # The organization's bucket: one request, one counted ahead before the revocation showed,
    # then this one.
    assert other.get("time_entries")["RateLimit-Remaining"] == "47"


def test_an_answer_is_read_once_however_often_it_is_asked(on_redis, settings):
    settings.RATE_LIMITS = {"moneybird": LIMITS, "expensicat": LIMITS}
    usage = ratelimit.begin(dialect="expensicat", credential="once", organization=None)
    assert usage().remaining == 99
    assert usage().remaining == 99  # the same answer, not a wait for another
    assert (
        ratelimit.enforce(dialect="expensicat", credential="once", organization=None).remaining
        == 98
    )
