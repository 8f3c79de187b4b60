"""The hot paths of issue 12: the data APIs skip the browser's middleware, Expensicat's list takes
its page of ids first and reads only what it renders, and a compiled statement answers for the
values of each request."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import Api
from tests.expensicat_support import ec_api
from tests.factories import AdministrationFactory, TokenFactory, member
from tests.timeentries.moneybird_support import make_entry

START = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)


def test_the_data_apis_answer_without_a_session_and_the_admin_keeps_its_own(
    client, api, owner, admin_client
):
    # Even with a session cookie sent, the API neither reads nor renews a session.
    api.client.cookies["sessionid"] = "not-a-session"
    response = api.get("time_entries")
    assert response.status_code == 200
    # The session and messages middleware did not run for it.
    assert not hasattr(response.wsgi_request, "session")
    assert not hasattr(response.wsgi_request, "_messages")
    assert "Cookie" not in response.headers.get("Vary", "")
    assert not response.cookies
    response = ec_api(owner).get("time-entries")
    assert response.status_code == 200
    assert "Cookie" not in response.headers.get("Vary", "")
    # The admin and the sign-in pages still have sessions, CSRF and the session's user.
    assert admin_client.get("/admin/").status_code == 200
    login = client.get("/admin/login/")
    assert login.status_code == 200
    assert hasattr(login.wsgi_request, "session")
    assert "csrftoken" in login.cookies


def test_expensicat_list_takes_the_page_of_ids_first_and_reads_only_what_it_renders(
    administration, owner
):
    for n in range(3):
        make_entry(administration, owner, START + timedelta(hours=n))
    api = ec_api(owner)
    first = api.get("time-entries", {"limit": 2})
    assert first.status_code == 200, first.content
    cursor = first.json()["meta"]["next_cursor"]
    with CaptureQueriesContext(connection) as queries:
        second = api.get("time-entries", {"limit": 2, "cursor": cursor})
    assert second.status_code == 200, second.content
    assert [e["start_time"] for e in second.json()["data"]] == ["2024-03-04T09:00:00.000Z"]
    (page,) = [q["sql"] for q in queries.captured_queries if "timeentries_timeentry" in q["sql"]]
    # The page's rows come from a subquery with the keyset predicate, the order and the LIMIT;
    # the joins are applied to those rows only.
    inner = page[page.index("(SELECT * FROM") : page.index(") t JOIN")]
    assert "LIMIT" in inner and "ORDER BY" in inner and "started_at" in inner
    assert "LIMIT" not in page.replace(inner, "")
    assert "password" not in page
    assert '"administrations_contact"."email"' not in page


def test_a_compiled_get_answers_for_each_request_its_own_entry_and_caller(administration, owner):
    colleague = member(administration)
    mine = make_entry(administration, owner, START)
    theirs = make_entry(administration, colleague, START + timedelta(hours=2))
    owner_api, colleague_api = ec_api(owner), ec_api(colleague)
    assert owner_api.get(f"time-entries/{mine.pk}").json()["data"]["id"] == str(mine.pk)
    assert owner_api.get(f"time-entries/{theirs.pk}").json()["data"]["id"] == str(theirs.pk)
    # A member sees only their own, through the other compiled shape.
    assert colleague_api.get(f"time-entries/{theirs.pk}").status_code == 200
    assert colleague_api.get(f"time-entries/{mine.pk}").status_code == 404
    assert owner_api.get("time-entries/1").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_request_runs_no_health_check_and_survives_a_connection_broken_meanwhile():
    administration = AdministrationFactory()
    token = TokenFactory(user=member(administration, role="owner"), administration=administration)
    api = Api(administration, token.user, token)
    assert api.get("time_entries/1").status_code == 404  # the connection is open now
    # What Django does when a request begins on a connection kept from an earlier one.
    connection.close_if_unusable_or_obsolete()
    # Django's check (its SELECT 1 is not logged) did not run: the credential's statement
    # came first.
    with (
        mock.patch.object(connection, "is_usable", wraps=connection.is_usable) as checked,
        CaptureQueriesContext(connection) as queries,
    ):
        assert api.get("time_entries/1").status_code == 404
    assert checked.call_count == 0
    assert "administrations_apitoken" in queries.captured_queries[0]["sql"]
    if connection.vendor != "postgresql":
        return
    # The server ends the connection between two requests (a restart, an idle timeout).
    pid = connection.connection.info.backend_pid
    with psycopg.connect(**_conninfo(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    connection.close_if_unusable_or_obsolete()
    assert api.get("time_entries/1").status_code == 404
    assert connection.connection.info.backend_pid != pid


def _conninfo() -> dict:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return params


def test_a_sent_response_is_freed_without_the_cyclic_collector(administration, owner, token):
    """A page or a report is freed as soon as its response has been sent: not kept by the view
    (DRF's dispatch does) nor by DRF's response itself (its renderer context), which would put
    it in a reference cycle that only the cyclic collector frees, long after."""
    import gc
    import io

    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from django.http import HttpResponseBase

    for n in range(3):
        make_entry(administration, owner, START + timedelta(hours=n))
    app = WSGIHandler()
    base = f"/api/v2/{administration.pk}/time_entries"
    requests = [
        (base, ""),  # json_response, a list
        (f"{base}/report.json", "group_by=project"),  # DRF's Response
        ("/api/v1/time-entries", "limit=2"),
    ]

    def get(path: str, query: str) -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "HTTP_HOST": "testserver",
            "HTTP_AUTHORIZATION": f"Bearer {token.secret}",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": io.StringIO(),
        }
        statuses: list[str] = []
        response = app(environ, lambda status, headers, *_: statuses.append(status))
        b"".join(response)
        response.close()
        assert statuses == ["200 OK"], (path, statuses)

    # As Django's test client does: the test's transaction keeps its connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    gc.collect()
    gc.disable()
    try:
        for path, query in requests:
            get(path, query)
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage if isinstance(o, HttpResponseBase)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert left == []
