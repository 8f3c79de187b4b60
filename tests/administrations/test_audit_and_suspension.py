"""Every write audited and locked alike: a new user and an OAuth application record events like
every other write, deleting a time entry reads it under a lock, and a suspended administration
answers reads but refuses every write, through both APIs, the services (admin, commands) and
the admin's actions."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from administrations import services
from administrations.models import Administration
from common.exceptions import NotFound, Suspended
from notes.models import Event
from tests.expensicat_support import assert_error, ec_api
from tests.factories import TimeEntryFactory, member
from timeentries.bulk import time_entries_create_bulk, time_entries_delete_bulk
from timeentries.models import TimeEntry
from timeentries.services import time_entry_create, time_entry_delete

User = get_user_model()
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# --- events for users and OAuth applications -------------------------------------------------


@pytest.mark.django_db
def test_a_new_user_is_recorded_and_an_existing_one_is_not():
    actor = services.user_get_or_create(email="boss@example.com")[0]
    user, created = services.user_get_or_create(
        email=" Ivo@Example.com ", name=" Ivo ", password="correct horse battery", actor=actor
    )
    assert created
    event = Event.objects.get(action="user_created", entity_id=user.pk)
    assert (event.administration_id, event.user_id, event.subject_type) == (None, actor.pk, "User")
    assert event.data == {"email": "ivo@example.com", "name": "Ivo"}  # never the password

    again, created = services.user_get_or_create(email="ivo@example.com", actor=actor)
    assert (again.pk, created) == (user.pk, False)
    assert Event.objects.filter(action="user_created", entity_id=user.pk).count() == 1


@pytest.mark.django_db
def test_an_invitation_of_a_new_person_records_the_user_and_the_membership(administration, owner):
    services.member_add(administration=administration, actor=owner, email="new@example.com")
    user = User.objects.get(email="new@example.com")
    actions = set(
        Event.objects.filter(entity_id=user.pk).values_list(
            "action", "user_id", "administration_id"
        )
    )
    assert actions == {
        ("user_created", owner.pk, None),
        ("user_invited", owner.pk, administration.pk),
    }


@pytest.mark.django_db
def test_a_refused_user_records_nothing():
    from common.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.user_get_or_create(email="not an address")
    assert not Event.objects.filter(action="user_created").exists()


@pytest.mark.django_db
def test_an_oauth_application_is_recorded_without_its_secret():
    actor = services.user_get_or_create(email="ops@example.com")[0]
    application, secret = services.oauth_application_create(
        name=" Timer app ",
        redirect_uris=["https://app.example/cb"],
        confidential=True,
        actor=actor,
    )
    event = Event.objects.get(action="oauth_application_created")
    assert (event.administration_id, event.user_id) == (None, actor.pk)
    assert (event.subject_type, event.entity_id) == ("OAuthApplication", application.pk)
    assert event.data == {
        "name": "Timer app",
        "client_id": application.client_id,
        "client_type": "confidential",
        "redirect_uris": ["https://app.example/cb"],
    }
    assert secret and secret not in str(event.data)


@pytest.mark.django_db
def test_a_refused_oauth_application_records_nothing():
    from common.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.oauth_application_create(name="App", redirect_uris=[])
    assert not Event.objects.filter(action="oauth_application_created").exists()


# --- time_entry_delete locks the entry --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_delete_reads_the_entry_under_a_lock_and_records_what_it_deletes(administration, owner):
    entry = TimeEntryFactory(administration=administration, user_id=owner.pk, description="old")
    stale = TimeEntry.objects.get(pk=entry.pk)
    TimeEntry.objects.filter(pk=entry.pk).update(description="current")
    with CaptureQueriesContext(connection) as queries:
        time_entry_delete(entry=stale, actor=owner)
    if connection.vendor == "postgresql":
        assert any("FOR NO KEY UPDATE" in q["sql"] for q in queries.captured_queries)
    else:  # SQLite has no row locks; the entry is still read afresh
        assert any('FROM "timeentries_timeentry"' in q["sql"] for q in queries.captured_queries)
    event = Event.objects.get(action="time_entry_destroyed", entity_id=entry.pk)
    assert event.data["description"] == "current"
    assert not TimeEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_deleting_an_entry_deleted_meanwhile_is_not_found(administration, owner):
    entry = TimeEntryFactory(administration=administration, user_id=owner.pk)
    stale = TimeEntry.objects.get(pk=entry.pk)
    time_entry_delete(entry=entry, actor=owner)
    with pytest.raises(NotFound):
        time_entry_delete(entry=stale, actor=owner)
    assert Event.objects.filter(action="time_entry_destroyed", entity_id=entry.pk).count() == 1


# --- suspended administrations ----------------------------------------------------------------


def _suspend(administration: Administration, actor) -> Administration:
    return services.administration_suspension_set(
        administration=administration, actor=actor, suspended=True
    )


@pytest.mark.django_db
def test_suspending_and_reactivating_are_recorded_once(administration, owner):
    _suspend(administration, owner)
    _suspend(administration, owner)  # already suspended: nothing more
    services.administration_suspension_set(
        administration=administration, actor=owner, suspended=False
    )
    actions = list(
        Event.objects.filter(administration=administration, subject_type="Administration")
        .filter(action__in=("administration_suspended", "administration_reactivated"))
        .order_by("id")
        .values_list("action", "data")
    )
    assert actions == [
        ("administration_suspended", {"suspended": [False, True]}),
        ("administration_reactivated", {"suspended": [True, False]}),
    ]
    administration.refresh_from_db()
    assert administration.suspended is False


@pytest.mark.django_db
def test_a_suspended_administration_refuses_writes_through_the_services(administration, owner):
    entry = TimeEntryFactory(administration=administration, user_id=owner.pk)
    administration = _suspend(administration, owner)
    events = Event.objects.count()
    with pytest.raises(Suspended):
        time_entry_create(
            administration=administration,
            actor=owner,
            user_id=owner.pk,
            started_at=START,
            ended_at=START + timedelta(hours=1),
            description="refused",
        )
    with pytest.raises(Suspended):
        time_entry_delete(entry=entry, actor=owner)
    with pytest.raises(Suspended):
        services.contact_create(administration=administration, actor=owner, company_name="X")
    # Bulk writes (and imports) record their events in one insert: refused the same.
    with pytest.raises(Suspended):
        time_entries_create_bulk(
            administration=administration,
            actor=owner,
            items=[
                {
                    "user_id": owner.pk,
                    "started_at": START,
                    "ended_at": START + timedelta(hours=1),
                    "description": "refused",
                }
            ],
        )
    with pytest.raises(Suspended):
        time_entries_delete_bulk(administration=administration, actor=owner, ids=[entry.pk])
    assert TimeEntry.objects.filter(administration=administration).count() == 1
    assert Event.objects.count() == events


@pytest.mark.django_db
def test_moneybird_reads_a_suspended_administration_and_refuses_its_writes(
    api, administration, owner
):
    entry = TimeEntryFactory(administration=administration, user_id=owner.pk)
    _suspend(administration, owner)
    assert api.get("time_entries.json").status_code == 200
    assert api.get(f"time_entries/{entry.pk}.json").status_code == 200
    # Synchronization asks by POST, and only reads.
    synced = api.post("time_entries/synchronization.json", {"ids": [str(entry.pk)]})
    assert synced.status_code == 200, synced.content
    assert [row["id"] for row in synced.json()] == [str(entry.pk)]

    suspended = {
        "error": "The administration is suspended: it can be read, not changed",
        "symbolic": {"administration": "suspended"},
    }
    body = {
        "time_entry": {
            "user_id": str(owner.pk),
            "started_at": "2026-03-02T09:00:00.000Z",
            "ended_at": "2026-03-02T10:00:00.000Z",
            "description": "refused",
        }
    }
    for response in (
        api.post("time_entries.json", body),
        api.patch(f"time_entries/{entry.pk}.json", {"time_entry": {"description": "x"}}),
        api.delete(f"time_entries/{entry.pk}.json"),
        api.post("contacts.json", {"contact": {"company_name": "X"}}),
    ):
        assert response.status_code == 402, response.content
        assert response.json() == suspended
    assert TimeEntry.objects.filter(administration=administration).count() == 1


@pytest.mark.django_db
def test_expensicat_reads_a_suspended_organization_and_refuses_its_writes(administration, owner):
    _suspend(administration, owner)
    ec = ec_api(owner, organization=administration)
    assert ec.get("time-entries").status_code == 200
    response = ec.post(
        "time-entries",
        {"start_time": "2026-03-02T09:00:00Z", "end_time": "2026-03-02T10:00:00Z"},
    )
    error = assert_error(response, 402, "PAYMENT_REQUIRED")
    assert "suspended" in error["message"]
    assert not TimeEntry.objects.filter(administration=administration).exists()


@pytest.mark.django_db
def test_the_admin_suspends_and_reactivates_through_the_service(client, administration):
    staff = User.objects.create_superuser("root@example.com", "pw-for-the-admin-test")
    member(administration, role="owner")
    client.force_login(staff)
    url = "/admin/administrations/administration/"
    response = client.post(
        url, {"action": "suspend", "_selected_action": [administration.pk]}, follow=True
    )
    assert response.status_code == 200
    administration.refresh_from_db()
    assert administration.suspended is True
    event = Event.objects.get(action="administration_suspended", administration=administration)
    assert event.user_id == staff.pk
    client.post(url, {"action": "reactivate", "_selected_action": [administration.pk]})
    administration.refresh_from_db()
    assert administration.suspended is False


@pytest.mark.parametrize("dialect", ["moneybird", "expensicat"])
def test_the_openapi_documents_the_suspended_402_on_writes_only(client, dialect):
    schema = client.get(f"/api/schema/{dialect}/", HTTP_ACCEPT="application/json").json()
    writes, reads = 0, 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            documented = "402" in operation["responses"]
            if method == "get" or path.endswith("/synchronization"):
                reads += 1
                assert not documented, (method, path)
            else:
                writes += 1
                assert documented, (method, path)
    assert writes and reads
