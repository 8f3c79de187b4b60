"""Expensicat's list answered before DRF (timeentries.api.expensicat.hot_list, through
common.middleware.HotReadMiddleware): the requests it takes get the view's answer byte for byte,
headers included; every other request reaches the view untouched, and each request is counted
against the rate limit once."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.test import RequestFactory, override_settings

from administrations import services
from administrations.models import Membership
from common import ratelimit
from tests.expensicat_support import ExpensicatApi
from tests.factories import AdministrationFactory, TokenFactory, member
from tests.timeentries.moneybird_support import make_entry
from timeentries.api import expensicat as expensicat_api

START = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
# Vary per request, and are compared on their own: each request counts once, and the window's
# reset may have moved on by a second.
REMAINING, RESET = "RateLimit-Remaining", "RateLimit-Reset"


@pytest.fixture
def entries(administration, owner, freeze):
    freeze(START + timedelta(days=2))
    colleague = member(administration)
    for i in range(5):
        make_entry(administration, owner, START + timedelta(hours=i), minutes=30)
        make_entry(administration, colleague, START + timedelta(hours=i, minutes=40), minutes=10)
    make_entry(administration, owner, START + timedelta(days=1), ended_at=None)  # running
    return colleague


@pytest.fixture
def answered() -> Iterator[list]:
    """What hot_list answered, request by request (None: it handed the request to the view).
    Clients made inside the fixture's scope load the middleware with the spy."""
    results: list = []
    real = expensicat_api.hot_list

    def spy(request):
        result = real(request)
        results.append(result)
        return result

    with mock.patch.object(expensicat_api, "hot_list", spy):
        yield results


def bound_api(user, administration, scopes=("entries:read",), **headers) -> ExpensicatApi:
    """A client with a token bound to `administration` (the credential the hot list takes)."""
    api = ExpensicatApi(user, TokenFactory(user=user, scopes=scopes, administration=administration))
    api.client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.token.secret}", **headers)
    return api


def by_the_view(api: ExpensicatApi) -> ExpensicatApi:
    """The same credential and headers on a client whose server has no hot reads."""
    with override_settings(HOT_READS={}):
        plain = ExpensicatApi(api.user, api.token)
        plain.client._credentials = dict(api.client._credentials)
        plain.client.get("/api/v1/")  # loads the middleware while the setting holds
    return plain


def same_answer(hot, plain) -> None:
    assert hot.status_code == plain.status_code
    assert hot.content == plain.content
    expected = {name: value for name, value in plain.items() if name not in (REMAINING, RESET)}
    assert {
        name: value for name, value in hot.items() if name not in (REMAINING, RESET)
    } == expected
    assert (REMAINING in hot, RESET in hot) == (REMAINING in plain, RESET in plain)
    if REMAINING in plain:
        # The view's request came right after: one more request counted, not two.
        assert int(hot[REMAINING]) - int(plain[REMAINING]) == 1
        assert abs(int(hot[RESET]) - int(plain[RESET])) <= 1


@pytest.mark.parametrize("role", ["owner", "member"])
def test_a_plain_page_skips_the_view_and_answers_as_it_does(
    administration, owner, entries, answered, role
):
    user = owner if role == "owner" else entries
    api = bound_api(user, administration)
    plain = by_the_view(api)
    first = api.get("time-entries", {"limit": 3})
    requests = [
        ({"limit": 3}, {}),
        ({"limit": 3, "cursor": first.json()["meta"]["next_cursor"]}, {}),
        ({}, {}),
        ({}, {"HTTP_ACCEPT": "application/json"}),
    ]
    pages = []
    for params, headers in requests:
        view = expensicat_api.TimeEntryListView
        with mock.patch.object(view, "get", side_effect=AssertionError("the view answered")):
            hot = api.get("time-entries", params, **headers)
        assert hot.status_code == 200
        same_answer(hot, plain.get("time-entries", params, **headers))
        pages.append(hot)
    assert len(answered) == 5 and all(result is not None for result in answered)
    # A member sees only their own entries, an owner everyone's.
    seen = {item["user_id"] for item in pages[2].json()["data"]}
    assert seen == ({str(user.pk)} if role == "member" else {str(owner.pk), str(entries.pk)})


def test_the_last_page_has_no_next_cursor(administration, owner, entries, answered):
    api = bound_api(owner, administration)
    body = api.get("time-entries", {"limit": 100}).json()
    assert answered[-1] is not None
    assert body["meta"] == {"count": 11, "next_cursor": None}


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({"q": "x"}, {}),  # a filter
        ({"start_date": "2025-03-10"}, {}),
        ({"user_id": "me"}, {}),
        ({"limit": "0"}, {}),  # errors
        ({"limit": "abc"}, {}),
        ({"cursor": "not-a-cursor"}, {}),
        ({"limit": ["2", "3"]}, {}),  # twice
        ({"limit": "2\x00"}, {}),
        ({"other": "1"}, {}),
        ({"format": "json"}, {}),
        ({}, {"HTTP_ACCEPT": "text/html"}),
        ({}, {"HTTP_ACCEPT": "application/json; indent=4"}),
        ({}, {"HTTP_X_ORGANIZATION_ID": "1"}),
    ],
)
def test_any_other_request_is_the_views(administration, owner, entries, answered, params, headers):
    api = bound_api(owner, administration)
    plain = by_the_view(api)
    headers = {**headers}
    if headers.get("HTTP_X_ORGANIZATION_ID") == "1":
        headers["HTTP_X_ORGANIZATION_ID"] = str(administration.pk)
    response = api.get("time-entries", params, **headers)
    assert answered == [None]
    same_answer(response, plain.get("time-entries", params, **headers))


@pytest.mark.parametrize(
    "credential",
    ["none", "unknown", "malformed", "jwt-like", "unbound", "no scope", "not a member"],
)
def test_other_credentials_are_the_views(administration, owner, entries, answered, credential):
    api = bound_api(owner, administration)
    if credential == "unbound":
        api = ExpensicatApi(owner, TokenFactory(user=owner, scopes=("entries:read",)))
    elif credential == "no scope":
        api = bound_api(owner, administration, scopes=("invoices:read",))
    elif credential == "not a member":
        colleague = member(administration)
        api = bound_api(colleague, administration)
        services.member_remove(
            membership=Membership.objects.get(user=colleague, administration=administration),
            actor=owner,
        )
    else:
        header = {
            "none": None,
            "unknown": "Bearer " + "0" * 64,
            "malformed": "Bearer two words",
            "jwt-like": "Bearer a.b.c",
        }[credential]
        api.client.credentials(**({} if header is None else {"HTTP_AUTHORIZATION": header}))
    plain = by_the_view(api)
    response = api.get("time-entries")
    assert [result is None for result in answered] == [True]
    same_answer(response, plain.get("time-entries"))


def test_a_spent_limit_is_the_views_429_and_each_request_counts_once(
    administration, owner, entries, answered, settings
):
    limit = {"credential": "3/60", "organization": "100/60"}
    settings.RATE_LIMITS = {"moneybird": limit, "expensicat": limit}
    api = bound_api(owner, administration)
    with mock.patch.object(ratelimit, "begin", wraps=ratelimit.begin) as begin:
        statuses = [api.get("time-entries").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert begin.call_count == 4
    # The first three were the hot list's; the fourth it counted and handed to the view.
    assert [result is None for result in answered] == [False, False, False, True]
    refused = api.get("time-entries")
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert refused["RateLimit-Remaining"] == "0" and int(refused["Retry-After"]) >= 1


def test_another_organizations_token_reaches_nothing(administration, owner, entries, answered):
    elsewhere = AdministrationFactory()
    stranger = member(elsewhere, role="owner")
    make_entry(elsewhere, stranger, START, minutes=5)
    body = bound_api(stranger, elsewhere).get("time-entries").json()
    assert answered[-1] is not None
    assert [item["organization_id"] for item in body["data"]] == [str(elsewhere.pk)]


# --- counted ahead: Redis counts while the database reads the credential -----------------------


def seen_key(api: ExpensicatApi) -> tuple[str, str | None]:
    """The key its credential is remembered under once counted (without the organization
    header)."""
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {api.token.secret}")
    return ("expensicat", ratelimit.credential_key(request, ""))


def test_a_credential_seen_before_is_counted_ahead_and_once(
    administration, owner, entries, answered, on_redis, counting_steps
):
    api = bound_api(owner, administration)
    remaining = [int(api.get("time-entries")[REMAINING]) for _ in range(3)]
    # The first request's credential is read first; then the count goes out before it.
    assert counting_steps == [
        *("credential", "count"),
        *("count", "credential"),
        *("count", "credential"),
    ]
    assert remaining == [remaining[0], remaining[0] - 1, remaining[0] - 2]
    assert all(result is not None for result in answered)
    assert seen_key(api) in ratelimit._buckets_seen


def test_a_revoked_credential_gets_the_views_401_and_is_forgotten(
    administration, owner, entries, answered, on_redis, settings
):
    limit = {"credential": "100/60", "organization": "100/60"}
    settings.RATE_LIMITS = {"moneybird": limit, "expensicat": limit}
    api = bound_api(owner, administration)
    colleague = bound_api(owner, administration)
    assert int(api.get("time-entries")[REMAINING]) == 99
    services.token_revoke(token=api.token, actor=owner)
    key = seen_key(api)
    for _ in range(3):
        refused = api.get("time-entries")
        assert refused.status_code == 401
        assert key not in ratelimit._buckets_seen
    # Counted ahead once (before it was found revoked), never again; the counters' connection
    # is still in step with its answers.
    assert colleague.get("time-entries")[REMAINING] == "97"
    assert colleague.get("time-entries")[REMAINING] == "96"


def test_a_spent_limit_counted_ahead_is_the_views_429(
    administration, owner, entries, answered, on_redis, settings
):
    limit = {"credential": "2/60", "organization": "100/60"}
    settings.RATE_LIMITS = {"moneybird": limit, "expensicat": limit}
    api = bound_api(owner, administration)
    with mock.patch.object(ratelimit, "begin", wraps=ratelimit.begin) as begin:
        statuses = [api.get("time-entries").status_code for _ in range(4)]
        assert begin.call_count == 4
    assert statuses == [200, 200, 429, 429]
    assert api.get("time-entries").json()["error"]["code"] == "RATE_LIMITED"


def test_an_answer_left_unread_does_not_put_the_next_count_out_of_step(on_redis, settings):
    limit = {"credential": "10/60", "organization": "10/60"}
    settings.RATE_LIMITS = {"moneybird": limit, "expensicat": limit}
    first = ratelimit.begin(dialect="expensicat", credential="a", organization=None)
    del first  # its caller failed before taking the answer; Redis counted it all the same
    assert ratelimit.hit("b", ratelimit.Limit(10, 60)).remaining == 9
    assert ratelimit.enforce(dialect="expensicat", credential="a", organization=None).remaining == 8
