"""Administration.prevent_overlapping_entries: one person's entries may not overlap (as half-open
intervals, a running timer up to now) in either dialect, in imports, and under concurrency."""

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections

from administrations.models import Administration
from administrations.services import administration_update
from common.exceptions import ValidationFailed
from notes.models import Event
from tests.conftest import Api
from tests.expensicat_support import assert_error, ec_api
from tests.factories import AdministrationFactory, TokenFactory, member
from tests.timeentries.import_support import entries, error_lines, run_import
from tests.timeentries.moneybird_support import make_entry, unprocessable
from tests.timeentries.test_concurrent_writes import all_at_once, server_url  # noqa: F401
from timeentries import bulk, services
from timeentries.models import TimeEntry
from timeentries.services import time_entry_delete

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@pytest.fixture
def guarded(administration):
    """The test's administration with overlaps refused."""
    return administration_update(
        administration=administration,
        actor=None,
        changes={"prevent_overlapping_entries": True},
    )


@pytest.fixture
def api(guarded, owner, token) -> Api:
    return Api(guarded, owner, token)


@pytest.fixture
def nine_to_ten(guarded, owner, freeze):
    freeze(NOW)
    return make_entry(guarded, owner, T0, 60)


def overlap(entry) -> dict:
    return unprocessable(started_at=("overlaps", f"overlaps time entry {entry.pk}"))


def create(api, start: datetime, end: datetime | None, **extra):
    body = {"started_at": iso(start), "description": "Work"}
    body["ended_at"] = iso(end) if end is not None else None
    return api.post("time_entries", {"time_entry": {**body, **extra}})


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (T0, T0 + timedelta(hours=1)),  # the same span
        (T0 - timedelta(minutes=30), T0 + timedelta(minutes=1)),  # over its start
        (T0 + timedelta(minutes=59), T0 + timedelta(hours=2)),  # over its end
        (T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)),  # inside it
        (T0 - timedelta(hours=1), T0 + timedelta(hours=2)),  # around it
    ],
)
def test_moneybird_create_that_overlaps_is_a_422_naming_the_entry(api, nine_to_ten, start, end):
    events = Event.objects.count()
    response = create(api, start, end)
    assert response.status_code == 422
    assert response.json() == overlap(nine_to_ten)
    assert list(TimeEntry.objects.all()) == [nine_to_ten]
    assert Event.objects.count() == events


def test_entries_that_touch_are_allowed(api, nine_to_ten):
    before = create(api, T0 - timedelta(hours=1), T0)
    after = create(api, T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert (before.status_code, after.status_code) == (201, 201)
    assert TimeEntry.objects.count() == 3


def test_only_the_same_persons_entries_count(api, nine_to_ten, colleague):
    response = create(api, T0, T0 + timedelta(hours=1), user_id=str(colleague.pk))
    assert response.status_code == 201, response.content


def test_without_the_setting_overlaps_are_allowed(administration, owner, token, freeze):
    freeze(NOW)
    make_entry(administration, owner, T0, 60)
    response = create(Api(administration, owner, token), T0, T0 + timedelta(hours=1))
    assert response.status_code == 201


def test_a_running_timer_counts_up_to_now(api, guarded, owner, freeze):
    freeze(NOW)
    running = make_entry(guarded, owner, NOW - timedelta(hours=1), ended_at=None)
    # Before the timer started: fine; inside its hour so far: refused; after now: fine.
    assert create(api, NOW - timedelta(hours=3), NOW - timedelta(hours=1)).status_code == 201
    response = create(api, NOW - timedelta(minutes=30), NOW - timedelta(minutes=10))
    assert response.json() == overlap(running)
    later = create(api, NOW + timedelta(hours=1), NOW + timedelta(hours=2))
    assert later.status_code == 201, later.content


def test_a_new_timer_that_started_inside_a_stopped_entry_is_refused(api, nine_to_ten):
    response = create(api, T0 + timedelta(minutes=30), None)
    assert response.json() == overlap(nine_to_ten)
    # Starting a timer now stops nothing it overlaps, and is fine.
    response = create(api, NOW, None)
    assert response.status_code == 201


def test_starting_a_timer_stops_the_running_one_first(api, guarded, owner, freeze):
    freeze(NOW)
    running = make_entry(guarded, owner, NOW - timedelta(hours=1), ended_at=None)
    response = create(api, NOW, None)
    assert response.status_code == 201, response.content
    running.refresh_from_db()
    assert running.ended_at == NOW


def test_update_that_overlaps_is_refused_and_changes_nothing(api, guarded, owner, nine_to_ten):
    later = make_entry(guarded, owner, T0 + timedelta(hours=2), 60)
    events = Event.objects.count()
    response = api.patch(
        f"time_entries/{later.pk}", {"time_entry": {"started_at": iso(T0 + timedelta(minutes=30))}}
    )
    assert response.status_code == 422
    assert response.json() == overlap(nine_to_ten)
    later.refresh_from_db()
    assert later.started_at == T0 + timedelta(hours=2)
    assert Event.objects.count() == events
    # A change of the entry's own span that stays clear of others is fine, as is any other field.
    response = api.patch(
        f"time_entries/{later.pk}", {"time_entry": {"ended_at": iso(T0 + timedelta(hours=4))}}
    )
    assert response.status_code == 200, response.content
    response = api.patch(f"time_entries/{nine_to_ten.pk}", {"time_entry": {"description": "X"}})
    assert response.status_code == 200, response.content


def test_moving_an_entry_to_a_person_it_overlaps_is_refused(api, guarded, nine_to_ten, colleague):
    theirs = make_entry(guarded, colleague, T0 + timedelta(minutes=30), 60)
    response = api.patch(
        f"time_entries/{nine_to_ten.pk}", {"time_entry": {"user_id": str(colleague.pk)}}
    )
    assert response.json() == overlap(theirs)


def test_resume_that_would_overlap_is_refused(api, guarded, owner, freeze):
    freeze(NOW)
    earlier = make_entry(guarded, owner, NOW - timedelta(hours=3), 60)
    make_entry(guarded, owner, NOW - timedelta(hours=1), 30)
    response = api.patch(f"time_entries/{earlier.pk}/resume")
    assert response.status_code == 422
    assert response.json()["error"]["started_at"][0].startswith("overlaps time entry ")
    earlier.refresh_from_db()
    assert earlier.ended_at is not None


def test_expensicat_create_and_update_give_a_validation_error(guarded, owner, nine_to_ten):
    ec = ec_api(owner)
    body = {"start_time": iso(T0), "end_time": iso(T0 + timedelta(hours=1)), "description": "W"}
    response = ec.post("time-entries", body)
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert error["details"] == {"start_time": [f"overlaps time entry {nine_to_ten.pk}"]}
    other = make_entry(guarded, owner, T0 + timedelta(hours=3), 60)
    response = ec.patch(f"time-entries/{other.pk}", {"end_time": iso(T0 + timedelta(hours=5))})
    assert response.status_code == 200
    response = ec.patch(f"time-entries/{other.pk}", {"start_time": iso(T0)})
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert error["details"] == {"start_time": [f"overlaps time entry {nine_to_ten.pk}"]}


def test_the_expensicat_organization_shows_the_setting(guarded, owner):
    response = ec_api(owner).get("organizations/current")
    assert response.json()["data"]["prevent_overlapping_entries"] is True


# --- turning it on ----------------------------------------------------------------------------


def test_turning_it_on_with_overlaps_is_refused_with_their_count(administration, owner, freeze):
    freeze(NOW)
    make_entry(administration, owner, T0, 60)
    make_entry(administration, owner, T0 + timedelta(minutes=30), 60)
    make_entry(administration, owner, T0 + timedelta(minutes=60), 60)  # touches the first
    make_entry(administration, owner, T0 + timedelta(hours=5), 60)  # alone
    with pytest.raises(ValidationFailed) as caught:
        administration_update(
            administration=administration,
            actor=None,
            changes={"prevent_overlapping_entries": True},
        )
    assert caught.value.errors["prevent_overlapping_entries"][0].message == (
        "3 time entries overlap another entry of the same person; change or delete them first"
    )
    administration.refresh_from_db()
    assert administration.prevent_overlapping_entries is False


def test_turning_it_on_without_overlaps_records_the_change(administration, owner, freeze):
    freeze(NOW)
    make_entry(administration, owner, T0, 60)
    make_entry(administration, owner, T0 + timedelta(hours=1), 60)
    updated = administration_update(
        administration=administration,
        actor=None,
        changes={"prevent_overlapping_entries": True},
    )
    assert updated.prevent_overlapping_entries is True
    event = Event.objects.filter(action="administration_changed").latest("id")
    assert event.data == {"prevent_overlapping_entries": [False, True]}


def test_create_administration_takes_the_flag(db):
    out = StringIO()
    call_command("create_administration", "Strict", "--prevent-overlapping-entries", stdout=out)
    assert Administration.objects.get(pk=int(out.getvalue())).prevent_overlapping_entries
    out = StringIO()
    call_command("create_administration", "Lax", stdout=out)
    assert not Administration.objects.get(pk=int(out.getvalue())).prevent_overlapping_entries


# --- imports ----------------------------------------------------------------------------------

HEADER = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,"
    "End time,Duration,Tags\n"
)


def test_an_import_reports_the_rows_that_overlap(guarded, tmp_path, freeze):
    freeze(NOW)
    ann = member(guarded, email="ann@example.com", name="Ann")
    existing = make_entry(guarded, ann, datetime(2024, 3, 1, 8, 0, tzinfo=UTC), 60)
    rows = [
        # 09:00-10:00 Amsterdam is 08:00-09:00 UTC: the existing entry.
        "Ann,ann@example.com,,,,Same,Yes,2024-03-01,09:00:00,2024-03-01,10:00:00,01:00:00,",
        "Ann,ann@example.com,,,,Touching,Yes,2024-03-01,10:00:00,2024-03-01,11:00:00,01:00:00,",
        "Ann,ann@example.com,,,,Inside,Yes,2024-03-01,10:30:00,2024-03-01,10:45:00,00:15:00,",
    ]
    path = tmp_path / "toggl.csv"
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    _out, err = run_import(guarded, str(path))
    assert error_lines(err) == [
        f"row 2, Start date: overlaps time entry {existing.pk}",
        "row 4, Start date: overlaps row 3",
    ]
    assert sorted(e[4] for e in entries(guarded)) == ["Touching", existing.description]


# --- the race ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_overlapping_creates_leave_one():
    administration = AdministrationFactory(name="Race")
    administration_update(
        administration=administration,
        actor=None,
        changes={"prevent_overlapping_entries": True},
    )
    person = member(administration, role="owner")
    token = TokenFactory(user=person)
    start = threading.Barrier(20)
    statuses: list[int] = []

    def write(minute: int) -> None:
        api = Api(administration, person, token)
        try:
            start.wait()
            begin = T0 + timedelta(minutes=minute)
            statuses.append(create(api, begin, begin + timedelta(hours=1)).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(minute,)) for minute in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [422] * 19
    assert TimeEntry.objects.filter(administration=administration).count() == 1
    assert Event.objects.filter(action="time_entry_created").count() == 1


def test_the_admin_turns_it_on_and_refuses_while_overlaps_exist(
    admin_client, administration, owner, freeze
):
    from tests.administrations.test_admin import INLINE_MANAGEMENT, errors

    freeze(NOW)
    first = make_entry(administration, owner, T0, 60)
    make_entry(administration, owner, T0 + timedelta(minutes=30), 60)
    form = {
        "name": "Acme",
        "currency": "EUR",
        "time_zone": "Europe/Amsterdam",
        "language": "nl",
        "country": "NL",
        "prevent_overlapping_entries": "on",
        **INLINE_MANAGEMENT,
    }
    page = f"/admin/administrations/administration/{administration.pk}/change/"
    refused = admin_client.post(page, form)
    assert errors(refused) == {
        "prevent_overlapping_entries": [
            "2 time entries overlap another entry of the same person; change or delete them first"
        ]
    }
    time_entry_delete(entry=first, actor=None)
    assert admin_client.post(page, form).status_code == 302
    administration.refresh_from_db()
    assert administration.prevent_overlapping_entries is True


# --- turning the setting on while a write is under way ------------------------------------------


def turn_on(administration) -> None:
    administration_update(
        administration=Administration.objects.get(pk=administration.pk),
        actor=None,
        changes={"prevent_overlapping_entries": True},
    )


@pytest.mark.parametrize("service", ["time_entry_create", "time_entries_create_bulk"])
def test_a_create_that_read_the_setting_as_off_just_before_it_was_turned_on_is_refused(
    make_api, administration, owner, freeze, monkeypatch, service
):
    """The view read the administration (setting off); the setting is turned on before the
    write begins: the write reads it afresh and refuses the overlap."""
    freeze(NOW)
    existing = make_entry(administration, owner, T0, 60)
    api = make_api(administration, owner)
    module = bulk if service == "time_entries_create_bulk" else services
    real = getattr(module, service)

    def late(**kwargs):
        assert kwargs["administration"].prevent_overlapping_entries is False
        turn_on(administration)
        return real(**kwargs)

    monkeypatch.setattr(module, service, late)
    if service == "time_entry_create":
        response = create(api, T0 + timedelta(minutes=30), T0 + timedelta(hours=2))
        assert response.status_code == 422
        assert response.json() == overlap(existing)
    else:
        body = {"started_at": iso(T0), "ended_at": iso(T0 + timedelta(hours=1)), "description": "W"}
        response = api.post("time_entries/bulk", {"time_entries": [body]})
        assert response.status_code == 200, response.content
        result = response.json()[0]
        assert (result["status"], result["error"]) == (422, overlap(existing)), result
    assert list(TimeEntry.objects.values_list("pk", flat=True)) == [existing.pk]


@pytest.mark.django_db(transaction=True)
def test_turning_the_setting_on_waits_for_a_create_under_way_and_counts_its_overlap(
    monkeypatch,
):
    """A create has read the setting (off) in its transaction and not yet written; the setting
    change waits for it (PostgreSQL: its FOR UPDATE waits for the create's FOR KEY SHARE;
    SQLite: for the write lock), then counts the overlap it wrote and refuses."""
    administration = AdministrationFactory(name="Race")
    person = member(administration, role="owner")
    token = TokenFactory(user=person)
    make_entry(administration, person, T0, 60)
    inside, release = threading.Event(), threading.Event()
    real_stop = services._stop_running_timer
    results: dict[str, object] = {}

    def paused_stop(**kwargs):
        inside.set()
        # Until the setting change is done, or (when it rightly waits for this write) a while.
        release.wait(2)
        return real_stop(**kwargs)

    def write() -> None:
        try:
            api = Api(administration, person, token)
            results["create"] = create(api, T0 + timedelta(minutes=30), T0 + timedelta(hours=2))
        finally:
            connections.close_all()

    def setting() -> None:
        try:
            turn_on(administration)
            results["setting"] = "on"
        except ValidationFailed as exc:
            results["setting"] = exc.errors
        finally:
            release.set()
            connections.close_all()

    monkeypatch.setattr(services, "_stop_running_timer", paused_stop)
    writer = threading.Thread(target=write)
    writer.start()
    assert inside.wait(10)
    changer = threading.Thread(target=setting)
    changer.start()
    writer.join()
    changer.join()
    assert results["create"].status_code == 201
    assert set(results["setting"]) == {"prevent_overlapping_entries"}
    administration.refresh_from_db()
    assert administration.prevent_overlapping_entries is False
    assert TimeEntry.objects.filter(administration=administration).count() == 2


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_overlapping_creates_through_a_real_server_leave_one(server_url):  # noqa: F811
    """The race above through Django's threaded WSGI server: one connection per request thread,
    as in production (see test_concurrent_writes)."""
    administration = AdministrationFactory(name="Race")
    turn_on(administration)
    person = member(administration, role="owner")
    token = TokenFactory(user=person)
    url = f"{server_url}/api/v2/{administration.pk}/time_entries.json"
    headers = {"Authorization": f"Bearer {token.secret}"}

    def send(session, minute: int):
        begin = T0 + timedelta(minutes=minute)
        body = {"started_at": iso(begin), "ended_at": iso(begin + timedelta(hours=1))}
        return session.post(url, json={"time_entry": {**body, "description": "W"}}, headers=headers)

    responses = all_at_once(20, send)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [422] * 19, [r.text[:200] for r in responses]
    assert TimeEntry.objects.filter(administration=administration).count() == 1
    assert Event.objects.filter(action="time_entry_created").count() == 1
