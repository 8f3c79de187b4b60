from datetime import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    NoteFactory,
    ProjectFactory,
    member,
)
from tests.timeentries.moneybird_support import local, local_today, make_entry


@pytest.fixture
def freeze(monkeypatch):
    """freeze(aware_datetime): from then on "now" is that instant, for the views (today, the
    default period, resume) and for the services alike."""

    def set_now(instant: datetime) -> None:
        assert instant.tzinfo is not None
        monkeypatch.setattr(timezone, "now", lambda: instant)

    return set_now


@pytest.fixture
def contact(administration):
    return ContactFactory(administration=administration, company_name="Foobar Holding B.V.")


@pytest.fixture
def project(administration):
    return ProjectFactory(administration=administration, name="Project 1", budget=10)


@pytest.fixture
def colleague(administration):
    return member(administration, name="Edwin Vlieg")


@pytest.fixture
def foreign(db):
    """Another administration with its own owner, contact, project, entry and note."""

    administration = AdministrationFactory(name="Other")
    owner = member(administration, role="owner", name="Other owner")
    contact = ContactFactory(administration=administration)
    project = ProjectFactory(administration=administration)
    entry = make_entry(
        administration,
        owner,
        local(local_today(), 9),
        description="Foreign work",
        contact_id=contact.pk,
        project_id=project.pk,
    )
    note = NoteFactory(entity=entry, actor=owner, note="Foreign note")
    return SimpleNamespace(
        administration=administration,
        owner=owner,
        contact=contact,
        project=project,
        entry=entry,
        note=note,
    )
