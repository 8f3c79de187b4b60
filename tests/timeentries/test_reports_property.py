"""Property: whatever the entries (starts around daylight-saving changes and midnights in
several zones, pauses, with and without project, contact, rate), every report's totals are the
sums computed here, independently, over the entries the list endpoint answers, for every
grouping and zone."""

import os
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import permutations
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.expensicat_support import ec_api
from tests.factories import ContactFactory, ProjectFactory, TimeEntryFactory, member

GROUPINGS = ("project", "user", "contact", "billable", "day", "week", "month", "year")
PAIRS = list(permutations(GROUPINGS, 2))
ZONES = ("Europe/Amsterdam", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu")
# Instants near which the zones above change their clocks, and a new year's midnight.
PIVOTS = (
    datetime(2024, 3, 10, 7, tzinfo=UTC),  # New York springs forward
    datetime(2024, 3, 31, 1, tzinfo=UTC),  # Amsterdam springs forward
    datetime(2024, 4, 6, 15, tzinfo=UTC),  # Lord Howe falls back half an hour
    datetime(2024, 10, 27, 1, tzinfo=UTC),  # Amsterdam falls back
    datetime(2024, 11, 3, 6, tzinfo=UTC),  # New York falls back
    datetime(2024, 12, 31, 23, tzinfo=UTC),  # the year's end in Europe
)
PERIOD = "period:20240101..20251231"
RATES = {0: ("EUR", Decimal("85.50")), 1: ("USD", Decimal("120.00")), 2: None}

entries_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "pivot": st.sampled_from(PIVOTS),
            "offset": st.integers(-36 * 60, 36 * 60),  # minutes around the pivot
            "minutes": st.integers(1, 14 * 60),
            "pause": st.floats(0, 0.99),
            "user": st.integers(0, 1),
            "project": st.sampled_from([None, 0, 1, 2]),
            "contact": st.sampled_from([None, 0, 1]),
            "billable": st.booleans(),
        }
    ),
    max_size=10,
)


@pytest.fixture
def world(administration, owner):
    users = [owner, member(administration, name="", email="zoe@example.com")]
    contacts = [
        ContactFactory(administration=administration, company_name="Acme"),
        ContactFactory(administration=administration, company_name="", firstname="Jo"),
    ]
    projects = []
    for index, rate in RATES.items():
        extra = {} if rate is None else {"currency": rate[0], "hourly_rate": rate[1]}
        projects.append(ProjectFactory(administration=administration, name=f"P{index}", **extra))
    return users, contacts, projects


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def listed(api) -> list[dict]:
    """Every entry of the period as the list endpoint renders it, all pages."""
    entries, page = [], 1
    while True:
        response = api.get("time_entries", {"filter": PERIOD, "per_page": 100, "page": page})
        assert response.status_code == 200
        entries += response.json()
        if len(response.json()) < 100:
            return entries
        page += 1


def bucket(grouping: str, entry: dict, zone: ZoneInfo, week_start: str):
    """The typed key, the rendered key and the name of an entry's group."""
    if grouping in ("project", "user", "contact"):
        related = entry[grouping]
        if related is None:
            return (1, 0), None, None
        name = (
            related["name"] or "zoe"
            if grouping == "user"
            else related.get("name") or related.get("company_name") or related.get("firstname")
        )
        return (0, int(related["id"])), related["id"], name
    if grouping == "billable":
        return (0, entry["billable"]), entry["billable"], None
    day: date = _instant(entry["started_at"]).astimezone(zone).date()
    if grouping == "week":
        first = 0 if week_start == "monday" else 6  # weekday() of the week's first day
        day -= timedelta(days=(day.weekday() - first) % 7)
    if grouping == "month":
        return (0, (day.year, day.month)), f"{day.year:04d}-{day.month:02d}", None
    if grouping == "year":
        return (0, day.year), f"{day.year:04d}", None
    return (0, day), day.isoformat(), None


def expected(entries: list[dict], group_by, zone: ZoneInfo, week_start: str) -> dict:
    def totals(items: list[dict]) -> dict:
        money: dict[str, Decimal] = defaultdict(Decimal)
        seconds = billable = 0
        for entry in items:
            worked = (_instant(entry["ended_at"]) - _instant(entry["started_at"])).total_seconds()
            worked = int(worked) - entry["paused_duration"]
            seconds += worked
            if entry["billable"]:
                billable += worked
                project = entry["project"]
                rate = RATES[int(project["name"][1:])] if project else None
                if rate is not None:
                    money[rate[0]] += rate[1] * worked
        return {
            "entries": len(items),
            "seconds": seconds,
            "billable_seconds": billable,
            "amounts": [
                {
                    "currency": currency,
                    "amount": str(
                        (money[currency] / 3600).quantize(Decimal("0.01"), ROUND_HALF_UP)
                    ),
                }
                for currency in sorted(money)
            ],
        }

    def groups(items: list[dict], levels) -> list[dict]:
        buckets: dict = {}
        for entry in items:
            order, key, name = bucket(levels[0], entry, zone, week_start)
            buckets.setdefault(order, (key, name, []))[2].append(entry)
        result = []
        for order in sorted(buckets):
            key, name, members = buckets[order]
            group = {"key": key, "name": name, **totals(members)}
            if len(levels) > 1:
                group["groups"] = groups(members, levels[1:])
            result.append(group)
        return result

    return {"totals": totals(entries), "groups": groups(entries, group_by) if group_by else []}


def renamed(report: dict) -> dict:
    """A Moneybird report under Expensicat's names."""
    names = {"seconds": "duration", "billable_seconds": "billable_duration"}
    if isinstance(report, list):
        return [renamed(item) for item in report]
    if isinstance(report, dict):
        return {names.get(k, k): renamed(v) for k, v in report.items()}
    return report


@settings(
    max_examples=int(os.environ.get("REPORT_EXAMPLES", "15")),
    # The same examples on every run and in CI; nothing saved between runs.
    derandomize=True,
    database=None,
    deadline=None,
    # Shrinking re-runs the requests many times over; a failure prints its example anyway.
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    drawn=entries_strategy,
    zone=st.sampled_from(ZONES),
    week_start=st.sampled_from(("monday", "sunday")),
    pairs=st.lists(st.sampled_from(PAIRS), min_size=3, max_size=3, unique=True),
)
def test_every_report_sums_the_listed_entries(api, world, drawn, zone, week_start, pairs):
    users, contacts, projects = world
    ec = ec_api(api.user)
    cache.clear()  # the rate-limit counters: one test makes many requests
    with transaction.atomic():
        for item in drawn:
            start = item["pivot"] + timedelta(minutes=item["offset"])
            TimeEntryFactory(
                administration=api.administration,
                user_id=users[item["user"]].pk,
                started_at=start,
                ended_at=start + timedelta(minutes=item["minutes"]),
                paused_duration=int(item["minutes"] * item["pause"]) * 60,
                project_id=None if item["project"] is None else projects[item["project"]].pk,
                contact_id=None if item["contact"] is None else contacts[item["contact"]].pk,
                billable=item["billable"],
            )
        entries = listed(api)
        assert len(entries) == len(drawn)
        for group_by in [(), *((g,) for g in GROUPINGS), *pairs]:
            params = {"filter": PERIOD, "time_zone": zone, "week_start": week_start}
            if group_by:
                params["group_by"] = ",".join(group_by)
            response = api.get("time_entries/report", params)
            assert response.status_code == 200, response.content
            want = expected(entries, group_by, ZoneInfo(zone), week_start)
            assert response.json() == want, group_by
        # Expensicat's summary of the same entries: the same figures under its names.
        grouping = ",".join("customer" if g == "contact" else g for g in pairs[-1])
        params = {"group_by": grouping, "time_zone": zone, "week_start": week_start}
        response = ec.get("reports/summary", params)
        assert response.status_code == 200, response.content
        assert response.json() == {"data": renamed(want)}
        transaction.set_rollback(True)
