"""The twin: the smallest honest server for the requests bench/run.py measures, as a yardstick
for ours. A WSGI app on psycopg 3 and orjson, no Django, that answers

    GET   /api/v2/{administration_id}/time_entries[.json]?per_page=&page=&filter=&query=
    GET   /api/v2/{administration_id}/time_entries/{id}[.json]
    POST  /api/v2/{administration_id}/time_entries[.json]          {"time_entry": {...}}
    PATCH /api/v2/{administration_id}/time_entries/{id}[.json]     {"time_entry": {...}}
    GET   /api/v1/time-entries?limit=&cursor=                      (Expensicat, cursor paging)
    GET   /api/v2/{administration_id}/time_entries/report[.json]?filter=&query=&group_by=
          &week_start=&time_zone=                                  (one GROUP BY)

with the same JSON bytes as ours (timeentries/api/moneybird.py render_time_entry, notes/api/
moneybird.py render_note, timeentries/api/expensicat.py render_time_entry) and the same
X-Total-Count and Link headers. It does the work a fair minimum needs: it authenticates the
bearer token by its SHA-256 like common/auth.py, checks the scope and the membership (one
query), counts the rows (one query) and fetches the page with everything it renders joined and
aggregated (one query); writes insert the entry (or update it) and its audit event in one
transaction and then read the entry back like a get.

Only the filter keys the benchmark uses are implemented (period, state, contact_id,
include_nil_contacts, include_active, project_id, user_id, day; query); anything else, errors
included, is answered with a plain 400/401/404 without trying to match ours. The filter grammar
and the periods come from common/filterstring.py and common/periods.py, which are plain Python.

    gunicorn bench.twin:app -w 2 -b 127.0.0.1:8001     # DATABASE_URL=postgres://...
"""

import base64
import hashlib
import os
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

import orjson
import psycopg
from psycopg.types.json import set_json_loads

from common.filterstring import FilterSyntaxError, parse_filter
from common.flags import parse_flag
from common.ids import new_id, parse_id
from common.periods import PeriodError, parse_day, resolve_period
from common.timefmt import floor_minute, iso_local, parse_datetime

MAX_PER_PAGE = 100
TOTAL_COUNT_CAP = 10_000
PER_PAGE_DEFAULT = int(os.environ.get("MONEYBIRD_PER_PAGE_DEFAULT", "50"))
CURSOR_LIMIT_DEFAULT, CURSOR_LIMIT_MAX = 20, 100
DEFAULT_FILTER = {"period": "this_year", "state": "all"}
FILTER_KEYS = frozenset(
    ("state", "period", "contact_id", "include_nil_contacts", "include_active", "project_id")
) | {"user_id", "day"}


def ts(column: str) -> str:
    """SQL rendering a timestamp as common.timefmt.iso_utc does (milliseconds truncated)."""
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""


EVENTS = f"""(
    SELECT json_agg(json_build_object(
        'administration_id', e.administration_id::text, 'user_id', e.user_id::text,
        'action', e.action, 'link_entity_id', e.link_entity_id::text,
        'link_entity_type', e.link_entity_type, 'data', e.data,
        'created_at', {ts("e.created_at")}, 'updated_at', {ts("e.created_at")}) ORDER BY e.id)
    FROM notes_event e
    WHERE e.administration_id = t.administration_id AND e.entity_type = 'TimeEntry'
      AND e.entity_id = t.id)"""
NOTES = f"""(
    SELECT json_agg(json_build_object(
        'id', n.id::text, 'administration_id', n.administration_id::text,
        'entity_id', n.entity_id::text, 'entity_type', n.entity_type,
        'user_id', n.user_id::text, 'assignee_id', n.assignee_id::text, 'todo', n.todo,
        'note', n.note, 'completed_at', {ts("n.completed_at")},
        'completed_by_id', n.completed_by_id::text, 'todo_type', n.todo_type, 'data', n.data,
        'created_at', {ts("n.created_at")}, 'updated_at', {ts("n.updated_at")}) ORDER BY n.id)
    FROM notes_note n
    WHERE n.administration_id = t.administration_id AND n.entity_type = 'TimeEntry'
      AND n.entity_id = t.id)"""

# Moneybird: the page's rows come from the inner query (the index walk), the rest is joined to
# those rows only.
MONEYBIRD_ROWS = f"""
SELECT t.id::text, t.administration_id::text, t.contact_id::text, t.project_id::text,
       t.sales_invoice_id::text, t.user_id::text, {ts("t.started_at")}, {ts("t.ended_at")},
       t.description, t.paused_duration, t.billable, {ts("t.created_at")}, {ts("t.updated_at")},
       c.firstname, c.lastname, c.company_name,
       u.name, u.email, {ts("u.created_at")}, {ts("u.updated_at")},
       p.name, p.state, p.budget,
       s.administration_id::text, s.contact_id::text, s.invoice_id, s.state, s.invoice_date::text,
       s.due_date::text, {ts("s.created_at")}, {ts("s.updated_at")},
       {EVENTS}, {NOTES}
FROM (SELECT * FROM timeentries_timeentry WHERE {{where}}
      ORDER BY started_at DESC, id {{limit}}) t
JOIN administrations_user u ON u.id = t.user_id
LEFT JOIN administrations_contact c ON c.id = t.contact_id
LEFT JOIN administrations_project p ON p.id = t.project_id
LEFT JOIN invoices_salesinvoice s ON s.id = t.sales_invoice_id
ORDER BY t.started_at DESC, t.id"""

EXPENSICAT_ROWS = f"""
SELECT t.id::text, t.administration_id::text, t.user_id::text, t.project_id::text,
       {ts("t.started_at")}, {ts("t.ended_at")},
       GREATEST(0, floor(extract(epoch FROM coalesce(t.ended_at, now()) - t.started_at))::int
                   - t.paused_duration),
       t.description, t.billable, {ts("t.created_at")}, {ts("t.updated_at")}, t.started_at,
       u.name, u.email, u.avatar_url,
       p.name, p.contact_id::text, p.hourly_rate::float8, p.currency,
       pc.company_name, pc.firstname, pc.lastname, pc.customer_id,
       s.id::text, s.invoice_id, s.state, s.invoice_date::text, s.due_date::text
FROM (SELECT * FROM timeentries_timeentry WHERE {{where}}
      ORDER BY started_at DESC, id LIMIT %s) t
JOIN administrations_user u ON u.id = t.user_id
LEFT JOIN administrations_project p ON p.id = t.project_id
LEFT JOIN administrations_contact pc ON pc.id = p.contact_id
LEFT JOIN invoices_salesinvoice s ON s.id = t.sales_invoice_id
ORDER BY t.started_at DESC, t.id"""

# Token, user, membership and administration in one query. A row without a membership is a
# valid token that may not reach this administration (404); no row at all is a bad token (401).
AUTH = """
SELECT t.user_id, t.scopes, t.administration_id, a.id, a.time_zone, m.role
FROM administrations_apitoken t
JOIN administrations_user u ON u.id = t.user_id AND u.is_active
LEFT JOIN administrations_membership m
       ON m.user_id = t.user_id AND m.administration_id = %(administration)s
      AND (t.administration_id IS NULL OR t.administration_id = %(administration)s)
LEFT JOIN administrations_administration a ON a.id = m.administration_id
WHERE t.key_hash = %(hash)s AND t.revoked_at IS NULL"""

ENTRY_INSERT = """
INSERT INTO timeentries_timeentry (id, created_at, updated_at, administration_id, user_id,
    started_at, ended_at, paused_duration, description, billable{extra_columns})
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s{extra_values})"""
ENTRY_UPDATE = """
UPDATE timeentries_timeentry t SET description = %s, updated_at = %s
FROM (SELECT id, description, updated_at FROM timeentries_timeentry
      WHERE id = %s AND administration_id = %s FOR UPDATE) old
WHERE t.id = old.id
RETURNING old.description, old.updated_at"""
EVENT_INSERT = """
INSERT INTO notes_event (id, administration_id, user_id, action, entity_type, entity_id, data,
    created_at)
VALUES (%s, %s, %s, %s, 'TimeEntry', %s, %s::jsonb, %s)"""
# NOT NULL text columns without a database default that the twin does not know (added by later
# migrations, like the import keys): filled with "" as Django's blank default does.
EXTRA_TEXT_COLUMNS = """
SELECT column_name FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = 'timeentries_timeentry'
  AND is_nullable = 'NO' AND column_default IS NULL AND data_type IN ('text', 'character varying')
  AND column_name <> 'description'"""

MONEYBIRD_LIST = re.compile(r"^/api/v2/(\d{1,19})/time_entries(?:\.json)?$")
MONEYBIRD_REPORT = re.compile(r"^/api/v2/(\d{1,19})/time_entries/report(?:\.json)?$")
MONEYBIRD_ONE = re.compile(r"^/api/v2/(\d{1,19})/time_entries/(\d{1,19})(?:\.json)?$")
EXPENSICAT_LIST = "/api/v1/time-entries"

STATUS = {
    200: "200 OK",
    201: "201 Created",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
}


class Answer(Exception):
    """Not an error: the response to send instead of the normal one."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message


class Caller:
    """The authenticated caller in one administration."""

    def __init__(self, row: tuple):
        self.user_id, scopes, self.bound_to, self.administration_id, time_zone, self.role = row
        self.scopes = frozenset(scopes or ())
        self.tz = ZoneInfo(time_zone) if time_zone else UTC

    @property
    def sees_sales_invoices(self) -> bool:
        # common.auth.IMPLIES: only invoices:write implies sales_invoices.
        return not self.scopes.isdisjoint(("sales_invoices", "invoices:write"))

    def require(self, *scopes: str) -> None:
        if self.scopes.isdisjoint(scopes):
            raise Answer(401, "No access")


class App:
    """One database connection per process, opened on the first request (after gunicorn's
    fork). Pass `connection` to run on a connection you own (the tests use Django's, inside
    their transaction): the twin then only reads and writes through cursors it configures."""

    def __init__(self, conninfo: str | None = None, *, connection: Any = None):
        self.conninfo = conninfo
        self._connection = connection
        self._extra_columns: tuple[str, ...] | None = None
        self.statements = 0  # SQL statements of the last request

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def connection(self):
        if self._connection is None or self._connection.closed:
            conninfo = self.conninfo or os.environ["DATABASE_URL"]
            self._connection = psycopg.connect(conninfo, autocommit=True)
            self._connection.execute("SET TimeZone = 'UTC'")
        return self._connection

    def cursor(self):
        cursor = self.connection.cursor()
        set_json_loads(orjson.loads, cursor)
        return cursor

    def query(self, cursor, sql: str, params: Any = None) -> list[tuple]:
        self.statements += 1
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        self.statements = 0
        headers = [("Content-Type", "application/json")]
        try:
            status, body = self.route(environ, headers)
        except Answer as answer:
            status, body = answer.status, orjson.dumps({"error": answer.message})
            headers = [("Content-Type", "application/json")]
        headers.append(("Content-Length", str(len(body))))
        start_response(STATUS[status], headers)
        return [body]

    def route(self, environ: dict, headers: list) -> tuple[int, bytes]:
        path, method = environ.get("PATH_INFO", ""), environ["REQUEST_METHOD"]
        params = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        token = bearer(environ)
        if path == EXPENSICAT_LIST and method == "GET":
            organization = environ.get("HTTP_X_ORGANIZATION_ID")
            with self.cursor() as cursor:
                caller = self.caller(cursor, token, organization)
                return 200, self.expensicat_list(cursor, caller, params)
        if (match := MONEYBIRD_REPORT.match(path)) and method == "GET":
            with self.cursor() as cursor:
                caller = self.caller(cursor, token, match[1])
                return 200, self.moneybird_report(cursor, caller, params)
        if match := MONEYBIRD_LIST.match(path):
            with self.cursor() as cursor:
                caller = self.caller(cursor, token, match[1])
                if method == "GET":
                    return 200, self.moneybird_list(cursor, caller, params, environ, headers)
                if method == "POST":
                    return 201, self.moneybird_create(cursor, caller, read_json(environ))
        elif match := MONEYBIRD_ONE.match(path):
            with self.cursor() as cursor:
                caller = self.caller(cursor, token, match[1])
                if method == "GET":
                    return 200, self.moneybird_get(cursor, caller, int(match[2]))
                if method in ("PATCH", "PUT"):
                    return 200, self.moneybird_update(
                        cursor, caller, int(match[2]), read_json(environ)
                    )
        else:
            raise Answer(404, "the twin does not serve this path")
        raise Answer(405, "method not allowed")

    def caller(self, cursor, token: str, administration: str | None) -> Caller:
        params: dict[str, Any] = {"hash": hashlib.sha256(token.encode()).hexdigest()}
        if administration is None:
            # Expensicat without X-Organization-Id: the organization the token is bound to (the
            # twin does not look for the user's only membership as ours does).
            sql = AUTH.replace("%(administration)s", "t.administration_id")
            rows = self.query(cursor, sql, params)
        else:
            pk = parse_id(administration)
            if pk is None:
                raise Answer(404, "record not found")
            params["administration"] = pk
            rows = self.query(cursor, AUTH, params)
        if not rows:
            raise Answer(401, "Token is invalid")
        caller = Caller(rows[0])
        if caller.administration_id is None:
            raise Answer(404, "record not found")
        return caller

    # --- Moneybird --------------------------------------------------------------------------

    def moneybird_list(
        self, cursor, caller: Caller, params: dict, environ: dict, headers: list
    ) -> bytes:
        caller.require("time_entries", "entries:write")
        per_page = number(params, "per_page", PER_PAGE_DEFAULT)
        page = number(params, "page", 1)
        if not 1 <= per_page <= MAX_PER_PAGE or page < 1:
            raise Answer(400, "per_page or page does not have a valid value")
        where, args = moneybird_where(caller, params)
        # Counted as common.pagination.bounded_count counts: up to the cap or past this page.
        limit = max(TOTAL_COUNT_CAP, page * per_page) + 1
        total = self.query(
            cursor,
            f"SELECT count(*) FROM (SELECT 1 FROM timeentries_timeentry WHERE {where} "
            "LIMIT %s) AS counted",
            [*args, limit],
        )
        total = total[0][0]
        sql = MONEYBIRD_ROWS.format(where=where, limit="LIMIT %s OFFSET %s")
        rows = self.query(cursor, sql, [*args, per_page, (page - 1) * per_page])
        headers.append(("X-Total-Count" if total < limit else "X-Total-Count-At-Least", str(total)))
        links = link_header(environ, params, page, per_page, total)
        if links:
            headers.append(("Link", links))
        invoices = caller.sees_sales_invoices
        return orjson.dumps([render_moneybird(row, invoices) for row in rows])

    def moneybird_get(self, cursor, caller: Caller, entry_id: int) -> bytes:
        caller.require("time_entries", "entries:write")
        return orjson.dumps(self.moneybird_entry(cursor, caller, entry_id))

    def moneybird_entry(self, cursor, caller: Caller, entry_id: int) -> dict[str, Any]:
        sql = MONEYBIRD_ROWS.format(where="administration_id = %s AND id = %s", limit="")
        rows = self.query(cursor, sql, [caller.administration_id, entry_id])
        if not rows:
            raise Answer(404, "record not found")
        return render_moneybird(rows[0], caller.sees_sales_invoices)

    def moneybird_create(self, cursor, caller: Caller, body: Any) -> bytes:
        """The raw insert and its event in one transaction, then the entry as a get reads it.
        Takes started_at, ended_at (required: no timers), description and billable."""
        caller.require("time_entries", "entries:write")
        data = body.get("time_entry") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not data.get("ended_at"):
            raise Answer(400, "the twin takes started_at, ended_at and description")
        try:
            started = floor_minute(parse_datetime(data["started_at"], default_tz=caller.tz))
            ended = floor_minute(parse_datetime(data["ended_at"], default_tz=caller.tz))
        except (KeyError, TypeError, ValueError):
            raise Answer(400, "bad started_at or ended_at") from None
        description = str(data.get("description") or "").strip()
        if not description or ended <= started:
            raise Answer(400, "description is blank or the entry ends before it starts")
        extra = self.extra_columns(cursor)
        sql = ENTRY_INSERT.format(
            extra_columns="".join(f", {name}" for name in extra),
            extra_values=", ''" * len(extra),
        )
        entry_id, now = new_id(), datetime.now(UTC)
        with self.connection.transaction():
            self.query(
                cursor,
                sql,
                [
                    entry_id, now, now, caller.administration_id, caller.user_id, started,
                    ended, 0, description, bool(data.get("billable", True)),
                ],
            )  # fmt: skip
            self.query(
                cursor,
                EVENT_INSERT,
                [
                    new_id(), caller.administration_id, caller.user_id, "time_entry_created",
                    entry_id, "{}", now,
                ],
            )  # fmt: skip
        return orjson.dumps(self.moneybird_entry(cursor, caller, entry_id))

    def moneybird_update(self, cursor, caller: Caller, entry_id: int, body: Any) -> bytes:
        """Change the description: the update (reading the old values under a row lock) and
        its time_entry_updated event in one transaction, then the entry as a get reads it."""
        caller.require("time_entries", "entries:write")
        data = body.get("time_entry") if isinstance(body, dict) else None
        if not isinstance(data, dict) or set(data) != {"description"}:
            raise Answer(400, "the twin changes only the description")
        description = str(data["description"] or "").strip()
        now = datetime.now(UTC)
        with self.connection.transaction():
            rows = self.query(
                cursor, ENTRY_UPDATE, [description, now, entry_id, caller.administration_id]
            )
            if not rows:
                raise Answer(404, "record not found")
            old_description, old_updated = rows[0]
            changes = {
                "description": [old_description, description],
                "updated_at": [iso_local(old_updated, caller.tz), iso_local(now, caller.tz)],
            }
            self.query(
                cursor,
                EVENT_INSERT,
                [
                    new_id(), caller.administration_id, caller.user_id, "time_entry_updated",
                    entry_id, orjson.dumps(changes).decode(), now,
                ],
            )  # fmt: skip
        return orjson.dumps(self.moneybird_entry(cursor, caller, entry_id))

    def extra_columns(self, cursor) -> tuple[str, ...]:
        if self._extra_columns is None:
            cursor.execute(EXTRA_TEXT_COLUMNS)  # once per process, not per request
            self._extra_columns = tuple(row[0] for row in cursor.fetchall())
        return self._extra_columns

    def moneybird_report(self, cursor, caller: Caller, params: dict) -> bytes:
        """timeentries/reports.py's answer: one GROUP BY over the list's WHERE, by the groupings
        and the project (its rate and currency), rolled up into the levels here."""
        caller.require("time_entries", "entries:write")
        group_by = [g for g in (one(params, "group_by") or "").split(",") if g]
        if len(group_by) > 2 or not set(group_by) <= set(REPORT_KEYS):
            raise Answer(400, "bad group_by")
        week_start = one(params, "week_start") or "monday"
        if week_start not in ("monday", "sunday"):
            raise Answer(400, "bad week_start")
        try:
            zone = ZoneInfo(one(params, "time_zone")) if one(params, "time_zone") else caller.tz
        except (ValueError, OSError):
            raise Answer(400, "bad time_zone") from None
        caller.tz = zone  # periods are read in the report's zone, as ours does
        where, args = moneybird_where(caller, params)
        columns: list[str] = []
        select_args: list[Any] = []
        for grouping in group_by:
            if grouping in ("day", "week", "month", "year"):
                local = "(started_at AT TIME ZONE %s)"
                select_args.append(zone.key)
                if grouping == "week" and week_start == "sunday":
                    columns.append(f"(date_trunc('week', {local} + interval '1 day'))::date - 1")
                else:
                    columns.append(f"date_trunc('{grouping}', {local})::date")
            else:
                columns.append(REPORT_KEYS[grouping][0])
        now = datetime.now(UTC).replace(microsecond=0)
        worked = "extract(epoch FROM coalesce(ended_at, %s) - started_at)::bigint"
        # Grouped on the entries alone, then the names and the project's rate joined to the
        # groups (joined before, the names would go through the sort with every entry).
        names = [name for g in group_by for name in REPORT_KEYS.get(g, [])[1:]]
        joins = " ".join(
            REPORT_JOINS[g].format(**{g: i}) for i, g in enumerate(group_by) if g in REPORT_JOINS
        )
        keys = [f"k{i}" for i in range(len(columns))]
        sql = f"""
            SELECT {"".join(f"r.{k}, " for k in keys)}{"".join(f"{n}, " for n in names)}
                   p.hourly_rate, p.currency, r.n, r.worked, r.billable
            FROM (SELECT {"".join(f"{c} AS {k}, " for c, k in zip(columns, keys, strict=True))}
                         project_id, count(*) AS n, sum({worked} - paused_duration) AS worked,
                         sum({worked} - paused_duration) FILTER (WHERE billable) AS billable
                  FROM timeentries_timeentry WHERE {where}
                  GROUP BY {", ".join(str(i + 1) for i in range(len(columns) + 1))}) r
            {joins}
            LEFT JOIN administrations_project p ON p.id = r.project_id"""
        rows = self.query(cursor, sql, [*select_args, now, now, *args])
        # Each row: the keys, then the names, as report_key reads them per grouping.
        rows = [regroup(row, group_by, len(keys)) for row in rows]
        totals = ReportTotals()
        top: dict = {}
        for row in rows:
            entries, seconds, billable = row[-3], int(row[-2]), int(row[-1] or 0)
            currency, rate = row[-4], row[-5]
            figures = (entries, seconds, billable, currency, rate)
            totals.add(*figures)
            level, at = top, 0
            for grouping in group_by:
                width = len(REPORT_KEYS[grouping]) or 1
                key, name = report_key(grouping, row[at : at + width])
                at += width
                group = level.get(key)
                if group is None:
                    group = level[key] = [name, ReportTotals(), {}]
                group[1].add(*figures)
                level = group[2]
        groups = render_groups(top, group_by) if group_by else []
        body = {"totals": totals.render(), "groups": groups}
        return orjson.dumps(body)

    # --- Expensicat -------------------------------------------------------------------------

    def expensicat_list(self, cursor, caller: Caller, params: dict) -> bytes:
        caller.require("entries:read", "entries:write", "time_entries")
        unknown = set(params) - {"limit", "cursor"}
        if unknown:
            raise Answer(400, f"the twin does not filter on {sorted(unknown)[0]}")
        limit = number(params, "limit", CURSOR_LIMIT_DEFAULT)
        if not 1 <= limit <= CURSOR_LIMIT_MAX:
            raise Answer(400, "limit must be a whole number from 1 to 100")
        where, args = ["administration_id = %s"], [caller.administration_id]
        if caller.role not in ("owner", "admin"):
            where.append("user_id = %s")
            args.append(caller.user_id)
        cursor_text = one(params, "cursor")
        if cursor_text:
            after_started, after_id = decode_cursor(cursor_text)
            # The rows after (started, id) in (started_at DESC, id) order. Ours writes it as
            # "started_at < x OR (started_at = x AND id > y)"; this form lets the index range
            # scan start at x instead of filtering the administration's rows.
            where.append("started_at <= %s AND (started_at < %s OR id > %s)")
            args += [after_started, after_started, after_id]
        sql = EXPENSICAT_ROWS.format(where=" AND ".join(where))
        rows = self.query(cursor, sql, [*args, limit + 1])
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_cursor(rows[-1][11], rows[-1][0])
        data = [render_expensicat(row) for row in rows]
        return orjson.dumps(
            {"data": data, "meta": {"count": len(data), "next_cursor": next_cursor}}
        )


# --- the report -----------------------------------------------------------------------------

REPORT_KEYS = {
    "project": ["project_id", "p.name"],
    "user": ["user_id", "u.name", "u.email"],
    "contact": ["contact_id", "c.company_name", "c.firstname", "c.lastname", "c.customer_id"],
    "billable": ["billable"],
    "day": [],
    "week": [],
    "month": [],
    "year": [],
}
# Joined only for the names a grouping shows; the project always, for its rate.
REPORT_JOINS = {
    "user": "JOIN administrations_user u ON u.id = r.k{user}",
    "contact": "LEFT JOIN administrations_contact c ON c.id = r.k{contact}",
}
CENT = Decimal("0.01")


class ReportTotals:
    def __init__(self) -> None:
        self.entries = self.seconds = self.billable = 0
        self.money: dict[str, Decimal] = {}

    def add(self, entries: int, seconds: int, billable: int, currency, rate) -> None:
        self.entries += entries
        self.seconds += seconds
        self.billable += billable
        if currency is not None and rate is not None and billable:
            self.money[currency] = self.money.get(currency, Decimal(0)) + billable * rate

    def render(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "seconds": self.seconds,
            "billable_seconds": self.billable,
            "amounts": [
                {"currency": c, "amount": str((self.money[c] / 3600).quantize(CENT, ROUND_HALF_UP))}
                for c in sorted(self.money)
            ],
        }


def regroup(row: tuple, group_by: list[str], width: int) -> tuple:
    """(keys..., names..., rate, currency, n, worked, billable) -> each grouping's key followed
    by its names, then the rest."""
    keys, rest = list(row[:width]), list(row[width:])
    out: list[Any] = []
    for grouping, key in zip(group_by, keys, strict=True):
        count = len(REPORT_KEYS.get(grouping, [])[1:])
        out += [key, *rest[:count]]
        rest = rest[count:]
    return (*out, *rest)


def report_key(grouping: str, values: tuple) -> tuple[Any, str | None]:
    if grouping in ("day", "week", "month", "year"):
        return values[0], None
    if grouping == "billable":
        return values[0], None
    if values[0] is None:
        return None, None
    if grouping == "project":
        return values[0], values[1]
    if grouping == "user":
        return values[0], values[1] or values[2].split("@")[0]
    company, first, last, customer = values[1:]
    return values[0], company or f"{first} {last}".strip() or customer


def render_groups(level: dict, group_by: list[str]) -> list[dict[str, Any]]:
    grouping = group_by[0]
    out = []
    for key in sorted(level, key=lambda k: (k is None, k if k is not None else 0)):
        name, totals, children = level[key]
        if key is None or grouping == "billable":
            shown = key
        elif grouping == "month":
            shown = key.strftime("%Y-%m")
        elif grouping == "year":
            shown = f"{key.year:04d}"
        elif grouping in ("day", "week"):
            shown = key.isoformat()
        else:
            shown = str(key)
        item = {"key": shown, "name": name, **totals.render()}
        if len(group_by) > 1:
            item["groups"] = render_groups(children, group_by[1:])
        out.append(item)
    return out


# --- requests -------------------------------------------------------------------------------


def bearer(environ: dict) -> str:
    parts = environ.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise Answer(401, "Authentication credentials were not provided")
    return parts[1]


def read_json(environ: dict) -> Any:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        return orjson.loads(environ["wsgi.input"].read(length) if length else b"")
    except orjson.JSONDecodeError:
        raise Answer(400, "the body is not JSON") from None


def one(params: dict, name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def number(params: dict, name: str, default: int) -> int:
    raw = one(params, name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        raise Answer(400, f"{name} does not have a valid value")
    return int(raw)


def moneybird_where(caller: Caller, params: dict) -> tuple[str, list]:
    """The WHERE clause of timeentries.filtersets.TimeEntryFilterSet for `filter` and
    `query`."""
    text = one(params, "filter")
    if text is None or not text.strip():
        terms = dict(DEFAULT_FILTER)
    else:
        try:
            terms = {key: "|".join(values) for key, values in parse_filter(text).items()}
        except FilterSyntaxError as exc:
            raise Answer(400, str(exc)) from None
        if not set(terms) <= FILTER_KEYS:
            raise Answer(400, f"unknown filter key in {text!r}")
    where, args = ["administration_id = %s"], [caller.administration_id]
    tz = caller.tz
    today = datetime.now(UTC).astimezone(tz).date()

    def bounds(start: date, end: date) -> None:
        where.append("started_at >= %s AND started_at < %s")
        args.extend((datetime.combine(start, clock.min, tz), datetime.combine(end, clock.min, tz)))

    try:
        if "period" in terms:
            bounds(*resolve_period(terms["period"], today=today))
        if "day" in terms:
            day = parse_day(terms["day"])
            bounds(day, day + timedelta(days=1))
    except PeriodError as exc:
        raise Answer(400, str(exc)) from None
    states = terms.get("state", "all").split("|")
    if "all" not in states:
        conditions = []
        if "open" in states:
            conditions.append("(billable AND sales_invoice_id IS NULL)")
        if "non_billable" in states:
            conditions.append("NOT billable")
        if not conditions or not set(states) <= {"open", "non_billable"}:
            raise Answer(400, f"bad state {terms['state']!r}")
        where.append(f"({' OR '.join(conditions)})")
    if "contact_id" in terms:
        nil = " OR contact_id IS NULL" if flag(terms, "include_nil_contacts") else ""
        where.append(f"(contact_id = %s{nil})")
        args.append(record_id(terms["contact_id"]))
    for key in ("project_id", "user_id"):
        if key in terms:
            where.append(f"{key} = %s")
            args.append(record_id(terms[key]))
    if not flag(terms, "include_active"):
        where.append("ended_at IS NOT NULL")
    query = one(params, "query")
    if query:
        # Django's icontains on PostgreSQL, with its escaping of LIKE's wildcards.
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("UPPER(description::text) LIKE UPPER(%s)")
        args.append(f"%{escaped}%")
    return " AND ".join(where), args


def flag(terms: dict, key: str) -> bool:
    try:
        return parse_flag(terms.get(key))
    except ValueError:
        raise Answer(400, f"bad {key}") from None


def record_id(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        raise Answer(400, f"bad id {value!r}")
    return parse_id(value) or 0


def link_header(environ: dict, params: dict, page: int, per_page: int, total: int) -> str:
    """common.pagination.link_header: absolute next/prev URLs keeping the other parameters."""
    last = max(1, -(-total // per_page))
    base = f"{environ.get('wsgi.url_scheme', 'http')}://{environ['HTTP_HOST']}"
    base += environ.get("SCRIPT_NAME", "") + environ["PATH_INFO"]
    links = []

    def url(page_number: int) -> str:
        query = {**params, "page": [str(page_number)], "per_page": [str(per_page)]}
        return f"{base}?{urlencode(sorted(query.items()), doseq=True)}"

    if page < last:
        links.append(f'<{url(page + 1)}>; rel="next"')
    if page > 1:
        links.append(f'<{url(min(page - 1, last))}>; rel="prev"')
    return ", ".join(links)


def decode_cursor(text: str) -> tuple[datetime, int]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        started = datetime.fromisoformat(values[0]).astimezone(UTC)
        return started, int(values[1])
    except (ValueError, TypeError, IndexError, OverflowError):
        raise Answer(400, "cursor is invalid") from None


def encode_cursor(started: datetime, entry_id: str) -> str:
    """common.pagination.Keyset.encode for ("-started_at", "id")."""
    raw = orjson.dumps([started.astimezone(UTC).isoformat(), entry_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- rendering --------------------------------------------------------------------------------


def render_moneybird(row: tuple, sales_invoices: bool) -> dict[str, Any]:
    (
        entry_id, administration_id, contact_id, project_id, invoice_id, user_id, started,
        ended, description, paused, billable, created, updated,
        firstname, lastname, company_name,
        user_name, email, user_created, user_updated,
        project_name, project_state, budget,
        invoice_administration, invoice_contact, number, invoice_state, invoice_date, due_date,
        invoice_created, invoice_updated,
        events, notes,
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
        "billable": billable,
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
            "name": user_name or email.split("@")[0],
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
        "events": events or [],
        "notes": notes or [],
    }
    if not sales_invoices:
        del body["sales_invoice"]
    return body


def render_expensicat(row: tuple) -> dict[str, Any]:
    (
        entry_id, organization_id, user_id, project_id, started, ended, duration, description,
        billable, created, updated, _started_at,
        user_name, email, avatar_url,
        project_name, customer_id, hourly_rate, currency,
        company_name, firstname, lastname, customer_number,
        invoice_id, number, invoice_state, invoice_date, due_date,
    ) = row  # fmt: skip
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
        "billable": billable,
        "invoice_id": invoice_id,
        "created_at": created,
        "updated_at": updated,
        "user": {
            "id": user_id,
            "full_name": user_name or email.split("@")[0],
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


app = App()
