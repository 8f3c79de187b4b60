"""Moneybird's get by id answered before DRF (timeentries.api.moneybird.hot_get, through
common.middleware.HotReadMiddleware): the requests it takes get the view's answer byte for byte,
headers included; every other request reaches the view untouched, and each request is counted
against the rate limit once."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.test import override_settings

from administrations import services
from common import ratelimit
from tests.conftest import Api
from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    NoteFactory,
    ProjectFactory,
    SalesInvoiceFactory,
    TokenFactory,
    member,
)
from tests.timeentries.moneybird_support import make_entry
from timeentries.api import moneybird as moneybird_api

START = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
REMAINING, RESET = "RateLimit-Remaining", "RateLimit-Reset"


@pytest.fixture
def entry(administration, owner, freeze):
    freeze(START + timedelta(days=2))
    contact = ContactFactory(administration=administration)
    project = ProjectFactory(administration=administration, contact_id=contact.pk)
    invoice = SalesInvoiceFactory(administration=administration, contact_id=contact.pk)
    made = make_entry(
        administration,
        owner,
        START,
        contact_id=contact.pk,
        project_id=project.pk,
        sales_invoice_id=invoice.pk,
    )
    NoteFactory(entity=made, actor=owner)
    return made


@pytest.fixture
def answered() -> Iterator[list]:
    """What hot_get answered, request by request (None: it handed the request to the view)."""
    results: list = []
    real = moneybird_api.hot_get

    def spy(request, **kwargs):
        result = real(request, **kwargs)
        results.append(result)
        return result

    with mock.patch.object(moneybird_api, "hot_get", spy):
        yield results


def bound_api(user, administration, scopes=("time_entries", "sales_invoices")) -> Api:
    return Api(
        administration, user, TokenFactory(user=user, scopes=scopes, administration=administration)
    )


def by_the_view(api: Api) -> Api:
    """The same credential on a client whose server has no hot reads."""
    with override_settings(HOT_READS={}):
        plain = Api(api.administration, api.user, api.token)
        plain.client.get("/api/v2/administrations")  # loads the middleware meanwhile
    return plain


def same_answer(hot, plain) -> None:
    assert hot.status_code == plain.status_code
    assert hot.content == plain.content
    varying = (REMAINING, RESET)
    expected = {name: value for name, value in plain.items() if name not in varying}
    assert {name: value for name, value in hot.items() if name not in varying} == expected
    assert (REMAINING in hot) == (REMAINING in plain)
    if REMAINING in plain:
        # The view's request came right after: one more request counted, not two.
        assert int(hot[REMAINING]) - int(plain[REMAINING]) == 1
        assert abs(int(hot[RESET]) - int(plain[RESET])) <= 1


@pytest.mark.parametrize(
    "scopes", [("time_entries", "sales_invoices"), ("time_entries",)], ids=["invoices", "plain"]
)
@pytest.mark.parametrize("suffix", ["", ".json"])
@pytest.mark.parametrize("role", ["owner", "member"])
def test_a_plain_get_skips_the_view_and_answers_as_it_does(
    administration, owner, entry, answered, scopes, suffix, role
):
    user = owner if role == "owner" else member(administration)
    api = bound_api(user, administration, scopes)
    plain = by_the_view(api)
    path = f"time_entries/{entry.pk}{suffix}"
    view = moneybird_api.TimeEntryDetailView
    with mock.patch.object(view, "get", side_effect=AssertionError("the view answered")):
        hot = api.get(path)
    assert hot.status_code == 200 and answered[-1] is not None
    same_answer(hot, plain.get(path))
    assert ("sales_invoice" in hot.json()) == ("sales_invoices" in scopes)
    assert hot["ETag"]


def test_any_other_request_is_the_views(administration, owner, entry, answered):
    api = bound_api(owner, administration)
    plain = by_the_view(api)
    tag = api.get(f"time_entries/{entry.pk}")["ETag"]
    elsewhere = AdministrationFactory()
    foreign = make_entry(elsewhere, member(elsewhere), START, minutes=5)
    requests = [
        (f"time_entries/{entry.pk}", {"HTTP_IF_NONE_MATCH": tag}),  # 304
        (f"time_entries/{entry.pk}?format=json", {}),
        (f"time_entries/{entry.pk}?x=1", {}),
        (f"time_entries/{entry.pk}", {"HTTP_ACCEPT": "text/html"}),
        ("time_entries/1", {}),  # unknown: counted by the hot read, answered by the view
        ("time_entries/9223372036854775808", {}),  # past a bigint
        (f"time_entries/{'9' * 30}", {}),  # past the route's 19 digits
        (f"time_entries/{foreign.pk}", {}),  # another administration's
    ]
    answered.clear()
    for path, headers in requests:
        hot = api.get(path, **headers)
        same_answer(hot, plain.get(path, **headers))
    # The plain client's requests went to the view without a hot read.
    assert answered == [None] * len(requests)


@pytest.mark.parametrize("credential", ["unbound", "no scope", "other administration"])
def test_other_credentials_are_the_views(administration, owner, entry, answered, credential):
    if credential == "unbound":
        api = Api(administration, owner, TokenFactory(user=owner, scopes=("time_entries",)))
    elif credential == "no scope":
        api = bound_api(owner, administration, scopes=("settings",))
    else:
        other = AdministrationFactory()
        services.member_add(administration=other, actor=None, email=owner.email, role="owner")
        api = Api(
            administration,
            owner,
            TokenFactory(user=owner, scopes=("time_entries",), administration=other),
        )
    plain = by_the_view(api)
    # Twice: the second time the credential is known, and counted ahead before it is read;
    # the view takes that count (or drops it, refusing the request first), never counts again.
    remaining = []
    for _ in range(2):
        hot = api.get(f"time_entries/{entry.pk}")
        reference = plain.get(f"time_entries/{entry.pk}")
        same_answer(hot, reference)
        remaining += [int(response.get(REMAINING, 0)) for response in (hot, reference)]
    assert answered == [None, None]
    if credential == "unbound":  # counted (a 200), the others refused before their count
        assert remaining == list(range(remaining[0], remaining[0] - 4, -1))


def test_a_spent_limit_is_the_views_429_and_each_request_counts_once(
    administration, owner, entry, answered, settings
):
    limit = {"credential": "3/60", "organization": "100/60"}
    settings.RATE_LIMITS = {"moneybird": limit, "expensicat": limit}
    api = bound_api(owner, administration)
    with mock.patch.object(ratelimit, "begin", wraps=ratelimit.begin) as begin:
        statuses = [api.get(f"time_entries/{entry.pk}").status_code for _ in range(4)]
        assert begin.call_count == 4
    assert statuses == [200, 200, 200, 429]
    assert [result is None for result in answered] == [False, False, False, True]
    refused = api.get(f"time_entries/{entry.pk}")
    assert refused.json() == {"error": "Retry later", "symbolic": {"rate_limit": "exceeded"}}
