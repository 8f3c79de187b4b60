"""The time-entry admin writes through the services: same validation, same events."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import LogEntry

from administrations.services import administration_update
from notes.models import Event
from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    NoteFactory,
    ProjectFactory,
    TimeEntryFactory,
    member,
)
from timeentries.models import TimeEntry

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
URL = "/admin/timeentries/timeentry/"


def form(**values):
    """POST data for the add/change form; datetimes split as the admin's widget sends them, in
    the administration's zone (the fixture's Europe/Amsterdam), pauses in minutes."""
    data = {"paused_duration": "0", "billable": "on", "contact": "", "project": ""}
    for key, value in values.items():
        if isinstance(value, datetime):
            value = value.astimezone(AMSTERDAM)
            data[f"{key}_0"], data[f"{key}_1"] = f"{value:%Y-%m-%d}", f"{value:%H:%M:%S}"
        elif value is None:
            data[f"{key}_0"] = data[f"{key}_1"] = ""
        else:
            data[key] = value
    return data


def change_form(entry: TimeEntry, **overrides):
    values = {
        "user": entry.user_id,
        "description": entry.description,
        "started_at": entry.started_at,
        "ended_at": entry.ended_at,
        "paused_duration": entry.paused_duration // 60,
        "contact": entry.contact_id or "",
        "project": entry.project_id or "",
    }
    data = form(**{**values, **overrides})
    if not entry.billable:
        data.pop("billable")
    return data


@pytest.fixture
def entry(administration, owner):
    return TimeEntryFactory(
        administration=administration,
        user_id=owner.pk,
        started_at=T0,
        ended_at=T0 + timedelta(hours=1),
        description="Design",
    )


def test_add_creates_through_the_service(admin_client, admin_user, administration, owner):
    contact = ContactFactory(administration=administration)
    response = admin_client.post(
        f"{URL}add/",
        form(
            administration=administration.pk,
            user=owner.pk,
            description="  Admin work  ",
            started_at=T0 + timedelta(seconds=0),
            ended_at=T0 + timedelta(hours=2),
            contact=contact.pk,
        ),
    )
    assert response.status_code == 302
    entry = TimeEntry.objects.get()
    assert (entry.description, entry.user, entry.contact) == ("Admin work", owner, contact)
    event = Event.objects.get(entity_id=entry.pk)
    assert (event.action, event.subject_type, event.user, event.data) == (
        "time_entry_created",
        "TimeEntry",
        admin_user,
        {},
    )
    # The admin's own log points at the created record.
    assert LogEntry.objects.get().object_id == str(entry.pk)
    assert response["Location"] == URL


def test_change_sends_only_the_changed_fields(admin_client, admin_user, administration, entry):
    contact = ContactFactory(administration=administration)
    response = admin_client.post(
        f"{URL}{entry.pk}/change/", change_form(entry, description="Redesign", contact=contact.pk)
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.description, entry.contact) == ("Redesign", contact)
    event = Event.objects.get(entity_id=entry.pk, action="time_entry_updated")
    assert event.user == admin_user
    assert event.data["description"] == ["Design", "Redesign"]
    assert event.data["contact_id"] == [None, str(contact.pk)]
    assert set(event.data) == {"description", "contact_id", "updated_at"}


def test_delete_writes_the_destroyed_event(admin_client, admin_user, entry):
    response = admin_client.post(f"{URL}{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TimeEntry.objects.filter(pk=entry.pk).exists()
    event = Event.objects.get(entity_id=entry.pk, action="time_entry_destroyed")
    assert event.user == admin_user
    assert event.data["description"] == "Design"
    assert event.data["started_at"] == "2026-03-02T10:00:00.000+01:00"


def test_bulk_delete_writes_one_event_per_entry(admin_client, admin_user, administration, owner):
    entries = [
        TimeEntryFactory(
            administration=administration, user_id=owner.pk, started_at=T0 + timedelta(days=d)
        )
        for d in range(3)
    ]
    response = admin_client.post(
        URL,
        {"action": "delete_selected", "_selected_action": [e.pk for e in entries], "post": "yes"},
    )
    assert response.status_code == 302
    assert not TimeEntry.objects.exists()
    destroyed = Event.objects.filter(action="time_entry_destroyed")
    assert sorted(e.entity_id for e in destroyed) == sorted(e.pk for e in entries)
    assert {e.user for e in destroyed} == {admin_user}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"ended_at": T0 - timedelta(hours=1)},
            "ended_at",
            "cannot be before the start time",
        ),
        ({"description": "   "}, "description", "This field is required."),
        ({"contact": "foreign"}, "contact", "is not in this administration"),
        ({"user": "outsider"}, "user", "is not in this administration"),
    ],
)
def test_invalid_input_shows_the_form_again(
    admin_client, administration, owner, entry, overrides, field, message
):
    other = AdministrationFactory()
    if overrides.get("contact") == "foreign":
        overrides["contact"] = ContactFactory(administration=other).pk
    if overrides.get("user") == "outsider":
        overrides["user"] = member(other).pk
    events_before = Event.objects.count()

    response = admin_client.post(
        f"{URL}add/",
        form(
            administration=administration.pk,
            **{
                "user": owner.pk,
                "description": "New",
                "started_at": T0 + timedelta(days=1),
                "ended_at": T0 + timedelta(days=1, hours=1),
                **overrides,
            },
        ),
    )
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors[field]
    assert TimeEntry.objects.count() == 1

    response = admin_client.post(f"{URL}{entry.pk}/change/", change_form(entry, **overrides))
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors[field]
    assert TimeEntry.objects.get(pk=entry.pk).description == "Design"
    assert Event.objects.count() == events_before
    assert not LogEntry.objects.exists()


def test_a_refused_delete_is_a_message_not_an_error(admin_client, administration, owner, entry):
    administration_update(
        administration=administration,
        actor=None,
        changes={"period_locked_until": date(2026, 3, 31)},
    )
    response = admin_client.post(f"{URL}{entry.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert "is locked" in str(next(iter(response.context["messages"])))
    assert TimeEntry.objects.filter(pk=entry.pk).exists()
    assert not Event.objects.filter(action="time_entry_destroyed").exists()
    assert not LogEntry.objects.exists()

    response = admin_client.post(
        URL, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    )
    assert TimeEntry.objects.filter(pk=entry.pk).exists()
    assert not Event.objects.filter(action="time_entry_destroyed").exists()


def test_a_running_timer_added_in_the_admin_stops_the_other(admin_client, administration, owner):
    running = TimeEntryFactory(
        administration=administration, user_id=owner.pk, started_at=T0, ended_at=None
    )
    response = admin_client.post(
        f"{URL}add/",
        form(
            administration=administration.pk,
            user=owner.pk,
            description="Next",
            started_at=T0 + timedelta(hours=1),
            ended_at=None,
        ),
    )
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.ended_at is not None
    assert TimeEntry.objects.filter(ended_at__isnull=True).get().description == "Next"


def test_changelist_filters_and_change_page(admin_client, administration, owner, entry):
    project = ProjectFactory(administration=administration)
    TimeEntryFactory(
        administration=administration,
        user_id=owner.pk,
        started_at=T0 + timedelta(days=1),
        ended_at=None,
        description="Running",
        project_id=project.pk,
    )
    response = admin_client.get(URL, {"running": "yes"})
    assert [e.description for e in response.context["cl"].result_list] == ["Running"]
    response = admin_client.get(URL, {"project": project.pk, "q": "Run"})
    assert [e.description for e in response.context["cl"].result_list] == ["Running"]

    NoteFactory(entity=entry, actor=owner, note="Check the invoice")
    response = admin_client.get(f"{URL}{entry.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Check the invoice" in page
    assert "time_entry_created" in page
    assert "note_created" in page
