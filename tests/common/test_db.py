"""common.db.insert_rows (COPY's text format on PostgreSQL) and the import's key probe."""

from contextlib import nullcontext
from datetime import UTC, datetime

import pytest
from django.db import DataError, transaction

from common.db import insert_rows
from common.ids import new_id
from notes.models import Event
from timeentries.models import TimeEntry
from timeentries.selectors import imported_keys

AWKWARD = 'tab\there, new\nline, CR\r, back\\slash \\N, "quotes", Überstunden ✓'


@pytest.fixture
def user(administration, owner):
    return owner


def test_insert_rows_keeps_awkward_text_and_json_exactly(administration, user):
    entry_id = new_id()
    started = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    with transaction.atomic():
        insert_rows(
            TimeEntry,
            [
                {
                    "id": entry_id,
                    "administration_id": administration.pk,
                    "user_id": user.pk,
                    "started_at": started,
                    "ended_at": started.replace(hour=9),
                    "paused_duration": 0,
                    "description": AWKWARD,
                    "billable": False,
                    "contact_id": None,
                    "import_source": "test",
                    "import_key": "k\\1",
                    "created_at": None,  # as save() would: now
                }
            ],
        )
        insert_rows(
            Event,
            [
                {
                    "id": new_id(),
                    "administration_id": administration.pk,
                    "action": "time_entry_created",
                    "subject_type": "time_entry",
                    "entity_id": entry_id,
                    "data": {"text": AWKWARD, "nested": [1, None, True], 7: "seven"},
                }
            ],
        )
    entry = TimeEntry.objects.get(pk=entry_id)
    assert entry.description == AWKWARD
    assert entry.billable is False and entry.contact_id is None
    assert entry.started_at == started
    assert entry.created_at is not None and entry.updated_at is not None
    event = Event.objects.get(entity_id=entry_id)
    assert event.data == {"text": AWKWARD, "nested": [1, None, True], "7": "seven"}
    assert imported_keys(administration, "test", ["k\\1", "k\\2", ""]) == {"k\\1"}
    assert imported_keys(administration, "other", ["k\\1"]) == set()


def test_server_cursors_load_timestamps_as_django_does(administration, user):
    """common.db.server_cursor (and so Prepared and the hot reads) loads timestamps with
    psycopg's C loader where it can: the same aware datetimes in UTC as Django's cursors."""
    from django.db import connection

    from common.db import server_cursor, timestamps_in_c

    moments = [
        datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1900, 1, 1, tzinfo=UTC),
        datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ]
    sql = "SELECT %s::timestamptz" if connection.vendor == "postgresql" else "SELECT %s"
    for moment in moments:
        with connection.cursor() as django_cursor:
            django_cursor.execute(sql, [moment])
            (expected,) = django_cursor.fetchone()
        with server_cursor() as cursor:
            cursor.execute(sql, [moment])
            (loaded,) = cursor.fetchone()
        assert loaded == expected
        if connection.vendor == "postgresql":
            assert loaded == moment and loaded.tzinfo is UTC
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with connection.connection.cursor() as raw:
            assert timestamps_in_c(connection, raw)
            loader = raw.adapters.get_loader(raw.adapters.types["timestamptz"].oid, 0)
            assert loader.__module__ == "psycopg_binary._psycopg"


@pytest.mark.parametrize("logged", [False, True])
def test_a_binary_server_cursor_loads_what_the_text_format_loads(db, logged):
    """server_cursor(binary=True), as timeentries.rows reads: the values its statements send
    (text, integers of each width, booleans, floats, NULL) come back as the same Python values
    in both formats, whether the cursor is the kept one or a logged one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from common.db import server_cursor

    casts = ("::text", "::bigint", "::integer", "::smallint", "::boolean", "::float8", "::text")
    values = ["snow ☃ \\ 'q'", 2**62 + 5, -(2**31), 7, True, 0.1 + 0.2, None]
    if connection.vendor == "postgresql":
        sql = "SELECT " + ", ".join(f"%s{cast}" for cast in casts)
    else:
        sql = "SELECT " + ", ".join(["%s"] * len(values))
    answers = []
    for binary in (False, True):
        captured = CaptureQueriesContext(connection) if logged else nullcontext()
        with captured, server_cursor(binary=binary) as cursor:
            cursor.execute(sql, values)
            answers.append(cursor.fetchone())
    assert answers[0] == answers[1]
    assert [type(value) for value in answers[1]] == [type(value) for value in answers[0]]
    if connection.vendor == "postgresql":
        assert list(answers[1]) == values


def test_kept_cursors_are_used_again_replaced_after_a_reconnect_and_logged_when_asked(
    transactional_db,
):
    """server_cursor and client_cursor keep one cursor per connection: the same one for the
    next statement, a new one once Django has reconnected; while queries are captured, every
    statement gets Django's logging cursor instead, and is captured."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from common.db import client_cursor, server_cursor

    if connection.vendor != "postgresql":
        with server_cursor() as cursor:  # Django's own cursor elsewhere
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
        return
    for make, sql in ((server_cursor, "SELECT %s::int"), (client_cursor, "SELECT %s::int")):
        with make() as first:
            first.execute(sql, [1])
            assert first.fetchone() == (1,)
        with make() as again:
            again.execute(sql, [2])
            assert again.fetchall() == [(2,)]
        assert again is first
        # An error leaves the kept cursor usable once the transaction is rolled back.
        with pytest.raises(DataError), transaction.atomic(), make() as failing:
            failing.execute("SELECT 1 / %s::int", [0])
        with make() as after_error:
            after_error.execute(sql, [3])
            assert after_error.fetchone() == (3,)
        connection.close()
        with make() as fresh:
            fresh.execute(sql, [4])
            assert fresh.fetchone() == (4,)
        assert fresh is not first and fresh.raw.connection is connection.connection
        with CaptureQueriesContext(connection) as captured, make() as logged:
            logged.execute(sql, [5])
            assert logged.fetchone() == (5,)
        assert logged is not fresh
        assert [q["sql"] for q in captured.captured_queries] == ["SELECT 5::int"]
