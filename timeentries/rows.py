"""The hot reads of time entries, as SQL text and row renderers (STYLE point 12).

Both dialects' list and get by id run here: each is one statement per query (plus the bounded
count of a Moneybird list) whose text is built once per query shape and cached; a request only
binds new values. The text is written from the models' `_meta` (table and column names are
never typed twice) with a fragment per database where PostgreSQL and SQLite differ, so the
embedded default answers through the same code. The database formats what it formats faster
than Django loads it: timestamps come back as the API's text, ids as text, events and notes as
JSON arrays already in their rendered shape. Rows are tuples; the renderers below turn one into
the dict each dialect answers, which the views dump with orjson.

A list's filters stay the filter sets' (timeentries/filtersets*.py): the view builds the
queryset as before, and only its WHERE clause is compiled here, which is both the shape's key and
the source of its values. A WHERE that needs a join (none of today's filters does) is refused
rather than guessed at.
"""

import functools
import re
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

import orjson
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet

from administrations.models import Contact, Project, User
from common.db import server_cursor
from invoices.models import SalesInvoice
from notes.models import Event, Note
from timeentries.models import TimeEntry

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_micros(value: datetime) -> int:
    """Microseconds since the epoch: how the statements here hand back a timestamp that Python
    computes with (a duration, an ETag, a cursor)."""
    return (value - _EPOCH) // _MICROSECOND


def from_epoch_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


# --- SQL fragments per database ----------------------------------------------------------------


class _Sql:
    """The fragments of one database's dialect, over columns named through `_meta`."""

    def __init__(self, vendor: str, quote: Callable[[str], str]):
        self.postgres = vendor == "postgresql"
        self.quote = quote

    def table(self, model: type[Model]) -> str:
        return self.quote(model._meta.db_table)

    def col(self, alias: str, model: type[Model], name: str) -> str:
        column = model._meta.get_field(name).column  # type: ignore[union-attr]
        return f"{alias}.{self.quote(column)}"

    def columns(self, alias: str, model: type[Model]) -> Callable[[str], str]:
        """col() for one aliased table: `t = sql.columns("t", TimeEntry)`, then `t("id")`."""
        return functools.partial(self.col, alias, model)

    def text(self, expression: str) -> str:
        """An id (or a date) as text: both dialects send ids as strings."""
        return f"{expression}::text" if self.postgres else f"CAST({expression} AS TEXT)"

    def timestamp(self, expression: str) -> str:
        """common.timefmt.iso_utc in SQL: 2021-01-08T10:00:00.000Z, milliseconds truncated.
        SQLite holds a timestamp as Django writes it, 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC."""
        if self.postgres:
            return f"""to_char({expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""
        return (
            f"substr({expression}, 1, 10) || 'T' || substr({expression}, 12, 8) || '.' || "
            f"substr(substr({expression}, 21) || '000', 1, 3) || 'Z'"
        )

    def micros(self, expression: str) -> str:
        """The timestamp as microseconds since the epoch (an integer, exact)."""
        if self.postgres:
            return f"(extract(epoch FROM {expression}) * 1000000)::bigint"
        return (
            f"(CAST(strftime('%%s', substr({expression}, 1, 19)) AS INTEGER) * 1000000 + "
            f"CAST(substr(substr({expression}, 21) || '000000', 1, 6) AS INTEGER))"
        )

    def json_value(self, expression: str) -> str:
        """A JSON column inside a JSON object, as JSON (an object), not as a string; {} for
        none, as the renderers always answered."""
        if self.postgres:
            return f"COALESCE(NULLIF({expression}, 'null'::jsonb), '{{}}'::jsonb)"
        return f"json(COALESCE({expression}, '{{}}'))"

    def json_bool(self, expression: str) -> str:
        if self.postgres:
            return expression
        return f"json(CASE WHEN {expression} THEN 'true' ELSE 'false' END)"

    def float(self, expression: str) -> str:
        return f"{expression}::float8" if self.postgres else f"CAST({expression} AS REAL)"

    def lookup(self, model: type[Model], alias: str, key: str, *, optional: bool) -> str:
        """A JOIN of the row of `model` (as `alias`) whose primary key is `key`: on
        PostgreSQL, one index probe per row of the page, whatever the planner estimates. It
        would rather hash the whole table (every tenant's users, projects or contacts) while
        the table is small, which for a page of 100 rows takes a few times as long as the
        probes (the Expensicat page: 1.3 against 0.9 ms); OFFSET 0 keeps the subquery from
        being merged back into a plain join. SQLite probes by itself."""
        kind = "LEFT JOIN" if optional else "JOIN"
        on = f"{alias}.{self.quote(model._meta.pk.column)} = {key}"  # type: ignore[union-attr]
        if not self.postgres:
            return f"{kind} {self.table(model)} {alias} ON {on}"
        subquery = f"SELECT * FROM {self.table(model)} {alias} WHERE {on} OFFSET 0"
        return f"{kind} LATERAL ({subquery}) {alias} ON TRUE"

    def json_array(self, pairs: Sequence[tuple[str, str]], source: str, order: str) -> str:
        """A correlated subquery: the JSON objects of `pairs` (key, SQL) over `source` (FROM and
        WHERE), ordered by `order`, as one JSON array; NULL when there are none. Read back as
        text (Python parses it with orjson)."""
        items = ", ".join(f"'{key}', {value}" for key, value in pairs)
        if self.postgres:
            return f"(SELECT json_agg(json_build_object({items}) ORDER BY {order})::text {source})"
        # SQLite (3.40) has no ORDER BY inside an aggregate: it aggregates an ordered subquery.
        return (
            f"(SELECT NULLIF(json_group_array(json(o)), '[]') FROM "
            f"(SELECT json_object({items}) AS o {source} ORDER BY {order}))"
        )


def _sql(using: str) -> _Sql:
    wrapper = connections[using]
    return _Sql(wrapper.vendor, wrapper.ops.quote_name)


# --- statements, built once per shape ----------------------------------------------------------


class Statements:
    """SQL text by (database vendor, statement kind, shape), built on first use. The shape is
    the compiled WHERE text of a list (which filters are present, not their values) or nothing
    for a get. `built` counts the texts made, so a test can see the second request of a shape
    reuse the first one's."""

    # A WHERE names no values, so its shapes are few; the bound only keeps a bug from growing
    # the cache without end.
    MAX = 512

    def __init__(self) -> None:
        self.texts: dict[tuple[str, str, str], str] = {}
        self.built = 0
        self.lock = threading.Lock()

    def get(self, using: str, kind: str, shape: str, build: Callable[[_Sql, str], str]) -> str:
        vendor = connections[using].vendor
        key = (vendor, kind, shape)
        text = self.texts.get(key)
        if text is None:
            text = build(_sql(using), shape)
            with self.lock:
                if len(self.texts) >= self.MAX:
                    self.texts.clear()
                self.texts[key] = text
                self.built += 1
        return text


STATEMENTS = Statements()


class ShapeRefused(ValueError):
    """A queryset whose WHERE needs more than the entries' own table."""


class Where(NamedTuple):
    """A list's WHERE clause over the unaliased entries table, and its values."""

    sql: str
    params: list[Any]


def where_of(queryset: QuerySet, using: str = DEFAULT_DB_ALIAS) -> Where:
    """The WHERE clause of `queryset` (of TimeEntry, filtered on its own columns only): its
    text is the shape of a list's statements, its values their parameters."""
    query = queryset.query
    if query.model is not TimeEntry:
        raise ShapeRefused("not a queryset of time entries")
    # Joins that a filter set up and Django then trimmed stay in alias_map with no reference.
    refcount = query.alias_refcount
    joined = [alias for alias, count in refcount.items() if count and alias != query.base_table]
    if joined or query.base_table != TimeEntry._meta.db_table:
        raise ShapeRefused(f"the filter joins {joined}")
    compiler = query.get_compiler(using=using)
    sql, params = compiler.compile(query.where)
    return Where(sql or "1 = 1", list(params))


class WhereShape:
    """where_of(build(*values)) with the ORM's part done once per database: `build` makes the
    queryset of one shape (the same filters every time, only their values differ) and is
    called once with placeholders in place of `values`, of `kinds` ("id" or "time"), which must
    reach the SQL as parameters unchanged (compared with `=`, `<`, ...); a request then only
    puts its values in those places, adapted as Django adapts them. For the lists' commonest
    request (no filter given), where building and compiling the queryset cost more than the
    rest of the request's Python."""

    def __init__(self, build: Callable[..., QuerySet], *kinds: str):
        self.build = build
        self.kinds = kinds
        # Values no request sends: ids below any id, times in the year 1.
        self.placeholders = tuple(
            -(2**62) - i if kind == "id" else datetime(1, 1, 1, 0, 0, i, tzinfo=UTC)
            for i, kind in enumerate(kinds)
        )
        self.compiled: dict[str, tuple[str, list[Any], list[tuple[int, Callable] | None]]] = {}

    def __call__(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> Where:
        vendor = connections[using].vendor
        compiled = self.compiled.get(vendor)
        if compiled is None:
            compiled = self.compiled[vendor] = self._compile(using)
        sql, params, slots = compiled
        return Where(
            sql,
            [
                p if slot is None else slot[1](values[slot[0]])
                for p, slot in zip(params, slots, strict=True)
            ],
        )

    def _compile(self, using: str) -> tuple[str, list[Any], list[tuple[int, Callable] | None]]:
        ops = connections[using].ops
        where = where_of(self.build(*self.placeholders), using)
        slots: list[tuple[int, Callable] | None] = []
        for param in where.params:
            slot = None
            pairs = zip(self.kinds, self.placeholders, strict=True)
            for i, (kind, placeholder) in enumerate(pairs):
                if kind == "id" and isinstance(param, int) and param == placeholder:
                    # The int type Django chose for the column (psycopg's Int8, Int4, ...).
                    slot = (i, type(param))
                elif kind == "time" and param == ops.adapt_datetimefield_value(placeholder):
                    slot = (i, ops.adapt_datetimefield_value)
            slots.append(slot)
        if {slot[0] for slot in slots if slot} != set(range(len(self.kinds))):
            raise ShapeRefused("every placeholder must be a parameter of the WHERE")
        return where.sql, where.params, slots


def _entry_order(sql: _Sql, alias: str) -> str:
    """The lists' order (selectors.LIST_ORDER: newest first, the id breaking ties), the order
    of the index te_adm_started."""
    started, pk = sql.col(alias, TimeEntry, "started_at"), sql.col(alias, TimeEntry, "id")
    return f"{started} DESC, {pk}"


def _page_source(sql: _Sql, where: str, limit: str) -> str:
    """The page's entries, taken from the index first (the WHERE, the order and the limit in a
    subquery), so that the joins and aggregates run on those rows only, whatever the
    statistics say."""
    table = sql.table(TimeEntry)
    order = ", ".join(
        f"{sql.quote(TimeEntry._meta.get_field(name).column)}{' DESC' if desc else ''}"  # type: ignore[union-attr]
        for name, desc in (("started_at", True), ("id", False))
    )
    return f"(SELECT * FROM {table} WHERE {where} ORDER BY {order} {limit}) t"


def _events(sql: _Sql, table: str | None = None) -> str:
    """The entry's events as notes.api.moneybird.render_event renders them, by id, from the
    events table or `table` (a subquery of the same columns)."""
    c = sql.columns("e", Event)
    created = sql.timestamp(c("created_at"))
    pairs = [
        ("administration_id", sql.text(c("administration"))),
        ("user_id", sql.text(c("user"))),
        ("action", c("action")),
        ("link_entity_id", sql.text(c("link_entity_id"))),
        ("link_entity_type", c("link_entity_type")),
        ("data", sql.json_value(c("data"))),
        ("created_at", created),
        # Events are append-only: never updated after they are made.
        ("updated_at", created),
    ]
    return sql.json_array(pairs, _children_of(sql, Event, "e", table), c("id"))


def _notes(sql: _Sql) -> str:
    """The entry's notes as notes.api.moneybird.render_note renders them, by id."""
    c = sql.columns("n", Note)
    pairs = [
        ("id", sql.text(c("id"))),
        ("administration_id", sql.text(c("administration"))),
        ("entity_id", sql.text(c("entity_id"))),
        ("entity_type", c("subject_type")),
        ("user_id", sql.text(c("user"))),
        ("assignee_id", sql.text(c("assignee"))),
        ("todo", sql.json_bool(c("todo"))),
        ("note", c("note")),
        ("completed_at", sql.timestamp(c("completed_at"))),
        ("completed_by_id", sql.text(c("completed_by"))),
        ("todo_type", c("todo_type")),
        ("data", sql.json_value(c("data"))),
        ("created_at", sql.timestamp(c("created_at"))),
        ("updated_at", sql.timestamp(c("updated_at"))),
    ]
    return sql.json_array(pairs, _children_of(sql, Note, "n"), c("id"))


def _children_of(sql: _Sql, model: type[Model], alias: str, table: str | None = None) -> str:
    """FROM and WHERE of an entry's children (in `model`'s table, or `table`): matched on the
    entry's administration too, so they never reach across administrations
    (notes.selectors.ChildrenJSON)."""
    entry = TimeEntry.entity_type.replace("'", "''")
    c = sql.columns(alias, model)
    return (
        f"FROM {table or sql.table(model)} {alias} "
        f"WHERE {c('administration')} = {sql.col('t', TimeEntry, 'administration')} "
        f"AND {c('subject_type')} = '{entry}' "
        f"AND {c('entity_id')} = {sql.col('t', TimeEntry, 'id')}"
    )


def _moneybird_select(sql: _Sql, source: str, events: str | None = None) -> str:
    """Everything render_moneybird reads, in its order, for the entries of `source`, their
    events from the events table or `events` (see _events)."""
    t = sql.columns("t", TimeEntry)
    u = sql.columns("u", User)
    c = sql.columns("c", Contact)
    p = sql.columns("p", Project)
    s = sql.columns("s", SalesInvoice)
    columns = [
        sql.text(t("id")),
        sql.text(t("administration")),
        sql.text(t("contact")),
        sql.text(t("project")),
        sql.text(t("sales_invoice")),
        sql.text(t("user")),
        sql.timestamp(t("started_at")),
        sql.timestamp(t("ended_at")),
        t("description"),
        t("paused_duration"),
        t("billable"),
        sql.timestamp(t("created_at")),
        sql.timestamp(t("updated_at")),
        c("firstname"),
        c("lastname"),
        c("company_name"),
        u("name"),
        u("email"),
        sql.timestamp(u("created_at")),
        sql.timestamp(u("updated_at")),
        p("name"),
        p("state"),
        p("budget"),
        sql.text(s("administration")),
        sql.text(s("contact")),
        s("invoice_id"),
        s("state"),
        sql.text(s("invoice_date")),
        sql.text(s("due_date")),
        sql.timestamp(s("created_at")),
        sql.timestamp(s("updated_at")),
        _events(sql, events),
        _notes(sql),
        sql.micros(t("updated_at")),
    ]
    return (
        f"SELECT {', '.join(columns)} FROM {source} "
        f"{sql.lookup(User, 'u', t('user'), optional=False)} "
        f"{sql.lookup(Contact, 'c', t('contact'), optional=True)} "
        f"{sql.lookup(Project, 'p', t('project'), optional=True)} "
        f"{sql.lookup(SalesInvoice, 's', t('sales_invoice'), optional=True)} "
        f"ORDER BY {_entry_order(sql, 't')}"
    )


def _expensicat_select(sql: _Sql, source: str) -> str:
    """Everything render_expensicat reads, in its order, for the entries of `source`."""
    t = sql.columns("t", TimeEntry)
    u = sql.columns("u", User)
    p = sql.columns("p", Project)
    pc = sql.columns("pc", Contact)
    s = sql.columns("s", SalesInvoice)
    columns = [
        sql.text(t("id")),
        sql.text(t("administration")),
        sql.text(t("user")),
        sql.text(t("project")),
        sql.timestamp(t("started_at")),
        sql.timestamp(t("ended_at")),
        sql.micros(t("started_at")),
        sql.micros(t("ended_at")),
        t("paused_duration"),
        t("description"),
        t("billable"),
        sql.timestamp(t("created_at")),
        sql.timestamp(t("updated_at")),
        u("name"),
        u("email"),
        u("avatar_url"),
        p("name"),
        sql.text(p("contact")),
        sql.float(p("hourly_rate")),
        p("currency"),
        pc("company_name"),
        pc("firstname"),
        pc("lastname"),
        pc("customer_id"),
        sql.text(s("id")),
        s("invoice_id"),
        s("state"),
        sql.text(s("invoice_date")),
        sql.text(s("due_date")),
        sql.micros(t("updated_at")),
    ]
    return (
        f"SELECT {', '.join(columns)} FROM {source} "
        f"{sql.lookup(User, 'u', t('user'), optional=False)} "
        f"{sql.lookup(Project, 'p', t('project'), optional=True)} "
        f"{sql.lookup(Contact, 'pc', p('contact'), optional=True)} "
        f"{sql.lookup(SalesInvoice, 's', t('sales_invoice'), optional=True)} "
        f"ORDER BY {_entry_order(sql, 't')}"
    )


def _one_entry_where(sql: _Sql, shape: str) -> str:
    """A get's WHERE over the unaliased entries table: the administration and the id, and for
    a member (shape "own") the member's own entries only."""
    table = sql.table(TimeEntry)
    names = ["administration", "id", *(("user",) if shape == "own" else ())]
    return " AND ".join(
        f"{table}.{sql.quote(TimeEntry._meta.get_field(name).column)} = %s"  # type: ignore[union-attr]
        for name in names
    )


def _fetch(
    using: str, sql: str, params: Sequence[Any], *, where: Where | None = None
) -> list[tuple]:
    prepare = where is None or not plans_per_run(where)
    # Binary: the statements here send text, integers, booleans and floats only (timestamps as
    # text or microseconds), and a page has hundreds of integers.
    with server_cursor(using, prepare=prepare, binary=True) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# The entries' columns whose values each select a similar share of an administration's entries
# (the tenant, a time range, the keyset, billable, invoiced or not, running or not).
_EVEN_COLUMNS = frozenset(
    TimeEntry._meta.get_field(name).column  # type: ignore[union-attr]
    for name in ("administration", "started_at", "ended_at", "id", "billable", "sales_invoice")
)
_COLUMN = re.compile(r'"([^"]+)"\."([^"]+)"')


def plans_per_run(where: Where) -> bool:
    """Whether a list's statements are planned for their values on every run rather than
    prepared once: when the WHERE filters on anything but _EVEN_COLUMNS (a contact, a
    project, a person, a text). What those select differs by orders of magnitude per value,
    and PostgreSQL's generic plan of a prepared statement, made for no value in particular,
    was several times slower than the plan for the values given (measured on the bench's
    1M seed, page statement: `query=design` 30 ms against 3.4, `contact_id` 6.7 ms against
    3.0); planning anew costs well under a millisecond. Shapes on the even columns alone keep
    their generic plan (the default list's page: 1.8 ms against 2.6 planned per run)."""
    return _names_uneven_columns(where.sql)


@functools.lru_cache(maxsize=Statements.MAX)
def _names_uneven_columns(where_sql: str) -> bool:
    """plans_per_run for a WHERE's text: a fact of the shape, read once per shape."""
    table = TimeEntry._meta.db_table
    return any(
        column not in _EVEN_COLUMNS or name != table for name, column in _COLUMN.findall(where_sql)
    )


# --- Moneybird ---------------------------------------------------------------------------------


def moneybird_count(where: Where, *, limit: int, using: str = DEFAULT_DB_ALIAS) -> int:
    """How many entries match `where`, counted up to `limit` (common.pagination.count_limit)."""
    sql = STATEMENTS.get(
        using,
        "moneybird_count",
        where.sql,
        lambda sql, where: (
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {sql.table(TimeEntry)} WHERE {where} "
            "LIMIT %s) counted"
        ),
    )
    ((rows,),) = _fetch(using, sql, [*where.params, limit], where=where)
    return rows


def moneybird_page(
    where: Where, *, offset: int, limit: int, using: str = DEFAULT_DB_ALIAS
) -> list[tuple]:
    """One page of the entries that match `where`, in list order, as rows for
    render_moneybird."""
    sql = STATEMENTS.get(
        using,
        "moneybird_page",
        where.sql,
        lambda sql, where: _moneybird_select(sql, _page_source(sql, where, "LIMIT %s OFFSET %s")),
    )
    return _fetch(using, sql, [*where.params, limit, offset], where=where)


def moneybird_entry(
    administration_id: int, entry_id: int, *, using: str = DEFAULT_DB_ALIAS
) -> tuple | None:
    """The administration's entry `entry_id` as a row for render_moneybird, or None."""
    sql = STATEMENTS.get(
        using,
        "moneybird_entry",
        "",
        lambda sql, shape: _moneybird_select(
            sql, _page_source(sql, _one_entry_where(sql, shape), "")
        ),
    )
    rows = _fetch(using, sql, [administration_id, entry_id])
    return rows[0] if rows else None


def moneybird_tag(row: tuple) -> str:
    """The entry's ETag (common.conditional.version_tag) from its row."""
    return f'"{row[0]}-{row[-1]:x}"'


def render_moneybird(row: tuple, *, sales_invoices: bool) -> dict[str, Any]:
    """One entry as timeentries.api.moneybird.render_time_entry_row renders it, from a row of
    moneybird_page or moneybird_entry. Without `sales_invoices` (the token's scope) the
    `sales_invoice` key is left out."""
    (
        entry_id, administration_id, contact_id, project_id, invoice_id, user_id, started,
        ended, description, paused, billable, created, updated,
        firstname, lastname, company_name,
        user_name, email, user_created, user_updated,
        project_name, project_state, budget,
        invoice_administration, invoice_contact, number, invoice_state, invoice_date, due_date,
        invoice_created, invoice_updated,
        events, notes, _updated_micros,
    ) = row  # fmt: skip
    body = {
        "id": entry_id,
        "administration_id": administration_id,
        "contact_id": contact_id,
        "project_id": project_id,
        "sales_invoice_id": invoice_id,
        "user_id": user_id,
        "started_at": started,
        "ended_at": ended,
        "description": description,
        "paused_duration": paused,
        "billable": bool(billable),
        "created_at": created,
        "updated_at": updated,
        "contact": None
        if contact_id is None
        else {
            "id": contact_id,
            "firstname": firstname or None,
            "lastname": lastname or None,
            "company_name": company_name or None,
        },
        "user": {
            "id": user_id,
            "name": User.name_to_show(user_name, email),
            "created_at": user_created,
            "updated_at": user_updated,
        },
        "project": None
        if project_id is None
        else {"id": project_id, "name": project_name, "state": project_state, "budget": budget},
        "sales_invoice": None
        if invoice_id is None
        else {
            "id": invoice_id,
            "administration_id": invoice_administration,
            "contact_id": invoice_contact,
            "invoice_id": number,
            "state": invoice_state,
            "invoice_date": invoice_date,
            "due_date": due_date,
            "created_at": invoice_created,
            "updated_at": invoice_updated,
        },
        "events": orjson.loads(events) if events else [],
        "notes": orjson.loads(notes) if notes else [],
    }
    if not sales_invoices:
        del body["sales_invoice"]
    return body


# --- Expensicat --------------------------------------------------------------------------------


def expensicat_page(where: Where, *, limit: int, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
    """Up to `limit` entries that match `where` (the keyset predicate included) in list order,
    as rows for render_expensicat."""
    sql = STATEMENTS.get(
        using,
        "expensicat_page",
        where.sql,
        lambda sql, where: _expensicat_select(sql, _page_source(sql, where, "LIMIT %s")),
    )
    return _fetch(using, sql, [*where.params, limit], where=where)


def expensicat_entry(
    administration_id: int,
    entry_id: int,
    *,
    user_id: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> tuple | None:
    """The organization's entry `entry_id` as a row for render_expensicat, or None; with
    `user_id` only if it is that member's."""
    shape = "" if user_id is None else "own"
    sql = STATEMENTS.get(
        using,
        "expensicat_entry",
        shape,
        lambda sql, shape: _expensicat_select(
            sql, _page_source(sql, _one_entry_where(sql, shape), "")
        ),
    )
    params = [administration_id, entry_id, *(() if user_id is None else (user_id,))]
    rows = _fetch(using, sql, params)
    return rows[0] if rows else None


def expensicat_tag(row: tuple) -> str:
    """The entry's ETag (common.conditional.version_tag) from its row."""
    return f'"{row[0]}-{row[-1]:x}"'


def expensicat_cursor_values(row: tuple) -> tuple[datetime, str]:
    """The keyset values (started_at, id) of a row, for common.pagination.Keyset.encode."""
    return from_epoch_micros(row[6]), row[0]


def render_expensicat(row: tuple, *, now_micros: int) -> dict[str, Any]:
    """One entry as timeentries.api.expensicat.render_time_entry renders it, from a row of
    expensicat_page or expensicat_entry; `now_micros` (epoch_micros of now) ends a running
    entry's duration."""
    (
        entry_id, organization_id, user_id, project_id, started, ended, started_micros,
        ended_micros, paused, description, billable, created, updated,
        user_name, email, avatar_url,
        project_name, customer_id, hourly_rate, currency,
        company_name, firstname, lastname, customer_number,
        invoice_id, number, invoice_state, invoice_date, due_date, _updated_micros,
    ) = row  # fmt: skip
    end = now_micros if ended_micros is None else ended_micros
    # int() of a float of seconds, as timedelta.total_seconds() gives them.
    duration = max(0, int((end - started_micros) / 1_000_000) - paused)
    customer = None
    if customer_id is not None:
        person = f"{firstname} {lastname}".strip()
        customer = {"id": customer_id, "name": company_name or person or customer_number}
    return {
        "id": entry_id,
        "organization_id": organization_id,
        "user_id": user_id,
        "project_id": project_id,
        "start_time": started,
        "end_time": ended,
        "duration": duration,
        "description": description,
        "billable": bool(billable),
        "invoice_id": invoice_id,
        "created_at": created,
        "updated_at": updated,
        "user": {
            "id": user_id,
            "full_name": User.name_to_show(user_name, email),
            "email": email,
            "avatar_url": avatar_url or None,
        },
        "project": None
        if project_id is None
        else {
            "id": project_id,
            "name": project_name,
            "customer_id": customer_id,
            "hourly_rate": hourly_rate,
            "currency": currency,
            "customer": customer,
        },
        "invoice": None
        if invoice_id is None
        else {
            "id": invoice_id,
            "number": number,
            "status": invoice_state,
            "date": invoice_date,
            "due_date": due_date,
        },
    }


# --- a write's answer ----------------------------------------------------------------------------


class Answer:
    """What a write of one entry answers with, as a dialect's row ("moneybird": a row for
    render_moneybird, "expensicat": for render_expensicat). The view hands one to the write
    service, which sets `row` to the entry as it stands after the write; on PostgreSQL read in
    the write's own statement (timeentries.writes: entry_insert, entry_update), so the answer
    costs no round trip and no model instances."""

    def __init__(self, dialect: Literal["moneybird", "expensicat"]) -> None:
        self.dialect = dialect
        self.row: tuple | None = None

    def after_write(self, entry: str, events: str | None, *, using: str = DEFAULT_DB_ALIAS) -> str:
        """The SELECT that ends a write's WITH clause: the entry from `entry`, the name of the
        INSERT or UPDATE ... RETURNING * that wrote it, with its events from the table and
        `events`, the name of the INSERT ... RETURNING * of the write's events (if any). The
        statement reads the tables as they were when it began, so neither change is in them
        yet for it."""

        def build(sql: _Sql, shape: str) -> str:
            source = f"{entry} t"
            if self.dialect == "expensicat":
                return _expensicat_select(sql, source)
            added = (
                None
                if events is None
                else f"(SELECT * FROM {sql.table(Event)} UNION ALL SELECT * FROM {events})"
            )
            return _moneybird_select(sql, source, added)

        return STATEMENTS.get(using, f"{self.dialect}_written", f"{entry} {events}", build)

    def read(self, administration_id: int, entry_id: int, *, using: str = DEFAULT_DB_ALIAS) -> None:
        """Set `row` to the entry as a get reads it now (after a write that ran on its own)."""
        read = moneybird_entry if self.dialect == "moneybird" else expensicat_entry
        self.row = read(administration_id, entry_id, using=using)
