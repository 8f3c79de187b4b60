"""common.postgresql: the health check of a persistent connection, without a round trip."""

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the check of a server's connection"
)


@pytest.fixture
def own(db):
    """A connection of its own (outside the test's transaction), as a server worker holds one
    between requests."""
    wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def terminate(wrapper) -> None:
    """What a server restart or an idle timeout does to the connection; returns once the
    server's process is gone."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(%s, 5000)", [wrapper.connection.info.backend_pid]
        )
        assert cursor.fetchone() == (True,)


def test_a_connection_waiting_for_its_next_statement_is_usable(own):
    assert own.is_usable()
    with own.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert own.is_usable()


def test_the_check_asks_the_server_nothing(own, monkeypatch):
    real = own.connection

    class Silent:
        def __getattr__(self, name):
            if name in ("cursor", "execute"):
                raise AssertionError("the health check sent a statement")
            return getattr(real, name)

    monkeypatch.setattr(own, "connection", Silent())
    assert own.is_usable()


def test_a_connection_the_server_dropped_is_not_usable(own):
    terminate(own)
    assert not own.is_usable()


def test_a_request_after_the_server_dropped_the_connection_gets_a_new_one(own):
    before = own.connection.info.backend_pid
    terminate(own)
    # What Django does at the start of a request and on its first query (CONN_HEALTH_CHECKS).
    own.close_if_unusable_or_obsolete()
    with own.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != before


def test_a_closed_connection_is_not_usable(own):
    own.connection.close()
    assert not own.is_usable()
