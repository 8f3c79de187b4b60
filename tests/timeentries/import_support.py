"""Helpers for the import and export tests: running the commands, and reading what an
administration holds in plain terms (local times, names) so expectations read like the files."""

import io
from pathlib import Path
from zoneinfo import ZoneInfo

from django.core.management import call_command

from administrations.models import Administration, Contact, Membership, Project, User
from notes.models import Event
from timeentries.exports import contact_name
from timeentries.models import TimeEntry

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
AMS = ZoneInfo("Europe/Amsterdam")
TRACKED = (User, Membership, Project, Contact, TimeEntry, Event)


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def run(command: str, *args: str, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def run_import(administration: Administration, path: str, *args: str) -> tuple[str, str]:
    return run("import_time_entries", str(administration.pk), path, *args)


def summary(out: str) -> dict[str, str]:
    """The `key: value` lines of the import's summary."""
    lines = (line.partition(": ") for line in out.splitlines() if ": " in line)
    return {key: value for key, _, value in lines}


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TRACKED}


def local(value) -> str:
    return value.astimezone(AMS).strftime("%Y-%m-%d %H:%M") if value else ""


def entries(administration: Administration) -> list[tuple]:
    """(user email, local start, local end, pause, description, project, contact, billable) per
    entry, in start order."""
    queryset = (
        TimeEntry.objects.filter(administration=administration)
        .select_related("user", "project", "contact")
        .order_by("started_at", "description")
    )
    return [
        (
            e.user.email,
            local(e.started_at),
            local(e.ended_at),
            e.paused_duration,
            e.description,
            e.project.name if e.project else "",
            contact_name(e.contact),
            e.billable,
        )
        for e in queryset
    ]


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("row ")]
