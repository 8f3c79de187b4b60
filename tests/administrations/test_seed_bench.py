"""seed_bench, the benchmark's data loader, and bench/twin.py, the benchmark's yardstick: the
loader writes what the services would (ids, events) deterministically, and the twin answers the
same bytes as our API. Both need PostgreSQL (COPY, the twin's SQL)."""

import io
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Count
from rest_framework.test import APIClient

from administrations.models import Administration, Membership, User
from administrations.services import token_create
from notes.models import Event, Note
from notes.services import note_create
from timeentries.models import TimeEntry

POSTGRESQL = connection.vendor == "postgresql"
needs_postgresql = pytest.mark.skipif(not POSTGRESQL, reason="seed_bench loads with COPY")
TODAY = "2026-01-15"


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_bench", *args, stdout=out)
    return out.getvalue()


def fingerprint() -> list[tuple]:
    return list(
        TimeEntry.objects.order_by("id").values_list(
            "id", "administration_id", "user_id", "started_at", "description", "sales_invoice_id"
        )
    )


@pytest.mark.skipif(POSTGRESQL, reason="the SQLite refusal")
@pytest.mark.django_db
def test_seed_bench_refuses_sqlite():
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        seed("--entries", "10", "--administrations", "1")


@needs_postgresql
@pytest.mark.django_db
def test_seed_bench_loads_rows_with_unique_ids_and_their_events():
    output = seed("--entries", "600", "--administrations", "4", "--seed", "7", f"--today={TODAY}")

    assert "timeentries_timeentry: 600 rows" in output
    assert Administration.objects.count() == 4
    assert TimeEntry.objects.count() == 600
    for administration in Administration.objects.all():
        roles = list(administration.memberships.values_list("role", flat=True))
        assert 3 <= len(roles) <= 30 and roles.count("owner") == 1
    # No timers run, nothing starts after --today, and each entry ends after it starts.
    assert not TimeEntry.objects.filter(ended_at=None).exists()
    assert not TimeEntry.objects.filter(started_at__gte=datetime(2026, 1, 15, tzinfo=UTC)).exists()

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*), count(DISTINCT id), min(id), max(id) FROM (
                SELECT id FROM administrations_administration UNION ALL
                SELECT id FROM administrations_user UNION ALL
                SELECT id FROM administrations_membership UNION ALL
                SELECT id FROM administrations_contact UNION ALL
                SELECT id FROM administrations_project UNION ALL
                SELECT id FROM invoices_salesinvoice UNION ALL
                SELECT id FROM timeentries_timeentry UNION ALL
                SELECT id FROM notes_event UNION ALL
                SELECT id FROM notes_note) ids
            """
        )
        count, distinct, smallest, largest = cursor.fetchone()
    assert count == distinct
    assert smallest > 0 and largest < 2**63

    created = Event.objects.filter(action="time_entry_created", subject_type="TimeEntry")
    assert created.count() == 600
    events = {e.entity_id: e for e in created}
    for entry in TimeEntry.objects.all():
        event = events[entry.pk]
        assert (event.administration_id, event.user_id) == (entry.administration_id, entry.user_id)
        assert event.created_at == entry.created_at
    # Ids are time-ordered: the id's milliseconds are the row's creation time.
    entry = TimeEntry.objects.order_by("?").first()
    assert (entry.pk >> 22) + 1_640_995_200_000 == int(entry.created_at.timestamp() * 1000)
    for note in Note.objects.all():
        assert Event.objects.filter(
            action="note_created", entity_id=note.entity_id, link_entity_id=note.pk
        ).exists()

    with pytest.raises(CommandError, match="already has administrations"):
        seed("--entries", "10", "--administrations", "1")


@needs_postgresql
@pytest.mark.django_db
def test_seed_bench_is_deterministic():
    runs = []
    for _ in range(2):
        with transaction.atomic():
            seed("--entries", "300", "--administrations", "3", "--seed", "3", f"--today={TODAY}")
            runs.append(fingerprint())
            transaction.set_rollback(True)
    assert runs[0] == runs[1]
    assert len(runs[0]) == 300


# --- the twin -----------------------------------------------------------------------------------


def call_twin(app, path: str, query: str, secret: str) -> tuple[int, dict, bytes]:
    answer = {}
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_AUTHORIZATION": f"Bearer {secret}",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
    }
    body = b"".join(app(environ, lambda status, headers: answer.update(s=status, h=headers)))
    return int(answer["s"].split()[0]), dict(answer["h"]), body


@needs_postgresql
@pytest.mark.django_db
def test_the_twin_answers_our_bytes():
    from bench.twin import App

    today = datetime.now(UTC).date()
    seed("--entries", "400", "--administrations", "2", "--seed", "5", f"--today={today}")
    administration = Administration.objects.annotate(n=Count("time_entries")).order_by("-n").first()
    owner = Membership.objects.get(administration=administration, role="owner").user
    entries = TimeEntry.objects.filter(administration=administration).order_by("-started_at")
    # A to-do with an assignee, through the service, next to the loader's plain notes.
    assignee = User.objects.filter(memberships__administration=administration).last()
    note_create(
        administration=administration,
        actor=owner,
        entity=entries[0],
        note="Nabellen",
        assignee_id=assignee.pk,
    )
    _, secret = token_create(user=owner, administration=administration)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    connection.ensure_connection()
    twin = App(connection=connection.connection)

    first = entries.last().started_at.date() - timedelta(days=1)
    period = f"{first:%Y%m%d}..{today:%Y%m%d}"
    contact_id = entries.exclude(contact=None).first().contact_id
    base = f"/api/v2/{administration.pk}/time_entries.json"
    requests = [
        (base, "per_page=100"),
        (base, ""),
        (base, "per_page=7&page=3&filter=state:open%7Cnon_billable"),
        (base, f"per_page=100&filter=contact_id:{contact_id},include_nil_contacts:true"),
        (base, "query=design&filter=period:this_year"),
        (f"/api/v2/{administration.pk}/time_entries/{entries[0].pk}.json", ""),
    ] + [(base, f"per_page=100&page={n}&filter=period:{period}") for n in range(1, 6)]
    report = f"/api/v2/{administration.pk}/time_entries/report.json"
    requests += [
        (report, f"group_by=project,week&filter=period:{period}"),
        (report, ""),
        (report, "group_by=user,day&time_zone=America/New_York&filter=period:this_year"),
        (report, "group_by=contact,billable&query=design"),
        (report, f"group_by=week,month&week_start=sunday&filter=period:{period}"),
        (report, f"group_by=year&filter=period:{period},state:open"),
    ]
    shown = 0
    for path, query in requests:
        ours = client.get(f"{path}?{query}")
        status, headers, body = call_twin(twin, path, query, secret)
        assert (status, body) == (ours.status_code, ours.content), (path, query)
        assert headers.get("X-Total-Count") == ours.headers.get("X-Total-Count")
        assert headers.get("Link") == ours.headers.get("Link")
        shown += len(orjson.loads(body)) if query.startswith("per_page=100&page=") else 0
    assert shown == entries.count()

    cursor = ""
    for _ in range(5):  # Expensicat: every cursor page of the administration
        query = f"limit=100{cursor}"
        ours = client.get(f"/api/v1/time-entries?{query}")
        status, _, body = call_twin(twin, "/api/v1/time-entries", query, secret)
        assert (status, body) == (ours.status_code, ours.content)
        next_cursor = orjson.loads(body)["meta"]["next_cursor"]
        if next_cursor is None:
            break
        cursor = f"&cursor={next_cursor}"
    assert next_cursor is None
