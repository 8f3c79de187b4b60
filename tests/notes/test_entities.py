"""notes.entities renders any audited record exactly as a Moneybird GET of it answers."""

import pytest

from notes.entities import entity_rendering, entity_renderings
from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    NoteFactory,
    ProjectFactory,
    TimeEntryFactory,
)
from timeentries import services as time_entry_services

BASE = "http://testserver"


def test_time_entry_is_its_get(api, administration):
    entry = TimeEntryFactory(administration=administration, actor=api.user)
    NoteFactory(entity=entry, actor=api.user)
    response = api.get(f"time_entries/{entry.pk}")
    assert response.status_code == 200
    assert entity_rendering(administration, "TimeEntry", entry.pk) == response.json()


def test_contact_is_its_get(api, administration):
    contact = ContactFactory(administration=administration)
    response = api.get(f"contacts/{contact.pk}")
    assert response.status_code == 200
    rendering = entity_rendering(administration, "Contact", contact.pk, base_url=BASE)
    assert rendering == response.json()


def test_project_is_its_get(api, administration):
    project = ProjectFactory(administration=administration)
    response = api.get(f"projects/{project.pk}")
    assert response.status_code == 200
    assert entity_rendering(administration, "Project", project.pk) == response.json()


def test_user_is_its_list_item(api, administration):
    response = api.get("users")
    assert response.status_code == 200
    (listed,) = [u for u in response.json() if u["id"] == str(api.user.pk)]
    assert entity_rendering(administration, "User", api.user.pk) == listed


def test_gone_and_foreign_records_are_none(api, administration):
    entry = TimeEntryFactory(administration=administration, actor=api.user)
    foreign = TimeEntryFactory(administration=AdministrationFactory())
    gone = entry.pk
    time_entry_services.time_entry_delete(entry=entry, actor=api.user)
    assert entity_rendering(administration, "TimeEntry", gone) is None
    assert entity_rendering(administration, "TimeEntry", foreign.pk) is None
    assert entity_rendering(administration, "ApiToken", 1) is None


@pytest.mark.django_db
def test_batch_renders_each_kind_once(api, administration, django_assert_num_queries):
    entries = [TimeEntryFactory(administration=administration, actor=api.user) for _ in range(3)]
    project = ProjectFactory(administration=administration)
    wanted = [("TimeEntry", e.pk) for e in entries] + [("Project", project.pk), ("Contact", 1)]
    with django_assert_num_queries(3):
        rendered = entity_renderings(administration, wanted)
    assert set(rendered) == {("TimeEntry", e.pk) for e in entries} | {("Project", project.pk)}
    assert rendered[("TimeEntry", entries[0].pk)] == api.get(f"time_entries/{entries[0].pk}").json()
