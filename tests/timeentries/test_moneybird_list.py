"""GET /api/v2/{administration_id}/time_entries: the filter string, the search query, paging
(Link and X-Total-Count) and the number of queries a page costs."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from administrations.models import Membership
from tests.conftest import Api
from tests.factories import ContactFactory, NoteFactory, ProjectFactory, TokenFactory, member
from tests.timeentries.moneybird_support import (
    AMS,
    assert_time_entry_shape,
    ids,
    local,
    local_today,
    make_entry,
    not_found,
)
from timeentries import services

# "Now" for the period tests: Monday 3 March 2025, 00:30 in Amsterdam, which is still Sunday
# 2 March in UTC. Every boundary below is a local midnight, so a filter that works in UTC (or
# resolves "today" in UTC) puts entries in the wrong period.
NOW = datetime(2025, 3, 3, 0, 30, tzinfo=AMS)


def at(year, month, day, hour, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=AMS)


# Entries by name, at local start times chosen on either side of the period boundaries.
CALENDAR = {
    "prev_quarter_first": at(2024, 10, 1, 0, 30),
    "prev_year_last": at(2024, 12, 31, 23, 30),
    "this_year_first": at(2025, 1, 1, 0, 30),
    "feb_first": at(2025, 2, 1, 0, 30),
    "prev_week_first": at(2025, 2, 24, 0, 30),  # Monday
    "prev_week_last": at(2025, 3, 2, 23, 30),  # Sunday, already in March
    "this_week_first": at(2025, 3, 3, 0, 10),  # Monday, 23:10 UTC on Sunday
    "this_week_last": at(2025, 3, 9, 23, 30),
    "next_week_first": at(2025, 3, 10, 0, 30),
    "next_week_last": at(2025, 3, 16, 23, 30),
    "this_month_last": at(2025, 3, 31, 23, 30),  # summer time: 21:30 UTC
    "next_month_first": at(2025, 4, 1, 0, 30),  # 22:30 UTC on 31 March
    "next_quarter_last": at(2025, 6, 30, 23, 30),
    "q3_first": at(2025, 7, 1, 0, 30),
    "this_year_last": at(2025, 12, 31, 23, 30),
    "next_year_first": at(2026, 1, 1, 0, 30),
    "next_year_last": at(2026, 12, 31, 23, 30),
    "after_next_year": at(2027, 1, 1, 0, 30),
}
THIS_MONTH = [
    "prev_week_last",
    "this_week_first",
    "this_week_last",
    "next_week_first",
    "next_week_last",
    "this_month_last",
]
THIS_QUARTER = ["this_year_first", "feb_first", "prev_week_first", *THIS_MONTH]
THIS_YEAR = [*THIS_QUARTER, "next_month_first", "next_quarter_last", "q3_first", "this_year_last"]

# Worked out by hand from a calendar for "today" = Monday 3 March 2025.
PERIODS = {
    "this_week": ["this_week_first", "this_week_last"],
    "prev_week": ["prev_week_first", "prev_week_last"],
    "next_week": ["next_week_first", "next_week_last"],
    "this_month": THIS_MONTH,
    "prev_month": ["feb_first", "prev_week_first"],
    "next_month": ["next_month_first"],
    "this_quarter": THIS_QUARTER,
    "prev_quarter": ["prev_quarter_first", "prev_year_last"],
    "next_quarter": ["next_month_first", "next_quarter_last"],
    "this_year": THIS_YEAR,
    "prev_year": ["prev_quarter_first", "prev_year_last"],
    "next_year": ["next_year_first", "next_year_last"],
    # Custom periods: whole months, and days, both ends inclusive.
    "202502..202503": ["feb_first", "prev_week_first", *THIS_MONTH],
    "202412..202412": ["prev_year_last"],
    "20250302..20250309": ["prev_week_last", "this_week_first", "this_week_last"],
    "20250401..20250401": ["next_month_first"],
    "20241001..20250101": ["prev_quarter_first", "prev_year_last", "this_year_first"],
}


@pytest.fixture
def calendar(freeze, administration, owner):
    freeze(NOW.astimezone(UTC))
    entries = {
        name: make_entry(administration, owner, start, minutes=20, description=name)
        for name, start in CALENDAR.items()
    }
    return {str(entry.pk): name for name, entry in entries.items()}


def names(response, calendar) -> set[str]:
    assert response.status_code == 200, response.content
    return {calendar[i] for i in ids(response)}


@pytest.mark.parametrize("period", list(PERIODS))
def test_period(api, calendar, period):
    response = api.get("time_entries", {"filter": f"period:{period}"})
    assert names(response, calendar) == set(PERIODS[period])
    assert response["X-Total-Count"] == str(len(PERIODS[period]))


def test_default_is_this_year_in_the_administrations_time_zone(api, calendar):
    response = api.get("time_entries")
    assert names(response, calendar) == set(THIS_YEAR)
    # Newest start first.
    starts = [item["started_at"] for item in response.json()]
    assert starts == sorted(starts, reverse=True)
    assert starts[0] == "2025-12-31T22:30:00.000Z"


def test_a_given_filter_replaces_the_default_period(api, calendar):
    response = api.get("time_entries", {"filter": "state:all", "per_page": 100})
    assert names(response, calendar) == set(CALENDAR)


def test_an_empty_filter_means_the_defaults(api, calendar):
    defaults = api.get("time_entries", {"per_page": 100})
    empty = api.get("time_entries", {"filter": " ", "per_page": 100})
    assert names(empty, calendar) == names(defaults, calendar) != set(CALENDAR)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-03-02", {"prev_week_last"}),
        ("20250302", {"prev_week_last"}),
        ("2025-03-03", {"this_week_first"}),
        ("2025-04-01", {"next_month_first"}),
        ("2025-03-04", set()),
    ],
)
def test_day(api, calendar, day, expected):
    assert names(api.get("time_entries", {"filter": f"day:{day}"}), calendar) == expected


def test_period_and_day_combine(api, calendar):
    response = api.get("time_entries", {"filter": "period:this_week,day:2025-03-09"})
    assert names(response, calendar) == {"this_week_last"}


# --- state, contact, project, user --------------------------------------------------------------


@pytest.fixture
def mixed(administration, owner, colleague):
    """Entries this year (today, in Amsterdam) with every combination the filters look at."""
    day = local_today()
    contact_a = ContactFactory(administration=administration, company_name="A")
    contact_b = ContactFactory(administration=administration, company_name="B")
    project = ProjectFactory(administration=administration, name="P")
    rows = {
        "a_billable": make_entry(administration, owner, local(day, 1), contact_id=contact_a.pk),
        "a_non_billable": make_entry(
            administration, owner, local(day, 2), contact_id=contact_a.pk, billable=False
        ),
        "b_project": make_entry(
            administration, colleague, local(day, 3), contact_id=contact_b.pk, project_id=project.pk
        ),
        "nil_contact": make_entry(administration, colleague, local(day, 4), billable=False),
        "running": make_entry(administration, owner, local(day, 5), ended_at=None),
        "last_year": make_entry(administration, owner, local(day.replace(year=day.year - 1), 6)),
    }
    return {
        "rows": rows,
        "names": {str(e.pk): name for name, e in rows.items()},
        "contact_a": contact_a,
        "contact_b": contact_b,
        "project": project,
    }


def listed(api, mixed, filter_string) -> set[str]:
    response = api.get("time_entries", {"filter": filter_string})
    assert response.status_code == 200, response.content
    return {mixed["names"][i] for i in ids(response)}


THIS_YEAR_FINISHED = {"a_billable", "a_non_billable", "b_project", "nil_contact"}


def test_default_leaves_out_running_timers_and_other_years(api, mixed):
    response = api.get("time_entries")
    assert {mixed["names"][i] for i in ids(response)} == THIS_YEAR_FINISHED


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("all", THIS_YEAR_FINISHED),
        ("open", {"a_billable", "b_project"}),
        ("non_billable", {"a_non_billable", "nil_contact"}),
        ("open|non_billable", THIS_YEAR_FINISHED),
        ("non_billable|open", THIS_YEAR_FINISHED),
    ],
)
def test_state(api, mixed, state, expected):
    assert listed(api, mixed, f"period:this_year,state:{state}") == expected


def test_state_alone_spans_every_year(api, mixed):
    assert listed(api, mixed, "state:open") == {"a_billable", "b_project", "last_year"}


def test_contact_id(api, mixed):
    contact = mixed["contact_a"].pk
    assert listed(api, mixed, f"contact_id:{contact}") == {"a_billable", "a_non_billable"}
    assert listed(api, mixed, f"contact_id:{contact},include_nil_contacts:false") == {
        "a_billable",
        "a_non_billable",
    }
    # The filter replaces the default period: last year's entry has no contact either.
    assert listed(api, mixed, f"contact_id:{contact},include_nil_contacts:true") == {
        "a_billable",
        "a_non_billable",
        "nil_contact",
        "last_year",
    }
    assert listed(api, mixed, f"period:this_year,contact_id:{contact},include_nil_contacts:1") == {
        "a_billable",
        "a_non_billable",
        "nil_contact",
    }
    assert listed(api, mixed, f"contact_id:{contact},state:non_billable") == {"a_non_billable"}


def test_contact_without_entries_is_an_empty_list(api, administration, mixed):
    lonely = ContactFactory(administration=administration)
    response = api.get("time_entries", {"filter": f"contact_id:{lonely.pk}"})
    assert response.status_code == 200
    assert response.json() == []
    assert response["X-Total-Count"] == "0"


def test_include_active_shows_running_timers(api, mixed):
    assert listed(api, mixed, "period:this_year,include_active:true") == {
        *THIS_YEAR_FINISHED,
        "running",
    }
    assert listed(api, mixed, "period:this_year,include_active:false") == THIS_YEAR_FINISHED
    response = api.get("time_entries", {"filter": "include_active:true"})
    running = next(e for e in response.json() if e["id"] == str(mixed["rows"]["running"].pk))
    assert_time_entry_shape(running)
    assert running["ended_at"] is None


def test_project_id(api, mixed):
    assert listed(api, mixed, f"project_id:{mixed['project'].pk}") == {"b_project"}


def test_user_id(api, mixed, owner, colleague):
    assert listed(api, mixed, f"period:this_year,user_id:{owner.pk}") == {
        "a_billable",
        "a_non_billable",
    }
    assert listed(api, mixed, f"user_id:{colleague.pk},state:non_billable") == {"nil_contact"}


def test_member_without_entries_is_an_empty_list(api, administration, mixed):
    idle = member(administration)
    response = api.get("time_entries", {"filter": f"user_id:{idle.pk}"})
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("key", ["contact_id", "project_id", "user_id"])
@pytest.mark.parametrize("value", ["123", "9223372036854775807", "9999999999999999999"])
def test_unknown_reference_is_404(api, mixed, key, value):
    response = api.get("time_entries", {"filter": f"{key}:{value}"})
    assert response.status_code == 404
    assert response.json() == not_found(key)


@pytest.mark.parametrize("key", ["contact_id", "project_id", "user_id"])
def test_another_administrations_reference_is_404(api, mixed, foreign, key):
    value = {"contact_id": foreign.contact, "project_id": foreign.project, "user_id": foreign.owner}
    response = api.get("time_entries", {"filter": f"{key}:{value[key].pk}"})
    assert response.status_code == 404
    assert response.json() == not_found(key)


def test_query_searches_the_description(api, administration, owner):
    day = local_today()
    match = make_entry(administration, owner, local(day, 1), description="Custom description")
    make_entry(administration, owner, local(day, 2), description="Designing the website")
    running = make_entry(
        administration, owner, local(day, 3), ended_at=None, description="Custom timer"
    )
    assert ids(api.get("time_entries", {"query": "Custom"})) == [str(match.pk)]
    assert ids(api.get("time_entries", {"query": "Custom", "filter": "include_active:true"})) == [
        str(running.pk),
        str(match.pk),
    ]
    nothing = api.get("time_entries", {"query": "Nothing like it"})
    assert (nothing.status_code, nothing.json(), nothing["X-Total-Count"]) == (200, [], "0")


# --- malformed filters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter_string", "names_term"),
    [
        ("period", "period"),
        ("period:", "period:"),
        ("period:2021", "2021"),
        ("period:last_decade", "last_decade"),
        ("period:202113..202201", "202113..202201"),
        ("period:202103..202101", "202103..202101"),
        ("period:20210230..20210301", "20210230..20210301"),
        ("state:bogus", "bogus"),
        ("state:open|bogus", "bogus"),
        ("state:open|", "state:open|"),
        ("bogus:1", "bogus"),
        ("contact_id:abc", "abc"),
        ("project_id:-1", "-1"),
        ("user_id:1.5", "1.5"),
        ("contact_id:99999999999999999999", "99999999999999999999"),
        ("day:2021-02-30", "2021-02-30"),
        ("day:yesterday", "yesterday"),
        ("day:9999-12-31", "9999-12-31"),
        ("period:99991230..99991231", "99991230..99991231"),
        ("include_nil_contacts:maybe", "maybe"),
        ("include_active:perhaps", "perhaps"),
        ("period:this_year,period:this_month", "period"),
        ("state:all,,period:this_year", "''"),
        ("Period:this_year", "Period:this_year"),
    ],
)
def test_malformed_filter_is_400_naming_the_term(api, mixed, filter_string, names_term):
    response = api.get("time_entries", {"filter": filter_string})
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "symbolic"}
    assert body["symbolic"] == {"filter": "invalid"}
    assert names_term in body["error"]


def test_filter_errors_come_before_paging_over_nothing(api, mixed):
    response = api.get("time_entries", {"filter": "state:bogus", "page": 5})
    assert response.status_code == 400


# --- paging ---------------------------------------------------------------------------------------


LINK_RE = re.compile(r'<([^>]+)>; rel="(next|prev)"')


def links(response) -> dict[str, dict]:
    """{"next": {"url": ..., "query": {...}}, ...} from the Link header."""
    result = {}
    for url, rel in LINK_RE.findall(response.get("Link", "")):
        parts = urlsplit(url)
        result[rel] = {
            "base": f"{parts.scheme}://{parts.netloc}{parts.path}",
            "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
        }
    return result


@pytest.fixture
def five(administration, owner):
    day = local_today()
    entries = [
        make_entry(administration, owner, local(day, hour), description=f"Custom {hour}")
        for hour in range(1, 6)
    ]
    make_entry(administration, owner, local(day, 7), description="Other", billable=False)
    return [str(e.pk) for e in reversed(entries)]  # newest first


def test_pages_with_link_header_keeping_filter_and_query(api, administration, five):
    params = {"filter": "state:open", "query": "Custom", "per_page": 2}
    base = f"http://testserver/api/v2/{administration.pk}/time_entries.json"
    pages = [api.get("time_entries.json", {**params, "page": n}) for n in (1, 2, 3)]

    assert [ids(p) for p in pages] == [five[0:2], five[2:4], five[4:5]]
    assert {p["X-Total-Count"] for p in pages} == {"5"}
    query = {"filter": "state:open", "query": "Custom", "per_page": "2"}
    assert links(pages[0]) == {"next": {"base": base, "query": {**query, "page": "2"}}}
    assert links(pages[1]) == {
        "next": {"base": base, "query": {**query, "page": "3"}},
        "prev": {"base": base, "query": {**query, "page": "1"}},
    }
    assert links(pages[2]) == {"prev": {"base": base, "query": {**query, "page": "2"}}}


def test_total_is_counted_only_up_to_the_cap_or_this_page(api, five, monkeypatch):
    monkeypatch.setattr("common.pagination.TOTAL_COUNT_CAP", 3)
    params = {"filter": "state:open", "query": "Custom", "per_page": 2}
    first = api.get("time_entries", {**params, "page": 1})
    # Four rows counted (the cap and one), so at least four, and a next page.
    assert not first.has_header("X-Total-Count")
    assert first["X-Total-Count-At-Least"] == "4"
    assert set(links(first)) == {"next"}
    # The last page counts past itself (up to 7 rows) and so finds all 5.
    last = api.get("time_entries", {**params, "page": 3})
    assert last["X-Total-Count"] == "5" and not last.has_header("X-Total-Count-At-Least")
    assert set(links(last)) == {"prev"} and ids(last) == five[4:5]


def test_link_urls_fetch_the_next_page(api, five):
    first = api.get("time_entries", {"per_page": 3, "query": "Custom"})
    next_url = LINK_RE.search(first["Link"])[1]
    assert next_url.startswith("http://testserver/api/v2/")
    second = api.client.get(next_url)
    assert second.status_code == 200
    assert ids(second) == five[3:]
    assert "next" not in links(second)


def test_default_page_size_is_50_and_one_page_has_no_link(api, five):
    response = api.get("time_entries")
    assert len(response.json()) == 6
    assert response["X-Total-Count"] == "6"
    assert not response.has_header("Link")


def test_page_beyond_the_end_is_empty(api, administration, five):
    response = api.get("time_entries", {"page": 9, "per_page": 2, "filter": "state:open"})
    assert response.status_code == 200
    assert response.json() == []
    assert response["X-Total-Count"] == "5"
    assert links(response) == {
        "prev": {
            "base": f"http://testserver/api/v2/{administration.pk}/time_entries",
            "query": {"filter": "state:open", "page": "3", "per_page": "2"},
        }
    }


def test_empty_list(api):
    response = api.get("time_entries")
    assert (response.status_code, response.json(), response["X-Total-Count"]) == (200, [], "0")
    assert not response.has_header("Link")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"page": "99999999999999999999"}, "page"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "abc"}, "per_page"),
        ({"per_page": "-5"}, "per_page"),
    ],
)
def test_bad_paging_is_400(api, five, params, field):
    response = api.get("time_entries", params)
    assert response.status_code == 400
    assert response.json() == {
        "error": f"{field} does not have a valid value",
        "symbolic": {field: "invalid"},
    }


@pytest.mark.parametrize("per_page", ["101", "1000", "99999999999999999999"])
def test_per_page_over_100_is_400_max(api, per_page):
    response = api.get("time_entries", {"per_page": per_page})
    assert response.status_code == 400
    assert response.json() == {
        "error": "per_page does not have a valid value",
        "symbolic": {"per_page": "max"},
    }


def test_per_page_100_is_allowed(api, five):
    response = api.get("time_entries", {"per_page": "100"})
    assert response.status_code == 200
    assert len(response.json()) == 6


# --- query count ----------------------------------------------------------------------------------


@pytest.fixture
def hundred(administration, owner, colleague):
    """100 finished entries this year, each with a contact, a project, a note and four events."""
    day = local_today()
    contacts = [ContactFactory(administration=administration) for _ in range(3)]
    projects = [ProjectFactory(administration=administration) for _ in range(3)]
    for n in range(100):
        user = owner if n % 2 else colleague
        entry = make_entry(
            administration,
            user,
            local(day, 0) + timedelta(minutes=2 * n),
            minutes=1,
            contact_id=contacts[n % 3].pk,
            project_id=projects[n % 3].pk,
        )
        services.time_entry_update(
            entry=entry, actor=owner, changes={"description": f"Renamed {n}"}
        )
        services.time_entry_update(entry=entry, actor=owner, changes={"billable": n % 3 == 0})
        NoteFactory(entity=entry, actor=owner)


def test_list_query_count_does_not_grow_with_the_page(api, hundred, django_assert_max_num_queries):
    counts = {}
    for per_page in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            response = api.get("time_entries", {"per_page": per_page})
        assert response.status_code == 200
        assert len(response.json()) == per_page
        counts[per_page] = len(queries)
    assert counts[10] == counts[100]
    with django_assert_max_num_queries(4):
        response = api.get("time_entries", {"per_page": 100, "filter": "state:all"})
    body = response.json()
    for item in body:
        assert_time_entry_shape(item)
        assert item["contact"] is not None and item["project"] is not None
        assert [e["action"] for e in item["events"]] == [
            "time_entry_created",
            "time_entry_updated",
            *(["time_entry_updated"] if item["billable"] is False else []),
            "note_created",
        ]
        assert len(item["notes"]) == 1


def bound_api(administration, user) -> Api:
    token = TokenFactory(user=user, scopes=("time_entries",), administration=administration)
    return Api(administration, user, token)


def test_a_token_bound_to_the_administration_brings_it_along(administration, owner, hundred):
    # The token, its user, its administration and the membership check are one statement; then
    # the count and the page.
    api = bound_api(administration, owner)
    with CaptureQueriesContext(connection) as queries:
        response = api.get("time_entries", {"per_page": 100, "filter": "state:all"})
    assert response.status_code == 200 and len(response.json()) == 100
    assert len(queries) == 3


def test_a_bound_token_of_someone_no_longer_a_member_finds_nothing(make_api, administration, owner):
    colleague = member(administration)
    api = bound_api(administration, colleague)
    assert api.get("time_entries").status_code == 200
    Membership.objects.filter(administration=administration, user=colleague).delete()
    response = api.get("time_entries")
    assert response.status_code == 404
    assert response.json()["error"] == "record not found"


def test_this_year_starts_at_local_midnight_on_new_years_day(api, freeze, administration, owner):
    # 00:30 on 1 January 2026 in Amsterdam is still 2025 in UTC.
    freeze(datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    old = make_entry(administration, owner, at(2025, 12, 31, 23, 50), minutes=5)
    new = make_entry(administration, owner, at(2026, 1, 1, 0, 10), minutes=5)
    assert ids(api.get("time_entries")) == [str(new.pk)]
    assert ids(api.get("time_entries", {"filter": "period:prev_year"})) == [str(old.pk)]
    assert ids(api.get("time_entries", {"filter": "period:this_week"})) == [
        str(new.pk),
        str(old.pk),
    ]


@pytest.mark.parametrize("param", ["query", "filter", "per_page"])
def test_a_null_character_in_a_parameter_is_a_400(api, param):
    # PostgreSQL cannot hold a NUL in a string: caught before any query.
    response = api.get("time_entries", {param: "design\x00"})
    assert response.status_code == 400
    assert response.json() == {
        "error": f"{param} contains a null character",
        "symbolic": {param: "invalid"},
    }
