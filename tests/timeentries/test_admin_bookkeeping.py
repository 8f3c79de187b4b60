"""The admin as a bookkeeper uses it: local times, totals, a week per person, the report and
the export, in a fixed number of queries."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from administrations.models import User
from administrations.services import administration_update, project_update
from notes.models import Event
from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    ProjectFactory,
    SalesInvoiceFactory,
    TimeEntryFactory,
    member,
)
from timeentries.exports import CSV_COLUMNS
from timeentries.models import TimeEntry

URL = "/admin/timeentries/timeentry/"
AMS = ZoneInfo("Europe/Amsterdam")


def at(text: str, tz=AMS) -> datetime:
    """A local wall-clock time as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def add_form(administration, user, start: str, end: str, **extra) -> dict:
    """The add form as the browser posts it: local wall-clock times, pause in minutes."""
    data = {
        "administration": administration.pk,
        "user": user.pk,
        "description": "Typed in the admin",
        "started_at_0": start[:10],
        "started_at_1": start[11:],
        "ended_at_0": end[:10],
        "ended_at_1": end[11:],
        "paused_duration": "0",
        "billable": "on",
        "contact": "",
        "project": "",
    }
    data.update(extra)
    return data


def entry(administration, user, start: datetime, hours: float = 1, **kwargs) -> TimeEntry:
    ended = kwargs.pop("ended_at", start + timedelta(hours=hours))
    return TimeEntryFactory(
        administration=administration,
        user_id=user.pk,
        started_at=start,
        ended_at=ended,
        **kwargs,
    )


def listed(response) -> list[str]:
    return [e.description for e in response.context["cl"].result_list]


# --- time zones -------------------------------------------------------------------------------


def test_a_time_typed_in_the_admin_is_local(admin_client, administration, owner, api):
    response = admin_client.post(
        f"{URL}add/", add_form(administration, owner, "2026-12-01 15:00:00", "2026-12-01 16:30:00")
    )
    assert response.status_code == 302
    created = TimeEntry.objects.get()
    assert created.started_at == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    body = api.get(f"time_entries/{created.pk}.json").json()
    assert body["started_at"] == "2026-12-01T14:00:00.000Z"
    # The change page shows it as typed, and says in which zone.
    page = admin_client.get(f"{URL}{created.pk}/change/").content.decode()
    assert 'value="15:00:00"' in page
    assert "Times in Europe/Amsterdam" in page
    assert "Typed in the admin — 2026-12-01 15:00" in page


def test_summer_time_is_two_hours(admin_client, administration, owner):
    admin_client.post(
        f"{URL}add/", add_form(administration, owner, "2026-07-01 15:00:00", "2026-07-01 16:00:00")
    )
    assert TimeEntry.objects.get().started_at == datetime(2026, 7, 1, 13, 0, tzinfo=UTC)


def test_the_list_shows_local_times_and_names_the_zone(admin_client, administration, owner):
    entry(administration, owner, datetime(2026, 11, 30, 8, 0, tzinfo=UTC), description="Seed")
    page = admin_client.get(URL).content.decode()
    assert "Times in Europe/Amsterdam" in page
    assert "2026-11-30 09:00" in page
    assert "2026-11-30 08:00" not in page


def test_day_drill_down_agrees_with_the_api_day_filter(admin_client, administration, owner, api):
    # 23:30 local on the 30th (22:30Z) and 00:30 local on the 1st (23:30Z on the 30th).
    entry(administration, owner, at("2026-11-30 23:30"), hours=0.25, description="Late")
    entry(administration, owner, at("2026-12-01 00:30"), hours=0.25, description="Early")
    entry(administration, owner, at("2026-11-30 10:00"), description="Day")
    response = admin_client.get(
        URL, {"started_at__year": "2026", "started_at__month": "11", "started_at__day": "30"}
    )
    assert sorted(listed(response)) == ["Day", "Late"]
    api_list = api.get("time_entries.json", {"filter": "day:20261130,period:202611..202612"})
    assert sorted(e["description"] for e in api_list.json()) == ["Day", "Late"]
    # The month's drill-down offers both days, as local days.
    response = admin_client.get(URL, {"started_at__year": "2026", "started_at__month": "11"})
    page = response.content.decode()
    assert "started_at__day=30" in page
    assert "started_at__day=1&" not in page


def test_the_period_lock_refuses_what_the_admin_shows_on_a_locked_day(
    admin_client, administration, owner
):
    administration_update(
        administration=administration, actor=None, changes={"period_locked_until": "2026-11-30"}
    )
    locked = admin_client.post(
        f"{URL}add/", add_form(administration, owner, "2026-11-30 23:30:00", "2026-11-30 23:50:00")
    )
    assert locked.status_code == 200
    assert "The period until 2026-11-30 is locked" in locked.content.decode()
    assert not TimeEntry.objects.exists()
    # 00:30 local on December 1st is 23:30Z on November 30th, and is open.
    open_ = admin_client.post(
        f"{URL}add/", add_form(administration, owner, "2026-12-01 00:30:00", "2026-12-01 01:00:00")
    )
    assert open_.status_code == 302
    assert TimeEntry.objects.get().started_at == datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


def test_a_list_spanning_zones_shows_each_row_in_its_own(admin_client, administration, owner):
    newyork = AdministrationFactory(name="Gotham", time_zone="America/New_York", currency="USD")
    someone = member(newyork, name="Bruce")
    entry(administration, owner, datetime(2026, 11, 30, 14, 0, tzinfo=UTC), description="AMS")
    entry(newyork, someone, datetime(2026, 11, 30, 14, 0, tzinfo=UTC), description="NYC")
    page = admin_client.get(URL).content.decode()
    assert "Times in each administration" in page
    assert "2026-11-30 15:00 CET" in page
    assert "2026-11-30 09:00 EST" in page
    assert "column-administration" in page  # several administrations: the column is shown
    # Filtered to one administration: its zone, unnamed per row, and no administration column.
    page = admin_client.get(URL, {"administration": newyork.pk}).content.decode()
    assert "Times in America/New_York" in page
    assert "2026-11-30 09:00<" in page
    assert "column-administration" not in page


# --- the paused time, the pickers, the audit trail ----------------------------------------------


def test_paused_time_is_typed_and_shown_in_minutes(admin_client, administration, owner):
    response = admin_client.post(
        f"{URL}add/",
        add_form(
            administration,
            owner,
            "2026-12-01 09:00:00",
            "2026-12-01 12:00:00",
            paused_duration="15",
        ),
    )
    assert response.status_code == 302
    created = TimeEntry.objects.get()
    assert created.paused_duration == 900
    page = admin_client.get(f"{URL}{created.pk}/change/").content.decode()
    assert re.search(r'name="paused_duration" value="15"', page)
    listing = admin_client.get(URL).content.decode()
    assert "2:45" in listing and "15m pause" in listing


def test_pickers_offer_the_administrations_active_records(admin_client, administration):
    other = AdministrationFactory(name="Other")
    active = ProjectFactory(administration=administration, name="Website")
    archived = ProjectFactory(administration=administration, name="Webshop old")
    project_update(project=archived, actor=None, changes={"state": "archived"})
    ProjectFactory(administration=other, name="Web elsewhere")

    def offered(term, **params):
        response = admin_client.get(
            "/admin/autocomplete/",
            {
                "app_label": "timeentries",
                "model_name": "timeentry",
                "field_name": "project",
                "term": term,
                **params,
            },
        )
        assert response.status_code == 200
        return sorted(r["text"] for r in response.json()["results"])

    assert offered("Web", administration=administration.pk) == [active.name]
    assert offered("archived:Web", administration=administration.pk) == [
        archived.name,
        active.name,
    ]
    assert offered("Web", administration=other.pk) == ["Web elsewhere"]


def test_the_audit_trail_reads_old_to_new_in_local_time(admin_client, admin_user, administration):
    owner = member(administration, name="Owner")
    item = entry(administration, owner, at("2026-12-01 09:00"), description="Design")
    data = add_form(
        administration, owner, "2026-12-01 09:00:00", "2026-12-01 10:00:00", description="Redesign"
    )
    data.pop("administration")
    assert admin_client.post(f"{URL}{item.pk}/change/", data).status_code == 302
    page = admin_client.get(f"{URL}{item.pk}/change/").content.decode()
    assert "description: Design → Redesign" in page
    updated = Event.objects.get(entity_id=item.pk, action="time_entry_updated")
    when = updated.created_at.astimezone(AMS).strftime("%Y-%m-%d %H:%M")
    assert when in page
    assert f'href="/admin/administrations/user/{admin_user.pk}/change/"' in page


# --- the list: filters, search, durations, totals -------------------------------------------------


@pytest.fixture
def week(administration, owner):
    """A small week of two people on two projects, a contact, an invoice and a non-billable
    hour."""
    sanne = member(administration, name="Sanne de Vries")
    contact = ContactFactory(administration=administration, company_name="Acme Webdesign")
    website = ProjectFactory(
        administration=administration, name="Website", hourly_rate=Decimal("100.00")
    )
    internal = ProjectFactory(administration=administration, name="Internal")
    invoice = SalesInvoiceFactory(administration=administration)
    entries = {
        "mon": entry(administration, sanne, at("2026-11-23 09:00"), 2, project_id=website.pk),
        "tue": entry(
            administration,
            sanne,
            at("2026-11-24 09:00"),
            3,
            project_id=website.pk,
            contact_id=contact.pk,
            paused_duration=1800,
        ),
        "wed": entry(
            administration, sanne, at("2026-11-25 13:00"), 1, project_id=internal.pk, billable=False
        ),
        "owner": entry(
            administration, owner, at("2026-11-24 10:00"), 4, sales_invoice_id=invoice.pk
        ),
        "before": entry(administration, sanne, at("2026-11-16 09:00"), 1, project_id=website.pk),
    }
    return {"sanne": sanne, "website": website, "internal": internal, "contact": contact, **entries}


def test_filters_narrow_to_a_persons_week(admin_client, administration, week):
    sanne = week["sanne"]
    response = admin_client.get(URL, {"user": sanne.pk, "period": "20261123..20261129"})
    assert sorted(listed(response)) == sorted(week[k].description for k in ("mon", "tue", "wed"))
    totals = response.context["cl"].totals
    # 2h + (3h - 30m) + 1h; billable without Wednesday's internal hour; Website at 100/h.
    assert totals["seconds"] == (2 * 60 + 150 + 60) * 60
    assert totals["billable_seconds"] == (2 * 60 + 150) * 60
    assert totals["amounts"] == [{"currency": "EUR", "amount": "450.00"}]
    page = response.content.decode()
    assert "5:30" in page and "4:30" in page and "450.00" in page
    # The same week through the API's filter gives the same hours.
    assert response.context["cl"].result_count == 3


def test_project_contact_invoiced_and_billable_filters(admin_client, week):
    assert listed(admin_client.get(URL, {"project": week["internal"].pk})) == [
        week["wed"].description
    ]
    assert listed(admin_client.get(URL, {"contact": week["contact"].pk})) == [
        week["tue"].description
    ]
    assert listed(admin_client.get(URL, {"invoiced": "yes"})) == [week["owner"].description]
    assert len(listed(admin_client.get(URL, {"invoiced": "no"}))) == 4
    assert listed(admin_client.get(URL, {"billable__exact": "0"})) == [week["wed"].description]


def test_week_and_month_shortcuts_are_local(admin_client, administration, owner, freeze):
    freeze(at("2026-11-25 12:00"))
    entry(administration, owner, at("2026-11-23 00:30"), description="This Monday early")
    entry(administration, owner, at("2026-11-22 23:30"), 0.25, description="Last Sunday late")
    entry(administration, owner, at("2026-10-31 12:00"), description="Last month")
    assert listed(admin_client.get(URL, {"period": "this_week"})) == ["This Monday early"]
    assert listed(admin_client.get(URL, {"period": "prev_week"})) == ["Last Sunday late"]
    assert sorted(listed(admin_client.get(URL, {"period": "this_month"}))) == [
        "Last Sunday late",
        "This Monday early",
    ]
    assert listed(admin_client.get(URL, {"period": "prev_month"})) == ["Last month"]
    assert admin_client.get(URL, {"period": "soon"}).status_code == 302  # Django's "?e=1"


@pytest.mark.parametrize(
    ("term", "keys"),
    [
        ("Sanne", ("mon", "tue", "wed", "before")),
        ("Website", ("mon", "tue", "before")),
        ("Acme", ("tue",)),
    ],
)
def test_search_covers_people_projects_and_contacts(admin_client, week, term, keys):
    assert sorted(listed(admin_client.get(URL, {"q": term}))) == sorted(
        week[k].description for k in keys
    )


def test_a_running_timer_counts_up_to_now(admin_client, administration, owner, freeze):
    freeze(at("2026-12-01 11:15"))
    entry(administration, owner, at("2026-12-01 09:00"), ended_at=None, description="Running")
    response = admin_client.get(URL)
    assert response.context["cl"].totals["seconds"] == (2 * 60 + 15) * 60
    page = response.content.decode()
    assert "running" in page and "2:15" in page


def test_amounts_are_per_currency(admin_client, administration, owner):
    dollars = AdministrationFactory(name="US", time_zone="Europe/Amsterdam", currency="USD")
    someone = member(dollars)
    euro = ProjectFactory(administration=administration, hourly_rate=Decimal("80"))
    usd = ProjectFactory(administration=dollars, hourly_rate=Decimal("50"))
    entry(administration, owner, at("2026-12-01 09:00"), 1.5, project_id=euro.pk)
    entry(dollars, someone, at("2026-12-01 09:00"), 2, project_id=usd.pk)
    totals = admin_client.get(URL).context["cl"].totals
    assert totals["amounts"] == [
        {"currency": "EUR", "amount": "120.00"},
        {"currency": "USD", "amount": "100.00"},
    ]


# --- queries ----------------------------------------------------------------------------------


def _count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


def test_a_page_of_100_entries_takes_at_most_six_queries(
    admin_client, administration, owner, django_assert_max_num_queries
):
    people = [owner, member(administration, name="Two"), member(administration, name="Three")]
    contacts = [ContactFactory(administration=administration) for _ in range(3)]
    projects = [
        ProjectFactory(administration=administration, hourly_rate=Decimal(90)) for _ in range(3)
    ]
    start = at("2026-11-02 08:00")
    for n in range(120):
        entry(
            administration,
            people[n % 3],
            start + timedelta(hours=n * 5),
            project_id=projects[n % 3].pk,
            contact_id=contacts[n % 3].pk,
        )
    with django_assert_max_num_queries(6):
        response = admin_client.get(URL)
    assert len(response.context["cl"].result_list) == 100
    with django_assert_max_num_queries(6):
        response = admin_client.get(URL, {"all": ""})
    assert len(response.context["cl"].result_list) == 120
    with django_assert_max_num_queries(6):
        admin_client.get(URL, {"started_at__year": "2026", "started_at__month": "11"})
    # Whatever the page size: 10 rows cost what 100 do.
    small = _count_queries(admin_client, URL, {"q": "Work item 1"})
    assert small == _count_queries(admin_client, URL)


def test_timesheet_and_report_take_a_fixed_number_of_queries(admin_client, administration, owner):
    project = ProjectFactory(administration=administration, hourly_rate=Decimal(90))
    timesheet = f"{URL}timesheet/"
    report = f"{URL}report/"
    sheet_params = {"administration": administration.pk, "user": owner.pk, "week": "2026-11-23"}
    report_params = {"administration": administration.pk, "period": "202611..202611"}
    entry(administration, owner, at("2026-11-23 09:00"), project_id=project.pk)
    few = (_count_queries(admin_client, timesheet, sheet_params),)
    few += (_count_queries(admin_client, report, report_params),)
    for n in range(20):
        other = ProjectFactory(administration=administration)
        entry(
            administration,
            owner,
            at("2026-11-24 08:00") + timedelta(hours=n),
            0.5,
            project_id=other.pk,
        )
    many = (_count_queries(admin_client, timesheet, sheet_params),)
    many += (_count_queries(admin_client, report, report_params),)
    assert few == many
    assert many[0] <= 4 and many[1] <= 5


# --- timesheet, report, export ------------------------------------------------------------------


def test_the_timesheet_of_a_persons_week(admin_client, administration, week):
    sanne = week["sanne"]
    response = admin_client.get(
        f"{URL}timesheet/",
        {"administration": administration.pk, "user": sanne.pk, "week": "2026-11-26"},
    )
    assert response.status_code == 200
    context = response.context
    assert [name for name, _ in context["days"]] == [
        "Mon",
        "Tue",
        "Wed",
        "Thu",
        "Fri",
        "Sat",
        "Sun",
    ]
    rows = {
        row["name"]: [c["text"] for c in row["cells"]] + [row["total"]] for row in context["rows"]
    }
    assert rows == {
        "Internal": ["", "", "1:00", "", "", "", "", "1:00"],
        "Website": ["2:00", "2:30", "", "", "", "", "", "4:30"],
    }
    assert [d["text"] for d in context["day_totals"]] == [
        "2:00",
        "2:30",
        "1:00",
        "0:00",
        "0:00",
        "0:00",
        "0:00",
    ]
    assert context["week_total"] == "5:30"
    # Each cell leads to its entries in the list.
    [website] = [row for row in context["rows"] if row["name"] == "Website"]
    link = website["cells"][0]["url"]
    follow = admin_client.get(link)
    assert listed(follow) == [week["mon"].description]
    # Reached from the list: a person's name links to their week; filtered to a person, a button.
    page = admin_client.get(URL, {"user": sanne.pk, "period": "20261124..20261125"})
    page = page.content.decode()
    # The button leads to the week the list's period starts in; each name to its entry's week.
    assert re.search(rf'user={sanne.pk}&amp;week=2026-11-23">Week timesheet<', page)
    assert f'user={sanne.pk}&amp;week=2026-11-23" title="Week timesheet"' in page
    # And from the person: their page links to a timesheet per administration.
    person_page = admin_client.get(f"/admin/administrations/user/{sanne.pk}/change/")
    assert f"timesheet/?administration={administration.pk}&amp;user={sanne.pk}" in (
        person_page.content.decode()
    )


def test_a_timesheet_of_someone_outside_the_administration_is_404(admin_client, administration):
    stranger = member(AdministrationFactory())
    response = admin_client.get(
        f"{URL}timesheet/", {"administration": administration.pk, "user": stranger.pk}
    )
    assert response.status_code == 404


def test_the_report_groups_and_charts(admin_client, administration, week):
    response = admin_client.get(
        f"{URL}report/",
        {"administration": administration.pk, "period": "20261116..20261129", "group_by": "user"},
    )
    assert response.status_code == 200
    rows = {
        row["label"]: (row["entries"], row["hours"], row["amounts"])
        for row in response.context["rows"]
    }
    assert rows == {
        "Sanne de Vries": (4, "6:30", "EUR 550.00"),
        week["owner"].user.display_name: (1, "4:00", "-"),
    }
    page = response.content.decode()
    assert "<svg" in page and "Hours per week by project" in page
    assert page.count("<rect x=") >= 3  # two weeks' stacks and a legend
    by_project = admin_client.get(
        f"{URL}report/",
        {"administration": administration.pk, "period": "20261116..20261129"},
    )
    labels = [row["label"] for row in by_project.context["rows"]]
    assert labels == ["Website", "Internal", "(no project)"] or set(labels) == {
        "Website",
        "Internal",
        "(no project)",
    }
    # Reached from the administration's page and from its entries list.
    page = admin_client.get(f"/admin/administrations/administration/{administration.pk}/change/")
    assert f"report/?administration={administration.pk}" in page.content.decode()
    assert f"report/?administration={administration.pk}" in admin_client.get(URL).content.decode()
    # A bad period says so and shows this month instead of failing.
    bad = admin_client.get(f"{URL}report/", {"administration": administration.pk, "period": "x"})
    assert bad.status_code == 200 and "expected a named period" in bad.content.decode()


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_export_the_filtered_list_and_the_report(admin_client, administration, week):
    sanne = week["sanne"]
    rows = _csv(
        admin_client.get(f"{URL}export/", {"user": sanne.pk, "period": "20261123..20261129"})
    )
    assert rows[0] == list(CSV_COLUMNS)
    assert [r[5] for r in rows[1:]] == [week[k].description for k in ("mon", "tue", "wed")]
    assert rows[2][2] == "2026-11-24T08:00:00Z" and rows[2][4] == "1800"
    # The action exports the selected rows.
    response = admin_client.post(
        URL,
        {"action": "export_csv", "_selected_action": [week["owner"].pk, week["mon"].pk]},
    )
    assert [r[0] for r in _csv(response)[1:]] == [str(week["mon"].pk), str(week["owner"].pk)]
    # The report's export: the entries of its period.
    report = _csv(
        admin_client.get(
            f"{URL}report/",
            {"administration": administration.pk, "period": "20261116..20261122", "format": "csv"},
        )
    )
    assert [r[5] for r in report[1:]] == [week["before"].description]


# --- the index --------------------------------------------------------------------------------


def test_the_index_is_a_bookkeepers(client, admin_client, administration):
    page = admin_client.get("/admin/").content.decode()
    assert "Uurwerk" in page and "Django administration" not in page
    assert 'href="/"' in page  # "View site" leads to the landing page
    assert page.index("Time entries") < page.index("Groups")  # internals last for a superuser
    assert admin_client.get("/admin/auth/group/").status_code == 200
    clerk = User.objects.create_user("clerk@example.com", "pw", is_staff=True)
    from django.contrib.auth.models import Permission

    clerk.user_permissions.add(*Permission.objects.all())
    client.force_login(clerk)
    page = client.get("/admin/").content.decode()
    assert "Time entries" in page
    assert "Groups" not in page and "Access tokens" not in page and "Applications" not in page
    assert client.get("/admin/auth/group/").status_code == 403


def test_events_show_local_times_and_link_their_subject(admin_client, administration, owner):
    item = entry(administration, owner, at("2026-12-01 09:00"), description="Logged")
    event = Event.objects.get(entity_id=item.pk)
    page = admin_client.get("/admin/notes/event/").content.decode()
    assert "Times in Europe/Amsterdam" in page
    assert event.created_at.astimezone(AMS).strftime("%Y-%m-%d %H:%M") in page
    assert f'href="/admin/timeentries/timeentry/{item.pk}/change/"' in page
    assert f'href="/admin/administrations/user/{owner.pk}/change/"' in page
