"""The hot reads of timeentries/rows.py (both dialects' list and get by id): the bytes they
answer are those the model-instance renderers give for the same entries, on SQLite and on
PostgreSQL alike (each run of this file compares one database against the same Python
renderings); one statement per query, whatever the page size; the SQL text built once per
shape and reused."""

from datetime import UTC, date, datetime, timedelta

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.conditional import record_tag
from common.pagination import CursorPage
from tests.conftest import Api
from tests.expensicat_support import ec_api
from tests.factories import (
    ContactFactory,
    NoteFactory,
    ProjectFactory,
    SalesInvoiceFactory,
    TokenFactory,
    member,
)
from tests.timeentries.moneybird_support import AMS, make_entry
from timeentries import rows, services
from timeentries.api import expensicat as expensicat_api
from timeentries.api import moneybird as moneybird_api
from timeentries.models import TimeEntry
from timeentries.selectors import time_entries_of, time_entries_visible, with_details

NOW = datetime(2025, 3, 12, 15, 45, 30, 123456, tzinfo=UTC)


@pytest.fixture
def varied(administration, owner, freeze):
    """Entries with every kind of value the renderings format: a contact known only by its
    person's name, a project with a rate and a customer, an invoice with and without dates, a
    member without a name, a running entry, pauses, updates (events with data), notes (a
    completed to-do, text with quotes and umlauts)."""
    freeze(NOW - timedelta(days=1))
    nameless = member(administration, name="")
    person = ContactFactory(
        administration=administration, company_name="", firstname="Jan", lastname="Jansen"
    )
    company = ContactFactory(administration=administration, company_name='Zoë "Q" & Co')
    project = ProjectFactory(
        administration=administration,
        name="Ontwerp",
        budget=40,
        hourly_rate="12.50",
        contact_id=company.pk,
    )
    bare = ProjectFactory(administration=administration, name="Intern")
    sent = SalesInvoiceFactory(
        administration=administration,
        contact_id=company.pk,
        state="open",
        invoice_id="2025-0007",
        invoice_date=date(2025, 2, 28),
        due_date=date(2025, 3, 14),
    )
    draft = SalesInvoiceFactory(administration=administration)
    day = datetime(2025, 3, 10, 9, 0, tzinfo=AMS)
    entries = [
        make_entry(administration, owner, day, description="Plain"),
        make_entry(
            administration,
            nameless,
            day + timedelta(hours=2),
            minutes=95,
            description='Ünïcode "quoted" \\ work',
            contact_id=person.pk,
            project_id=project.pk,
            paused_duration=600,
        ),
        make_entry(
            administration,
            owner,
            day + timedelta(hours=4),
            contact_id=company.pk,
            project_id=bare.pk,
            sales_invoice_id=sent.pk,
            billable=True,
        ),
        make_entry(
            administration,
            owner,
            day + timedelta(days=1),
            sales_invoice_id=draft.pk,
            billable=False,
        ),
        # Two at the same instant: the id decides their order.
        make_entry(administration, owner, day + timedelta(days=1, hours=3), description="Twin A"),
        make_entry(administration, owner, day + timedelta(days=1, hours=3), description="Twin B"),
    ]
    services.time_entry_update(
        entry=entries[1], actor=owner, changes={"description": "Ünïcode, changed"}
    )
    services.time_entry_update(entry=entries[0], actor=owner, changes={"billable": False})
    note = NoteFactory(entity=entries[1], actor=owner, note='A "note" with ü and ß')
    NoteFactory(entity=entries[1], actor=owner, note="Second", todo=True)
    NoteFactory(entity=entries[2], actor=nameless, note="By the member")
    running = services.time_entry_create(
        administration=administration,
        actor=owner,
        user_id=owner.pk,
        started_at=NOW - timedelta(hours=3, seconds=7),
        description="Still running",
    )
    freeze(NOW)
    return {"entries": [*entries, running], "note": note}


def moneybird_reference(administration, *, sales_invoices: bool) -> bytes:
    """The list as the model-instance renderer renders it."""
    entries = with_details(time_entries_of(administration)).order_by("-started_at", "id")
    return orjson.dumps(
        [moneybird_api.render_time_entry(e, sales_invoices=sales_invoices) for e in entries]
    )


def expensicat_reference(entries) -> list[dict]:
    return [expensicat_api.render_time_entry(e, now=NOW) for e in entries]


@pytest.mark.parametrize("scopes", [("time_entries", "sales_invoices"), ("time_entries",)])
def test_moneybird_list_and_get_answer_what_the_instance_renderer_gives(
    make_api, administration, owner, varied, scopes
):
    api = make_api(administration, owner, scopes=scopes)
    shown = "sales_invoices" in scopes
    response = api.get("time_entries.json", {"filter": "period:202501..202512,include_active:true"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["X-Total-Count"] == "7"
    assert response.content == moneybird_reference(administration, sales_invoices=shown)

    for entry in varied["entries"]:
        response = api.get(f"time_entries/{entry.pk}.json")
        assert response.status_code == 200
        instance = with_details(time_entries_of(administration)).get(pk=entry.pk)
        assert response.content == orjson.dumps(
            moneybird_api.render_time_entry(instance, sales_invoices=shown)
        )
        assert response["ETag"] == record_tag(instance)


def test_expensicat_list_and_get_answer_what_the_instance_renderer_gives(
    administration, owner, varied
):
    ec = ec_api(owner)
    entries = list(
        time_entries_of(administration)
        .select_related(*expensicat_api.RELATED)
        .order_by("-started_at", "id")
    )
    first = ec.get("time-entries", {"limit": 4})
    body = orjson.loads(first.content)
    assert body["data"] == expensicat_reference(entries[:4])
    assert first.content == orjson.dumps(body)  # compact, as orjson writes it
    rest = ec.get("time-entries", {"limit": 4, "cursor": body["meta"]["next_cursor"]})
    assert rest.content == orjson.dumps(
        {"data": expensicat_reference(entries[4:]), "meta": {"count": 3, "next_cursor": None}}
    )
    # The cursor is the one the queryset keyset encodes for the page's last row.
    assert body["meta"]["next_cursor"] == expensicat_api.KEYSET.encode(entries[3])

    for entry in entries:
        response = ec.get(f"time-entries/{entry.pk}")
        assert response.content == orjson.dumps({"data": expensicat_reference([entry])[0]})
        assert response["ETag"] == record_tag(entry)


def test_the_running_entry_counts_up_to_now_to_the_microsecond(administration, owner, freeze):
    start = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)
    freeze(start)
    entry = services.time_entry_create(
        administration=administration,
        actor=owner,
        user_id=owner.pk,
        started_at=start,
        description="Running",
        paused_duration=60,
    )
    ec = ec_api(owner)
    for elapsed, duration in ((timedelta(seconds=59.999999), 0), (timedelta(seconds=121), 61)):
        freeze(entry.started_at + elapsed)
        assert ec.get(f"time-entries/{entry.pk}").json()["data"]["duration"] == duration
        assert ec.get("time-entries").json()["data"][0]["duration"] == duration


# --- statements -----------------------------------------------------------------------------


def _many(administration, owner, n: int) -> None:
    day = datetime(2025, 3, 10, 8, 0, tzinfo=AMS)
    project = ProjectFactory(administration=administration)
    for i in range(n):
        entry = make_entry(
            administration, owner, day + timedelta(minutes=3 * i), minutes=2, project_id=project.pk
        )
        NoteFactory(entity=entry, actor=owner)


@pytest.fixture
def thirty(administration, owner, freeze):
    freeze(datetime(2025, 3, 12, 12, 0, tzinfo=UTC))
    _many(administration, owner, 30)


def _statements(call) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, response.content
    return [query["sql"] for query in captured.captured_queries]


@pytest.fixture
def bound(administration, owner):
    """A token bound to the administration: its one statement brings the administration and
    the role along (administrations/auth.py)."""
    token = TokenFactory(user=owner, scopes=("time_entries",), administration=administration)
    return Api(administration, owner, token)


def test_a_moneybird_list_is_the_credential_the_count_and_the_page_at_any_size(
    bound, administration, thirty
):
    api = bound
    seen = {}
    for per_page in (1, 30):
        seen[per_page] = _statements(lambda n=per_page: api.get("time_entries", {"per_page": n}))
    assert len(seen[1]) == len(seen[30]) == 3
    count, page = seen[30][1], seen[30][2]
    assert count.startswith("SELECT COUNT(*) FROM (SELECT 1 FROM")
    table = TimeEntry._meta.db_table
    assert (
        page.startswith("SELECT ") and f"(SELECT * FROM {connection.ops.quote_name(table)}" in page
    )


def test_the_gets_and_expensicat_pages_are_one_statement_after_the_credential(
    bound, administration, owner, thirty
):
    entry = time_entries_of(administration).first()
    ec = ec_api(owner, administration=administration)  # bound: the role comes with the token
    assert len(_statements(lambda: bound.get(f"time_entries/{entry.pk}"))) == 2
    assert len(_statements(lambda: ec.get(f"time-entries/{entry.pk}"))) == 2
    for limit in (1, 30):
        assert len(_statements(lambda n=limit: ec.get("time-entries", {"limit": n}))) == 2
    cursor = ec.get("time-entries", {"limit": 5}).json()["meta"]["next_cursor"]
    assert len(_statements(lambda: ec.get("time-entries", {"limit": 5, "cursor": cursor}))) == 2


def test_a_shape_is_built_once_and_values_only_change_its_parameters(
    bound, administration, owner, thirty
):
    api = bound
    contacts = [ContactFactory(administration=administration) for _ in range(2)]
    for contact, pks in zip(contacts, ([0, 1], [2]), strict=True):
        entries = time_entries_of(administration).order_by("id")
        TimeEntry.objects.filter(pk__in=[entries[i].pk for i in pks]).update(contact=contact)
    api.get("time_entries", {"filter": f"contact_id:{contacts[0].pk}"})  # may build the shape
    built = rows.STATEMENTS.built
    for contact in contacts:
        statements = _statements(
            lambda c=contact: api.get("time_entries", {"filter": f"contact_id:{c.pk}"})
        )
        assert len(statements) == 3
    assert rows.STATEMENTS.built == built  # the second contact reused the first one's text
    # Another shape (a filter key more) is a text of its own (its count and its page), built
    # once.
    project = time_entries_of(administration).first().project_id
    made = []
    for contact in contacts:
        filter_ = f"contact_id:{contact.pk},project_id:{project}"
        response = api.get("time_entries", {"filter": filter_})
        assert response.status_code == 200 and response.json()
        made.append(rows.STATEMENTS.built)
    assert made[0] in (built, built + 2) and made[1] == made[0]


@pytest.mark.parametrize("sees_everyone", [True, False])
def test_an_unfiltered_expensicat_page_binds_its_values_into_a_where_compiled_once(
    administration, owner, thirty, sees_everyone
):
    """The list without filters takes its WHERE from a shape compiled once (rows.WhereShape):
    with any values it is the WHERE the ORM compiles for the same queryset, and a member's
    page holds only their own entries."""
    someone = member(administration)
    make_entry(administration, someone, datetime(2025, 3, 11, 9, 0, tzinfo=AMS))
    entries = list(time_entries_of(administration).order_by("-started_at", "id"))
    shape = expensicat_api._UNFILTERED[sees_everyone, True]
    for user, row in ((owner, entries[3]), (someone, entries[20])):
        after = (row.started_at, row.pk)
        visible = time_entries_visible(administration, user, sees_everyone=sees_everyone)
        expected = rows.where_of(
            expensicat_api.KEYSET.narrowed(visible, CursorPage(limit=1, after=after))
        )
        own = () if sees_everyone else (user.pk,)
        assert shape(administration.pk, *own, *after) == expected
    # Through the API: an owner pages through everyone's entries, a member only their own.
    caller = owner if sees_everyone else someone
    seen, cursor = [], None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        body = ec_api(caller).get("time-entries", params).json()
        seen += [entry["id"] for entry in body["data"]]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break
    mine = [e for e in entries if sees_everyone or e.user_id == someone.pk]
    assert seen == [str(e.pk) for e in mine]


def test_a_where_shape_refuses_a_value_that_does_not_reach_the_sql(administration):
    shape = rows.WhereShape(lambda administration_id: time_entries_of(administration.pk), "id")
    with pytest.raises(rows.ShapeRefused):
        shape(administration.pk)


@pytest.mark.parametrize(
    ("accept", "status"),
    [(None, 200), ("*/*", 200), ("application/json", 200), ("text/html", 406), ("text/csv", 406)],
)
def test_both_dialects_negotiate_as_drf_does(api, owner, accept, status):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    for response in (
        api.get("time_entries", **headers),
        ec_api(owner).get("time-entries", **headers),
    ):
        assert response.status_code == status, response.content
        assert response["Content-Type"] == "application/json"
    # A format asked for in the query: JSON is served, an unknown one is not found.
    assert api.get("time_entries", {"format": "json"}).status_code == 200
    assert api.get("time_entries", {"format": "xml"}).status_code == 404


def test_a_list_builds_its_filter_once_per_filter_administration_and_day(
    bound, administration, thirty, freeze, monkeypatch
):
    """moneybird.listed_where keeps a list's WHERE by everything it is made of: paging with
    the same filter builds no filter set again; another filter, another day (periods move) or
    a bad filter (never kept) does."""
    built = []
    original = moneybird_api.TimeEntryFilterSet.from_string

    def counted(*args, **kwargs):
        built.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(moneybird_api.TimeEntryFilterSet, "from_string", counted)
    moneybird_api._LISTED_WHERES.clear()
    api = bound
    pages = [api.get("time_entries", {"per_page": 10, "page": n}).json() for n in (1, 2, 3)]
    assert built == [None]
    assert [len(page) for page in pages] == [10, 10, 10]
    assert len({entry["id"] for page in pages for entry in page}) == 30
    assert api.get("time_entries", {"filter": "period:this_week"}).status_code == 200
    assert api.get("time_entries", {"filter": "period:this_week"}).status_code == 200
    assert built == [None, "period:this_week"]
    for _ in range(2):
        assert api.get("time_entries", {"filter": "period:nonsense"}).status_code == 400
    assert built == [None, "period:this_week", "period:nonsense", "period:nonsense"]
    # A week later this week is another week: the entries of the week before are not in it.
    freeze(datetime(2025, 3, 19, 12, 0, tzinfo=UTC))
    assert api.get("time_entries", {"filter": "period:this_week"}).json() == []
    # (Built anew, and once more: a list that finds nothing checks the ids its filter names.)
    assert built[4:] == ["period:this_week", "period:this_week"]
    # A filter that finds nothing still checks the ids it names (404 for a foreign one).
    assert api.get("time_entries", {"filter": "contact_id:1"}).status_code == 404


def test_lists_filtering_on_a_contact_project_person_or_text_are_planned_per_run(
    administration, owner
):
    """rows.plans_per_run: the filters whose values select very different shares of the
    entries are planned for their values; the tenant, period, state and keyset keep one
    prepared plan."""
    entries = time_entries_of(administration)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    even = [
        entries,
        entries.filter(started_at__gte=start, started_at__lt=start + timedelta(days=1)),
        entries.filter(ended_at__isnull=False, billable=True, sales_invoice__isnull=True),
        expensicat_api.KEYSET.narrowed(entries, CursorPage(limit=1, after=(start, 5))),
    ]
    uneven = [
        entries.filter(contact_id=1),
        entries.filter(project_id=1),
        entries.filter(user=owner),
        entries.filter(description__icontains="design"),
    ]
    assert [rows.plans_per_run(rows.where_of(q)) for q in even] == [False] * 4
    assert [rows.plans_per_run(rows.where_of(q)) for q in uneven] == [True] * 4
