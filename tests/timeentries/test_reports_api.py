"""The reports over HTTP: Moneybird's GET time_entries/report (JSON and CSV) and Expensicat's
GET /v1/reports/summary: their shapes, the list's filters and role rules, errors in each
dialect's shape, tenant isolation and one statement per report."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.expensicat_support import assert_error, ec_api
from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    ProjectFactory,
    TimeEntryFactory,
    member,
)
from tests.timeentries.moneybird_support import local_today

AMS = ZoneInfo("Europe/Amsterdam")


def entry(administration, user, start, minutes=60, **kwargs):
    return TimeEntryFactory(
        administration=administration,
        user_id=user.pk,
        started_at=start,
        ended_at=start + timedelta(minutes=minutes),
        **kwargs,
    )


@pytest.fixture
def this_year():
    return local_today().year


@pytest.fixture
def book(administration, owner, this_year):
    """Two people, a customer, a EUR project with a rate and entries this year."""
    colleague = member(administration, name="Edwin Vlieg")
    acme = ContactFactory(administration=administration, company_name="Acme")
    site = ProjectFactory(
        administration=administration,
        name="Website",
        contact_id=acme.pk,
        hourly_rate=Decimal("90"),
    )
    year = this_year
    entries = [
        entry(
            administration,
            owner,
            datetime(year, 1, 5, 9, tzinfo=AMS),
            90,
            project_id=site.pk,
            contact_id=acme.pk,
            description="Design",
        ),
        entry(
            administration,
            colleague,
            datetime(year, 1, 5, 13, tzinfo=AMS),
            30,
            project_id=site.pk,
            billable=False,
            description="Meeting",
        ),
        entry(administration, colleague, datetime(year, 1, 6, 23, 30, tzinfo=AMS), 60),
    ]
    return {"colleague": colleague, "acme": acme, "site": site, "entries": entries}


def test_moneybird_report_by_project_and_user(api, owner, book):
    site, colleague = book["site"], book["colleague"]
    with CaptureQueriesContext(connection) as queries:
        response = api.get("time_entries/report", {"group_by": "project,user"})
    assert response.status_code == 200, response.content
    reads = [q["sql"] for q in queries if "timeentries_timeentry" in q["sql"]]
    assert len(reads) == 1 and "GROUP BY" in reads[0]
    people = sorted([(owner.pk, "Moneybird"), (colleague.pk, "Edwin Vlieg")])

    def totals(entries, seconds, billable, amounts=()):
        return {
            "entries": entries,
            "seconds": seconds,
            "billable_seconds": billable,
            "amounts": [{"currency": "EUR", "amount": a} for a in amounts],
        }

    by_person = {
        owner.pk: totals(1, 5400, 5400, ["135.00"]),
        colleague.pk: totals(1, 1800, 0),
    }
    assert response.json() == {
        "totals": totals(3, 10800, 9000, ["135.00"]),
        "groups": [
            {
                "key": str(site.pk),
                "name": "Website",
                **totals(2, 7200, 5400, ["135.00"]),
                "groups": [{"key": str(pk), "name": name, **by_person[pk]} for pk, name in people],
            },
            {
                "key": None,
                "name": None,
                **totals(1, 3600, 3600),
                "groups": [
                    {"key": str(colleague.pk), "name": "Edwin Vlieg", **totals(1, 3600, 3600)}
                ],
            },
        ],
    }


def test_moneybird_report_takes_the_list_filter_and_query(api, owner, book, this_year):
    site = book["site"]
    both = api.get(
        "time_entries/report.json",
        {"filter": f"project_id:{site.pk},state:non_billable", "group_by": "day"},
    )
    assert both.status_code == 200
    assert both.json()["groups"] == [
        {
            "key": f"{this_year}-01-05",
            "name": None,
            "entries": 1,
            "seconds": 1800,
            "billable_seconds": 0,
            "amounts": [],
        }
    ]
    found = api.get("time_entries/report", {"query": "desig", "group_by": "contact"}).json()
    assert [(g["key"], g["name"], g["entries"]) for g in found["groups"]] == [
        (str(book["acme"].pk), "Acme", 1)
    ]
    # Running timers are left out unless include_active, as in the list.
    TimeEntryFactory(
        administration=api.administration,
        user_id=owner.pk,
        started_at=datetime(this_year, 1, 7, 9, tzinfo=AMS),
        ended_at=None,
    )
    assert api.get("time_entries/report").json()["totals"]["entries"] == 3
    active = api.get("time_entries/report", {"filter": "period:this_year,include_active:true"})
    assert active.json()["totals"]["entries"] == 4
    # A period of the list's grammar, in the report's zone.
    empty = api.get("time_entries/report", {"filter": f"period:{this_year}02..{this_year}02"})
    assert empty.json()["totals"]["entries"] == 0


def test_moneybird_report_in_another_time_zone(api, book, this_year):
    # 23:30 in Amsterdam on the 6th is still the 6th in New York, and 06:30 on the 7th in Tokyo.
    days = {}
    for zone in ("America/New_York", "Asia/Tokyo"):
        body = api.get("time_entries/report", {"group_by": "day", "time_zone": zone}).json()
        days[zone] = [g["key"] for g in body["groups"]]
    assert days["America/New_York"] == [f"{this_year}-01-05", f"{this_year}-01-06"]
    assert days["Asia/Tokyo"] == [f"{this_year}-01-05", f"{this_year}-01-07"]
    weeks = api.get("time_entries/report", {"group_by": "week", "week_start": "sunday"}).json()
    first = datetime(this_year, 1, 5).date()
    sunday = first - timedelta(days=(first.weekday() + 1) % 7)
    assert weeks["groups"][0]["key"] == sunday.isoformat()


@pytest.mark.parametrize(("suffix", "headers"), [(".csv", {}), ("", {"HTTP_ACCEPT": "text/csv"})])
def test_moneybird_report_as_csv(api, owner, book, this_year, suffix, headers):
    response = api.get(f"time_entries/report{suffix}", {"group_by": "user,billable"}, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    colleague = book["colleague"]
    rows = [
        (owner.pk, "Moneybird", "true", "1", "1.50", "1.50", "135.00"),
        (colleague.pk, "Edwin Vlieg", "false", "1", "0.50", "0.00", ""),
        (colleague.pk, "Edwin Vlieg", "true", "1", "1.00", "1.00", ""),
    ]
    rows.sort(key=lambda row: (row[0], row[2]))
    lines = ["user,user_name,billable,entries,hours,billable_hours,amount_EUR"]
    lines += [",".join(map(str, row)) for row in rows]
    assert response.content.decode() == "\r\n".join(lines) + "\r\n"


def test_moneybird_report_csv_without_grouping_is_the_totals(api, book):
    response = api.get("time_entries/report.csv")
    assert response.content.decode().splitlines() == [
        "entries,hours,billable_hours,amount_EUR",
        "3,3.00,2.50,135.00",
    ]


@pytest.mark.parametrize(
    ("params", "field", "word"),
    [
        ({"group_by": "project,colour"}, "group_by", "colour"),
        ({"group_by": "project,user,day"}, "group_by", "At most 2"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone", "Europe/Atlantis"),
        ({"week_start": "friday"}, "week_start", "friday"),
        ({"filter": "period:someday"}, "filter", "someday"),
    ],
)
@pytest.mark.parametrize("suffix", ["", ".csv"])
def test_moneybird_report_errors_are_400_naming_the_parameter(api, params, field, word, suffix):
    response = api.get(f"time_entries/report{suffix}", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["symbolic"] == {field: "invalid"}
    assert word in body["error"]


def test_moneybird_report_is_tenant_scoped(api, book, make_api):
    other = AdministrationFactory(name="Other")
    stranger = member(other, role="owner")
    theirs = ProjectFactory(administration=other)
    entry(other, stranger, datetime(local_today().year, 1, 5, 9, tzinfo=AMS), project_id=theirs.pk)
    # Another administration's URL with our token: 404, as for any of its routes.
    response = api.client.get(f"/api/v2/{other.pk}/time_entries/report")
    assert response.status_code == 404
    assert response.json()["symbolic"] == {"administration_id": "not_found"}
    # Their project named in our filter: not found, as the list answers.
    response = api.get("time_entries/report", {"filter": f"project_id:{theirs.pk}"})
    assert response.status_code == 404
    assert response.json()["symbolic"] == {"project_id": "not_found"}
    # Their entries are in their report only.
    assert make_api(other, stranger).get("time_entries/report").json()["totals"]["entries"] == 1
    assert api.get("time_entries/report").json()["totals"]["entries"] == 3


def test_moneybird_report_needs_the_time_entries_scope(administration, owner, make_api):
    response = make_api(administration, owner, scopes=("settings",)).get("time_entries/report")
    assert response.status_code == 401


# --- Expensicat ----------------------------------------------------------------------------------


def test_expensicat_summary_shape_and_names(administration, owner, book, this_year):
    ec = ec_api(owner)
    response = ec.get(
        "reports/summary",
        {
            "group_by": "customer",
            "start_date": f"{this_year}-01-01",
            "end_date": f"{this_year}-12-31",
        },
    )
    assert response.status_code == 200, response.content
    acme = book["acme"]
    assert response.json() == {
        "data": {
            "totals": {
                "entries": 3,
                "duration": 10800,
                "billable_duration": 9000,
                "amounts": [{"currency": "EUR", "amount": "135.00"}],
            },
            "groups": [
                {
                    "key": str(acme.pk),
                    "name": "Acme",
                    "entries": 1,
                    "duration": 5400,
                    "billable_duration": 5400,
                    "amounts": [{"currency": "EUR", "amount": "135.00"}],
                },
                {
                    "key": None,
                    "name": None,
                    "entries": 2,
                    "duration": 5400,
                    "billable_duration": 3600,
                    "amounts": [],
                },
            ],
        }
    }
    nested = ec.get("reports/summary", {"group_by": "month,project", "q": "meeting"}).json()
    month = nested["data"]["groups"][0]
    assert month["key"] == f"{this_year}-01"
    assert [(g["key"], g["duration"]) for g in month["groups"]] == [(str(book["site"].pk), 1800)]


def test_expensicat_members_see_their_own_hours(administration, owner, book):
    colleague = book["colleague"]
    mine = ec_api(colleague).get("reports/summary", {"group_by": "user"}).json()["data"]
    assert [(g["key"], g["entries"]) for g in mine["groups"]] == [(str(colleague.pk), 2)]
    forbidden = ec_api(colleague).get("reports/summary", {"user_id": str(owner.pk)})
    assert_error(forbidden, 403, "FORBIDDEN")
    everyone = ec_api(owner).get("reports/summary", {"group_by": "user"}).json()["data"]
    assert len(everyone["groups"]) == 2
    theirs = ec_api(owner).get("reports/summary", {"user_id": str(colleague.pk)}).json()
    assert theirs["data"]["totals"]["entries"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "contact"}, "group_by"),  # Expensicat's name is customer
        ({"group_by": "day,week,month"}, "group_by"),
        ({"time_zone": "Not/AZone"}, "time_zone"),
        ({"start_date": "yesterday"}, "start_date"),
    ],
)
def test_expensicat_summary_errors(owner, book, params, field):
    assert_error(ec_api(owner).get("reports/summary", params), 400, "BAD_REQUEST", field=field)


def test_expensicat_summary_needs_the_read_scope(owner):
    response = ec_api(owner, scopes=("team:read",)).get("reports/summary")
    assert_error(response, 403, "FORBIDDEN")


def test_expensicat_summary_of_another_organization_is_404(owner, book):
    other = AdministrationFactory(name="Other")
    member(other, role="owner")
    response = ec_api(owner, organization=other).get("reports/summary")
    assert_error(response, 404, "NOT_FOUND", field="X-Organization-Id")
