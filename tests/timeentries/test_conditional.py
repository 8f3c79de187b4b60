"""Conditional requests in both dialects: a strong ETag on a GET of one time entry, project or
contact, 304 for If-None-Match, and 412 for a PATCH, PUT or DELETE whose If-Match is stale."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections

from administrations.models import Contact, Project
from notes.models import Event
from tests.conftest import Api
from tests.expensicat_support import assert_error, ec_api
from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    ProjectFactory,
    TokenFactory,
    member,
)
from tests.timeentries.moneybird_support import make_entry
from tests.timeentries.test_concurrent_writes import all_at_once, server_url  # noqa: F401
from timeentries.models import TimeEntry

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STALE = {"error": "The record has changed since the version in If-Match"}
MB_ENTRY = {"started_at": "2026-03-02T09:00:00Z", "ended_at": "2026-03-02T10:00:00Z"}
EC_ENTRY = {"start_time": "2026-03-02T11:00:00Z", "end_time": "2026-03-02T12:00:00Z"}


@pytest.fixture
def mb(make_api, administration, owner):
    return make_api(administration, owner, scopes=("time_entries", "settings"))


@pytest.fixture
def ec(owner):
    return ec_api(owner)


@pytest.fixture
def entry(administration, owner):
    return make_entry(administration, owner, T0, 60, description="Design")


@pytest.fixture
def project(administration):
    return ProjectFactory(administration=administration, name="Website")


@pytest.fixture
def contact(administration):
    return ContactFactory(administration=administration, company_name="Foobar")


# (dialect, path of the record, body of a change, the model, the changed attribute)
def cases(entry, project, contact):
    return [
        ("mb", f"time_entries/{entry.pk}", {"time_entry": {"description": "New"}}, entry),
        ("mb", f"projects/{project.pk}", {"project": {"name": "New"}}, project),
        ("mb", f"contacts/{contact.pk}", {"contact": {"company_name": "New"}}, contact),
        ("ec", f"time-entries/{entry.pk}", {"description": "Newer"}, entry),
        ("ec", f"projects/{project.pk}", {"name": "Newer"}, project),
        ("ec", f"customers/{contact.pk}", {"name": "Newer"}, contact),
    ]


def snapshot():
    return (
        list(TimeEntry.objects.values()),
        list(Project.objects.values()),
        list(Contact.objects.values()),
        Event.objects.count(),
    )


def test_a_get_has_a_strong_etag_and_if_none_match_gives_304(mb, ec, entry, project, contact):
    for dialect, path, _, _record in cases(entry, project, contact):
        api = mb if dialect == "mb" else ec
        response = api.get(path)
        assert response.status_code == 200, (path, response.content)
        tag = response["ETag"]
        assert tag.startswith('"') and tag.endswith('"'), tag  # strong: no W/
        assert api.get(path)["ETag"] == tag  # stable while nothing changes
        not_modified = api.get(path, HTTP_IF_NONE_MATCH=tag)
        assert not_modified.status_code == 304, path
        assert not_modified.content == b""
        assert not_modified["ETag"] == tag
        # A list of tags, one of them current, and the weak form of it, match too.
        assert api.get(path, HTTP_IF_NONE_MATCH=f'"x", W/{tag}').status_code == 304
        assert api.get(path, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_the_tag_changes_with_every_change_and_is_the_same_in_both_dialects(mb, ec, entry):
    before = mb.get(f"time_entries/{entry.pk}")["ETag"]
    assert ec.get(f"time-entries/{entry.pk}")["ETag"] == before
    response = mb.patch(f"time_entries/{entry.pk}", {"time_entry": {"billable": False}})
    assert response.status_code == 200
    after = response["ETag"]
    assert after != before
    assert mb.get(f"time_entries/{entry.pk}")["ETag"] == after
    assert mb.get(f"time_entries/{entry.pk}", HTTP_IF_NONE_MATCH=before).status_code == 200


def test_a_created_entry_comes_with_its_tag_in_both_dialects(mb, ec):
    made = [
        (
            mb,
            "time_entries",
            mb.post("time_entries", {"time_entry": {**MB_ENTRY, "description": "Made"}}),
        ),
        (ec, "time-entries", ec.post("time-entries", {**EC_ENTRY, "description": "Made"})),
    ]
    for api, base, created in made:
        assert created.status_code == 201, created.content
        body = created.json()
        path = f"{base}/{(body.get('data') or body)['id']}"
        assert created["ETag"] == api.get(path)["ETag"]
        # The client that made it can change it conditionally without reading it first.
        change = {"description": "Then"} if api is ec else {"time_entry": {"description": "Then"}}
        assert api.patch(path, change, HTTP_IF_MATCH=created["ETag"]).status_code == 200
        assert api.patch(path, change, HTTP_IF_MATCH=created["ETag"]).status_code == 412


def test_a_stale_if_match_is_a_412_and_changes_nothing(mb, ec, entry, project, contact):
    for dialect, path, body, _ in cases(entry, project, contact):
        api = mb if dialect == "mb" else ec
        tag = api.get(path)["ETag"]
        stale = tag[:-2] + ('0"' if tag[-2] != "0" else '1"')
        before = snapshot()
        for method in ("patch", "delete") if dialect == "ec" else ("patch", "put", "delete"):
            if method == "delete":
                response = api.delete(path, HTTP_IF_MATCH=stale)
            else:
                call = getattr(api.client, method)
                response = call(api.url(path), body, format="json", HTTP_IF_MATCH=stale)
            if dialect == "mb":
                assert response.status_code == 412, (path, method, response.content)
                assert response.json() == {**STALE, "symbolic": {"If-Match": "mismatch"}}
            else:
                error = assert_error(response, 412, "PRECONDITION_FAILED")
                assert error["details"] == {"If-Match": ["does not match"]}
            assert response["ETag"] == tag
            assert snapshot() == before


def test_a_current_if_match_writes_and_the_same_tag_cannot_win_twice(
    mb, ec, entry, project, contact
):
    for dialect, path, body, _ in cases(entry, project, contact):
        api = mb if dialect == "mb" else ec
        tag = api.get(path)["ETag"]
        first = api.patch(path, body, HTTP_IF_MATCH=tag)
        assert first.status_code == 200, (path, first.content)
        assert first["ETag"] != tag
        assert first["ETag"] == api.get(path)["ETag"]
        # A second writer that read the same version loses.
        other = {
            k: ({**v, **{next(iter(v)): "Other"}} if isinstance(v, dict) else "Other")
            for k, v in body.items()
        }
        second = api.patch(path, other, HTTP_IF_MATCH=tag)
        assert second.status_code == 412, (path, second.content)


def test_if_match_star_and_no_header_write_as_before(mb, entry, project):
    response = mb.patch(
        f"time_entries/{entry.pk}", {"time_entry": {"description": "Star"}}, HTTP_IF_MATCH="*"
    )
    assert response.status_code == 200
    response = mb.patch(f"projects/{project.pk}", {"project": {"name": "Plain"}})
    assert response.status_code == 200


def test_a_delete_with_the_current_tag_deletes(mb, ec, administration, owner):
    first = make_entry(administration, owner, T0, 60)
    second = make_entry(administration, owner, T0.replace(hour=12), 60)
    tag = mb.get(f"time_entries/{first.pk}")["ETag"]
    assert mb.delete(f"time_entries/{first.pk}", HTTP_IF_MATCH=tag).status_code == 204
    tag = ec.get(f"time-entries/{second.pk}")["ETag"]
    assert ec.delete(f"time-entries/{second.pk}", HTTP_IF_MATCH=tag).status_code == 204
    assert not TimeEntry.objects.exists()


def test_if_match_on_another_administrations_record_is_a_404(mb, foreign):
    response = mb.patch(
        f"time_entries/{foreign.entry.pk}",
        {"time_entry": {"description": "X"}},
        HTTP_IF_MATCH='"1-1"',
    )
    assert response.status_code == 404
    assert mb.delete(f"time_entries/{foreign.entry.pk}", HTTP_IF_MATCH='"1-1"').status_code == 404


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_writers_with_the_same_tag_leave_one_winner():
    administration = AdministrationFactory(name="Race")
    person = member(administration, role="owner")
    token = TokenFactory(user=person)
    entry = make_entry(administration, person, T0, 60)
    tag = Api(administration, person, token).get(f"time_entries/{entry.pk}")["ETag"]
    start = threading.Barrier(10)
    statuses: list[int] = []

    def write(n: int) -> None:
        try:
            api = Api(administration, person, token)
            start.wait()
            response = api.patch(
                f"time_entries/{entry.pk}",
                {"time_entry": {"description": f"Writer {n}"}},
                HTTP_IF_MATCH=tag,
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [412] * 9
    assert Event.objects.filter(action="time_entry_updated").count() == 1


# --- stop and resume (Moneybird's PATCH routes of one entry) ----------------------------------


def stale_of(tag: str) -> str:
    return tag[:-2] + ('0"' if tag[-2] != "0" else '1"')


def test_stop_and_resume_with_a_stale_if_match_are_412_and_change_nothing(
    mb, administration, owner, freeze
):
    freeze(T0 + timedelta(hours=3))
    running = make_entry(administration, owner, T0, ended_at=None)
    stopped = make_entry(administration, owner, T0 - timedelta(hours=2), 60)
    for entry, action in ((running, "stop"), (stopped, "resume")):
        tag = mb.get(f"time_entries/{entry.pk}")["ETag"]
        events = Event.objects.filter(entity_id=entry.pk).count()
        response = mb.patch(f"time_entries/{entry.pk}/{action}", HTTP_IF_MATCH=stale_of(tag))
        assert response.status_code == 412, (action, response.content)
        assert response.json() == {**STALE, "symbolic": {"If-Match": "mismatch"}}
        assert mb.get(f"time_entries/{entry.pk}")["ETag"] == tag
        assert Event.objects.filter(entity_id=entry.pk).count() == events
    assert TimeEntry.objects.get(pk=running.pk).ended_at is None
    assert TimeEntry.objects.get(pk=stopped.pk).ended_at is not None


def test_stop_and_resume_with_the_current_if_match_write_and_give_the_new_tag(
    mb, administration, owner, freeze
):
    freeze(T0 + timedelta(hours=3))
    entry = make_entry(administration, owner, T0, ended_at=None)
    tag = mb.get(f"time_entries/{entry.pk}")["ETag"]
    # updated_at (hence the tag) follows the clock, which each write moves on.
    freeze(T0 + timedelta(hours=3, minutes=1))
    stopped = mb.patch(f"time_entries/{entry.pk}/stop", HTTP_IF_MATCH=tag)
    assert stopped.status_code == 200
    assert stopped.json()["ended_at"] is not None
    assert stopped["ETag"] != tag
    # The tag the stop answered with is the one a resume must name.
    assert mb.patch(f"time_entries/{entry.pk}/resume", HTTP_IF_MATCH=tag).status_code == 412
    freeze(T0 + timedelta(hours=3, minutes=2))
    resumed = mb.patch(f"time_entries/{entry.pk}/resume", HTTP_IF_MATCH=stopped["ETag"])
    assert resumed.status_code == 200, resumed.content
    assert resumed.json()["ended_at"] is None
    assert resumed["ETag"] == mb.get(f"time_entries/{entry.pk}")["ETag"]
    # Without If-Match they behave as before.
    assert mb.patch(f"time_entries/{entry.pk}/stop").status_code == 200


def test_if_match_on_another_administrations_stop_is_a_404(mb, foreign):
    for action in ("stop", "resume"):
        response = mb.patch(f"time_entries/{foreign.entry.pk}/{action}", HTTP_IF_MATCH='"1-1"')
        assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_ten_patches_with_the_same_tag_through_a_real_server_leave_one_winner(server_url):  # noqa: F811
    """The race above through Django's threaded WSGI server (see test_concurrent_writes)."""
    administration = AdministrationFactory(name="Race")
    person = member(administration, role="owner")
    token = TokenFactory(user=person)
    entry = make_entry(administration, person, T0, 60)
    tag = Api(administration, person, token).get(f"time_entries/{entry.pk}")["ETag"]
    url = f"{server_url}/api/v2/{administration.pk}/time_entries/{entry.pk}.json"
    headers = {"Authorization": f"Bearer {token.secret}", "If-Match": tag}

    def send(session, n: int):
        return session.patch(url, json={"time_entry": {"description": f"W{n}"}}, headers=headers)

    responses = all_at_once(10, send)
    assert sorted(r.status_code for r in responses) == [200] + [412] * 9
    assert Event.objects.filter(action="time_entry_updated").count() == 1
