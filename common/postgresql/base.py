"""Django's PostgreSQL backend with a health check that needs no round trip (settings name it
as the ENGINE for every postgres:// DATABASE_URL).

CONN_HEALTH_CHECKS keeps a persistent connection from failing the first query of a request after
the server dropped it (a restart, an idle timeout, pg_terminate_backend). Django checks by
running `SELECT 1` before each request's first query: one more round trip to the server for
every request that does not begin with an API token's read (which stands in for the check:
common.db.checked_by_running), i.e. for session JWTs, OAuth2 tokens, the admin and the sign-in
pages. Here the check looks at the connection instead: a connection that waits for its next
statement has nothing to read from the server, so anything readable (the server's goodbye, or
the end of the stream) or a socket libpq already knows to be broken means it is not usable, and
Django reconnects as it would after a failed `SELECT 1`. A notice or a parameter change the
server sends an idle connection also makes it readable: that costs a reconnect, never an error.
"""

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq


def _readable(fd: int) -> bool:
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])


# Waiting for the next statement, in a transaction or not.
_WAITING = (pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS)


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        pgconn = self.connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        if pgconn.transaction_status not in _WAITING:
            # A query still running, or a failed transaction: `SELECT 1` would fail there too.
            return False
        try:
            return not _readable(pgconn.socket)
        except (OSError, psycopg.Error):  # no socket any more
            return False
