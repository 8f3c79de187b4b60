"""Reading the change feed in tests."""

import time

from django.db import connection
from django.db.models import Max

from notes.models import Event

# How long `settled` waits at most. Not a timing assertion: a ceiling on waiting for other
# transactions on the same PostgreSQL server (other test runs) to end.
SETTLE_LIMIT_SECONDS = 120


def settled() -> None:
    """Wait until the feed may serve every event committed so far. On PostgreSQL the feed holds
    an event back while a transaction that began writing before it still runs, anywhere on the
    server (other databases' test runs included), so a test waits for those to end before it
    reads; on SQLite there is nothing to wait for."""
    if connection.vendor != "postgresql":
        return
    newest = Event.objects.aggregate(newest=Max("xact"))["newest"]
    if newest is None:
        return
    deadline = time.monotonic() + SETTLE_LIMIT_SECONDS
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            if cursor.fetchone()[0] > newest:
                return
            if time.monotonic() > deadline:
                raise AssertionError("a transaction older than the test's events never ended")
            time.sleep(0.02)
