"""timeentries.reports.time_entry_report on hand-built entries: the shape, the buckets across
daylight saving, the amounts per currency and the empty groups."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.exceptions import BadRequest
from tests.factories import ContactFactory, ProjectFactory, TimeEntryFactory, member
from timeentries.reports import parse_group_by, parse_time_zone, time_entry_report
from timeentries.selectors import time_entries_of

AMS = ZoneInfo("Europe/Amsterdam")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


@pytest.fixture
def people(administration):
    return member(administration, name="Ann"), member(administration, name="", email="bob@x.nl")


def entry(administration, user, start, minutes=60, **kwargs):
    return TimeEntryFactory(
        administration=administration,
        user_id=user.pk,
        started_at=start,
        ended_at=start + timedelta(minutes=minutes),
        **kwargs,
    )


def report(administration, **kwargs):
    kwargs.setdefault("time_zone", AMS)
    return time_entry_report(time_entries_of(administration), **kwargs)


def totals(entries, seconds, billable, amounts=()):
    return {
        "entries": entries,
        "seconds": seconds,
        "billable_seconds": billable,
        "amounts": [{"currency": c, "amount": a} for c, a in amounts],
    }


def test_empty_report(administration):
    assert report(administration, group_by=("project",)) == {
        "totals": totals(0, 0, 0),
        "groups": [],
    }


def test_project_groups_amounts_per_currency_and_the_empty_group(administration, people):
    ann, bob = people
    eur = ProjectFactory(administration=administration, name="B", hourly_rate=Decimal("85.50"))
    usd = ProjectFactory(
        administration=administration, name="A", hourly_rate=Decimal("100"), currency="USD"
    )
    norate = ProjectFactory(administration=administration, name="C")
    entry(administration, ann, at(2024, 3, 4, 9), 90, project_id=eur.pk)
    entry(administration, bob, at(2024, 3, 4, 11), 60, project_id=eur.pk, billable=False)
    entry(administration, ann, at(2024, 3, 5, 9), 20, project_id=usd.pk)
    entry(administration, ann, at(2024, 3, 5, 10), 30, project_id=norate.pk)
    entry(administration, bob, at(2024, 3, 6, 10), 45)

    with CaptureQueriesContext(connection) as queries:
        result = report(administration, group_by=("project",))
    assert len(queries) == 1
    assert result["totals"] == totals(5, 245 * 60, 185 * 60, [("EUR", "128.25"), ("USD", "33.33")])
    groups = {g["key"]: g for g in result["groups"]}
    assert [g["key"] for g in result["groups"]] == [
        *sorted((str(eur.pk), str(usd.pk), str(norate.pk)), key=int),
        None,
    ]
    assert groups[str(eur.pk)] == {
        "key": str(eur.pk),
        "name": "B",
        **totals(2, 150 * 60, 90 * 60, [("EUR", "128.25")]),
    }
    assert groups[str(norate.pk)]["amounts"] == []
    assert groups[None] == {"key": None, "name": None, **totals(1, 45 * 60, 45 * 60)}

    by_user = report(administration, group_by=("user", "billable"))
    users = {g["key"]: g for g in by_user["groups"]}
    assert users[str(ann.pk)]["name"] == "Ann"
    assert users[str(bob.pk)]["name"] == "bob"
    assert users[str(ann.pk)]["amounts"] == [
        {"currency": "EUR", "amount": "128.25"},
        {"currency": "USD", "amount": "33.33"},
    ]
    assert [(g["key"], g["seconds"]) for g in users[str(bob.pk)]["groups"]] == [
        (False, 3600),
        (True, 45 * 60),
    ]


def test_buckets_follow_the_local_start_across_dst(administration, people):
    ann, _ = people
    # Sunday 31 March 2024 has 23 hours in Amsterdam; 27 October 2024 has 25.
    entry(administration, ann, at(2024, 3, 30, 23, 30), 120)  # Saturday night into Sunday
    entry(administration, ann, at(2024, 3, 31, 0, 30), 60)
    entry(administration, ann, at(2024, 3, 31, 23, 59), 2)
    entry(administration, ann, at(2024, 10, 27, 23, 0), 60)
    entry(administration, ann, at(2024, 12, 31, 23, 30), 60)

    days = report(administration, group_by=("day",))["groups"]
    assert [(g["key"], g["entries"]) for g in days] == [
        ("2024-03-30", 1),
        ("2024-03-31", 2),
        ("2024-10-27", 1),
        ("2024-12-31", 1),
    ]
    weeks = report(administration, group_by=("week",))["groups"]
    assert [(g["key"], g["entries"]) for g in weeks] == [
        ("2024-03-25", 3),
        ("2024-10-21", 1),
        ("2024-12-30", 1),
    ]
    sunday = report(administration, group_by=("week",), week_start="sunday")["groups"]
    assert [(g["key"], g["entries"]) for g in sunday] == [
        ("2024-03-24", 1),
        ("2024-03-31", 2),
        ("2024-10-27", 1),
        ("2024-12-29", 1),
    ]
    months = report(administration, group_by=("year", "month"))["groups"]
    assert [(g["key"], [m["key"] for m in g["groups"]]) for g in months] == [
        ("2024", ["2024-03", "2024-10", "2024-12"])
    ]
    # The same entries seen from New York: the last one is still in 2024, the Saturday night
    # one on the Saturday.
    ny = report(administration, group_by=("day",), time_zone=ZoneInfo("America/New_York"))
    assert [g["key"] for g in ny["groups"]] == [
        "2024-03-30",
        "2024-03-31",
        "2024-10-27",
        "2024-12-31",
    ]


def test_contact_names(administration, people):
    ann, _ = people
    acme = ContactFactory(administration=administration, company_name="Acme")
    person = ContactFactory(administration=administration, company_name="", firstname="Jo")
    entry(administration, ann, at(2024, 5, 1, 9), contact_id=acme.pk)
    entry(administration, ann, at(2024, 5, 1, 11), contact_id=person.pk)
    entry(administration, ann, at(2024, 5, 1, 13))
    groups = report(administration, group_by=("contact",))["groups"]
    assert [g["name"] for g in groups] == ["Acme", "Jo", None]


def test_parameters():
    assert parse_group_by("project, week") == ("project", "week")
    assert parse_group_by("customer", aliases={"customer": "contact"}) == ("contact",)
    for bad, word in (
        ("project,weekday", "weekday"),
        ("project,user,day", "At most 2"),
        ("day,day", "twice"),
    ):
        with pytest.raises(BadRequest, match=word):
            parse_group_by(bad)
    with pytest.raises(BadRequest, match="contact"):
        parse_group_by("contact", aliases={"customer": "contact"})
    assert parse_time_zone(None, default=AMS) is AMS
    assert parse_time_zone("Asia/Kolkata", default=AMS) == ZoneInfo("Asia/Kolkata")
    for bad in ("Mars/Base", "../etc/passwd", "", "Europe/"):
        if bad:
            with pytest.raises(BadRequest, match="time zone"):
                parse_time_zone(bad, default=AMS)
