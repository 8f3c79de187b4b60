"""Reports: hours and money of a set of time entries, grouped by project, person, contact,
billable and period, computed by the database.

`time_entry_report(queryset, group_by=..., time_zone=...)` takes any filtered queryset of
entries (the Moneybird list's, the Expensicat list's, the admin's changelist; plain filters, no
annotations or slices of its own: its ordering is dropped) and answers plain data, e.g.

    time_entry_report(time_entries_of(adm).filter(...), group_by=("project", "week"),
                      time_zone=adm.tz)

parse_group_by, parse_week_start and parse_time_zone turn request parameters into its arguments
(a BadRequest naming the bad one); report_csv renders an answer as CSV. The answer:

    {"totals": TOTALS, "groups": [{"key", "name", **TOTALS, "groups": [...]}, ...]}
    TOTALS = {"entries": int, "seconds": int, "billable_seconds": int,
              "amounts": [{"currency": "EUR", "amount": "123.45"}, ...]}

- `seconds` is ended minus started minus paused (a running entry counts up to `now`);
  `billable_seconds` the same over the billable entries.
- `amounts`: billable hours times the project's hourly rate, one item per currency (sorted by
  currency, never summed across currencies), as a decimal string with two places rounded half up
  at the level shown. An entry without a project, or whose project has no rate, counts in the
  hours and not in the amounts; a group without billable rated time has no amounts ([]).
- Keys: project, user and contact ids as strings with their display name in `name`, null for
  entries without one (the empty group is a group like any other); billable true/false; a day
  and a week (its first day) as `YYYY-MM-DD`, a month as `YYYY-MM`, a year as `YYYY`. `name`
  is null for billable and the periods.
- A period bucket is the day (week, month, year) on which the entry's start falls in
  `time_zone`: a daylight-saving day of 23 or 25 hours is still one day.
- Groups are sorted by key, null last; the second level's groups sit in `groups` of the first
  level's (a leaf group has no `groups`).

The statement: one SELECT that groups the queryset's entries by the requested keys plus the
project (for its rate and currency; grouping by project already does), and joins the names,
rates and currencies to those groups. The database sums the durations and pauses; Python only
multiplies each (group, project) row's billable seconds by the project's rate, exactly in
Decimal, and adds those few rows up into the levels shown. The local date is Django's own
time-zone-aware truncation: `AT TIME ZONE` and DATE_TRUNC on PostgreSQL, Django's
zoneinfo-backed SQL functions on SQLite, so both databases agree across DST.
"""

import csv
import functools
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django.db import connections
from django.db.models import (
    Case,
    Count,
    DateField,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth, TruncWeek, TruncYear
from django.utils import timezone

from administrations.models import Contact, Project, User
from common.exceptions import BadRequest

GROUPINGS = ("project", "user", "contact", "billable", "day", "week", "month", "year")
PERIODS = ("day", "week", "month", "year")
WEEK_STARTS = ("monday", "sunday")
MAX_GROUPINGS = 2

_CENT = Decimal("0.01")
_HOUR = 3600


# --- parameters ------------------------------------------------------------------------------


def parse_group_by(
    text: str | None, *, field: str = "group_by", aliases: dict[str, str] | None = None
) -> tuple[str, ...]:
    """`project,week` -> ("project", "week"). `aliases` maps a dialect's names onto GROUPINGS
    (Expensicat's `customer` is a contact). A bad value is a BadRequest naming it."""
    aliases = aliases or {}
    accepted = {**{g: g for g in GROUPINGS if g not in aliases.values()}, **aliases}
    names = [part.strip() for part in (text or "").split(",") if part.strip()]
    groupings: list[str] = []
    for name in names:
        grouping = accepted.get(name)
        if grouping is None:
            raise BadRequest(
                f"Unknown grouping {name!r} in {field}; known: {', '.join(accepted)}", field=field
            )
        if grouping in groupings:
            raise BadRequest(f"Grouping {name!r} is given twice in {field}", field=field)
        groupings.append(grouping)
    if len(groupings) > MAX_GROUPINGS:
        raise BadRequest(
            f"At most {MAX_GROUPINGS} groupings in {field}, got {len(groupings)}: {text}",
            field=field,
        )
    return tuple(groupings)


@functools.cache
def _known_zones() -> frozenset[str]:
    # Names from the zone database only, never a path ZoneInfo would open. Read once:
    # available_timezones() walks the zone folder.
    return frozenset(available_timezones())


def group_by_schema(names: Sequence[str]) -> dict[str, Any]:
    """What parse_group_by takes, for the OpenAPI: none, one or two different `names`,
    comma-separated; blank parts and white space around a name are left out."""
    blank = r"[\s,]*"
    choices = [re.escape(n) for n in names]
    pairs = [f"{a}\\s*(?:,\\s*)+{b}" for a in choices for b in choices if a != b]
    alternatives = "|".join([*pairs, *choices])
    return {"type": "string", "pattern": f"^{blank}(?:(?:{alternatives}){blank})?$"}


def time_zone_schema() -> dict[str, Any]:
    """What parse_time_zone takes, for the OpenAPI: a name of the zone database."""
    return {"type": "string", "enum": sorted(_known_zones())}


def week_start_schema() -> dict[str, Any]:
    """What parse_week_start takes, for the OpenAPI."""
    return {"type": "string", "enum": list(WEEK_STARTS)}


def parse_time_zone(name: str | None, *, default: ZoneInfo, field: str = "time_zone") -> ZoneInfo:
    """An IANA zone name, or `default` when none is given."""
    if name is None or name == "":
        return default
    if name not in _known_zones():
        raise BadRequest(f"Unknown time zone {name!r} in {field}", field=field)
    return ZoneInfo(name)


def parse_week_start(name: str | None, *, field: str = "week_start") -> str:
    if name is None or name == "":
        return "monday"
    if name not in WEEK_STARTS:
        raise BadRequest(
            f"Invalid {field} {name!r}; expected {' or '.join(WEEK_STARTS)}", field=field
        )
    return name


# --- the statement ---------------------------------------------------------------------------


class _SundayWeek(Func):
    """The Sunday on or before the day the entry starts on in `zone`."""

    output_field = DateField()

    def __init__(self, zone: ZoneInfo):
        self.zone = zone
        super().__init__(F("started_at"))

    def as_sql(self, compiler, connection, **extra_context):
        # SQLite: the local date as TruncDate computes it, then the first Sunday on or after
        # six days earlier.
        sql, params = compiler.compile(self.source_expressions[0])
        sql, params = connection.ops.datetime_cast_date_sql(sql, tuple(params), self.zone.key)
        return f"date({sql}, '-6 days', 'weekday 0')", params

    def as_postgresql(self, compiler, connection, **extra_context):
        # DATE_TRUNC's weeks start on Monday: shift the local time a day on, the week back.
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"(DATE_TRUNC('week', ({sql} AT TIME ZONE %s) + INTERVAL '1 day'))::date - 1",
            (*params, self.zone.key),
        )


def _bucket(period: str, zone: ZoneInfo, week_start: str) -> Any:
    if period == "day":
        return TruncDate("started_at", tzinfo=zone)
    if period == "week" and week_start == "sunday":
        return _SundayWeek(zone)
    trunc = {"week": TruncWeek, "month": TruncMonth, "year": TruncYear}[period]
    return trunc("started_at", tzinfo=zone, output_field=DateField())


# Per grouping of a related record: the entry's column, the related model and the columns of
# its name (read as `<grouping>__<column>`). The project's rate and currency are read always.
_RELATED = {
    "project": ("project_id", Project, ("name",)),
    "user": ("user_id", User, ("name", "email")),
    "contact": ("contact_id", Contact, ("company_name", "firstname", "lastname", "customer_id")),
}
_PROJECT_FIGURES = ("hourly_rate", "currency")


def _aggregate(
    queryset: QuerySet, group_by: Sequence[str], zone: ZoneInfo, week_start: str, now: datetime
) -> QuerySet:
    """The GROUP BY over the entries alone: by the groupings' keys and the project."""
    ended = Coalesce("ended_at", Value(now, output_field=DateTimeField()))
    worked = ExpressionWrapper(ended - F("started_at"), output_field=DurationField())
    billable = {"billable": True}
    columns: list[str] = []
    buckets = {}
    for grouping in group_by:
        if grouping in PERIODS:
            buckets[f"bucket_{grouping}"] = _bucket(grouping, zone, week_start)
            columns.append(f"bucket_{grouping}")
        else:
            columns.append(_RELATED[grouping][0] if grouping in _RELATED else grouping)
    if "project_id" not in columns:
        columns.append("project_id")
    return (
        queryset.order_by()
        .annotate(**buckets)
        .values(*columns)
        .annotate(
            n_entries=Count("id"),
            worked=Sum(worked),
            paused=Sum("paused_duration"),
            billable_worked=Sum(Case(When(then=worked, **billable))),
            billable_paused=Sum(Case(When(then=F("paused_duration"), **billable))),
        )
    )


def _statement(
    queryset: QuerySet, group_by: Sequence[str], zone: ZoneInfo, week_start: str, now: datetime
) -> tuple[str, tuple]:
    """The one statement: the entries grouped first, then the names, rates and currencies
    joined to the groups. Joined before grouping, every entry would drag the names through the
    sort (which then spills to disk: twice the time for a year of a big administration)."""
    inner, params = _aggregate(queryset, group_by, zone, week_start, now).query.sql_with_params()
    quote = connections[queryset.db].ops.quote_name
    select, joins = ["r.*"], []
    for grouping in ("project", *(g for g in group_by if g in ("user", "contact"))):
        column, model, names = _RELATED[grouping]
        if grouping == "project":
            names = (*names, *_PROJECT_FIGURES) if "project" in group_by else _PROJECT_FIGURES
        alias = grouping[0]
        select += [f"{alias}.{quote(name)} AS {quote(f'{grouping}__{name}')}" for name in names]
        joins.append(
            f"LEFT JOIN {quote(model._meta.db_table)} {alias} ON {alias}.{quote('id')} = "
            f"r.{quote(column)}"
        )
    return f"SELECT {', '.join(select)} FROM ({inner}) r {' '.join(joins)}", params


def _rows(
    queryset: QuerySet, group_by: Sequence[str], zone: ZoneInfo, week_start: str, now: datetime
) -> Iterator[dict[str, Any]]:
    sql, params = _statement(queryset, group_by, zone, week_start, now)
    connection = connections[queryset.db]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    # Read raw, the values come as each database sends them: SQLite sends durations as
    # microseconds, booleans as 0/1, decimals as numbers and dates as text.
    microseconds = connection.vendor == "sqlite"
    for values in rows:
        row = dict(zip(names, values, strict=True))
        for name in ("worked", "billable_worked"):
            value = row[name]
            if isinstance(value, int | float) and microseconds:
                row[name] = timedelta(microseconds=value)
        if "billable" in row:
            row["billable"] = bool(row["billable"])
        rate = row["project__hourly_rate"]
        if rate is not None and not isinstance(rate, Decimal):
            row["project__hourly_rate"] = Decimal(str(rate)).quantize(_CENT)
        yield row


# --- rolling the rows up ---------------------------------------------------------------------


@dataclass
class _Totals:
    entries: int = 0
    seconds: int = 0
    billable_seconds: int = 0
    # Per currency: the sum of billable seconds x hourly rate (an amount times 3600), exact.
    money: dict[str, Decimal] = field(default_factory=dict)

    def add(self, entries: int, seconds: int, billable: int, currency: str | None, rate) -> None:
        self.entries += entries
        self.seconds += seconds
        self.billable_seconds += billable
        # Only billable time carries money: a group with none shows no amount, not 0.00.
        if currency is not None and rate is not None and billable:
            self.money[currency] = self.money.get(currency, Decimal(0)) + billable * Decimal(rate)

    def as_dict(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "seconds": self.seconds,
            "billable_seconds": self.billable_seconds,
            "amounts": [
                {
                    "currency": currency,
                    "amount": str((self.money[currency] / _HOUR).quantize(_CENT, ROUND_HALF_UP)),
                }
                for currency in sorted(self.money)
            ],
        }


@dataclass
class _Group:
    key: Any
    name: str | None
    totals: _Totals = field(default_factory=_Totals)
    children: dict[Any, "_Group"] = field(default_factory=dict)


def _seconds(value: timedelta | int | None) -> int:
    if value is None:
        return 0
    if isinstance(value, timedelta):
        # Entries hold whole minutes and `now` is whole seconds: no fraction is lost.
        return value.days * 86400 + value.seconds
    return int(value)


def _as_date(value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])


def _key_and_name(grouping: str, row: dict[str, Any]) -> tuple[Any, str | None]:
    """The typed key (sorted on) and the name of a row's group."""
    if grouping in PERIODS:
        return _as_date(row[f"bucket_{grouping}"]), None
    if grouping == "billable":
        return bool(row["billable"]), None
    key = row[_RELATED[grouping][0]]
    if key is None:
        return None, None
    if grouping == "project":
        return key, row["project__name"]
    if grouping == "user":
        return key, User.name_to_show(row["user__name"] or "", row["user__email"] or "")
    person = f"{row['contact__firstname'] or ''} {row['contact__lastname'] or ''}".strip()
    return key, row["contact__company_name"] or person or row["contact__customer_id"]


def _render_key(grouping: str, key: Any) -> Any:
    if key is None or grouping == "billable":
        return key
    if grouping == "month":
        return key.strftime("%Y-%m")
    if grouping == "year":
        return f"{key.year:04d}"
    if grouping in PERIODS:
        return key.isoformat()
    return str(key)


def _sort_key(group: _Group) -> tuple:
    return (group.key is None, group.key if group.key is not None else 0)


def _render_groups(groups: Iterable[_Group], group_by: Sequence[str]) -> list[dict[str, Any]]:
    grouping, rest = group_by[0], group_by[1:]
    rendered = []
    for group in sorted(groups, key=_sort_key):
        item = {"key": _render_key(grouping, group.key), "name": group.name}
        item.update(group.totals.as_dict())
        if rest:
            item["groups"] = _render_groups(group.children.values(), rest)
        rendered.append(item)
    return rendered


def time_entry_report(
    queryset: QuerySet,
    *,
    group_by: Sequence[str] = (),
    time_zone: ZoneInfo,
    week_start: str = "monday",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report of the entries in `queryset` (already filtered and scoped to one
    administration), grouped by up to two of GROUPINGS, in one SQL statement. Running entries
    in the queryset count up to `now` (default: this second). See the module docstring for the
    shape of the answer."""
    if len(group_by) > MAX_GROUPINGS or any(g not in GROUPINGS for g in group_by):
        raise ValueError(f"group_by: at most {MAX_GROUPINGS} of {GROUPINGS}")
    if week_start not in WEEK_STARTS:
        raise ValueError(f"week_start: one of {WEEK_STARTS}")
    now = (now or timezone.now()).replace(microsecond=0)
    totals = _Totals()
    top: dict[Any, _Group] = {}
    for row in _rows(queryset, group_by, time_zone, week_start, now):
        seconds = _seconds(row["worked"]) - (row["paused"] or 0)
        billable = _seconds(row["billable_worked"]) - (row["billable_paused"] or 0)
        counts = (
            row["n_entries"],
            seconds,
            billable,
            row["project__currency"],
            row["project__hourly_rate"],
        )
        totals.add(*counts)
        level = top
        for grouping in group_by:
            key, name = _key_and_name(grouping, row)
            group = level.get(key)
            if group is None:
                group = level[key] = _Group(key, name)
            group.totals.add(*counts)
            level = group.children
    return {
        "totals": totals.as_dict(),
        "groups": _render_groups(top.values(), group_by) if group_by else [],
    }


# --- CSV -------------------------------------------------------------------------------------

_NAMED = ("project", "user", "contact")


def _hours(seconds: int) -> str:
    return str((Decimal(seconds) / _HOUR).quantize(_CENT, ROUND_HALF_UP))


def report_csv(report: dict[str, Any], group_by: Sequence[str]) -> str:
    """A report as CSV: one row per leaf group (one row of the totals without grouping), the
    keys (and, for project, user and contact, the names) as columns, then entries, hours and
    billable hours with two decimals, and an amount column per currency in the report."""
    currencies = [item["currency"] for item in report["totals"]["amounts"]]
    header: list[str] = []
    for grouping in group_by:
        header += [grouping, f"{grouping}_name"] if grouping in _NAMED else [grouping]
    header += ["entries", "hours", "billable_hours", *(f"amount_{c}" for c in currencies)]

    def cell(grouping: str, group: dict[str, Any]) -> list[str]:
        key = group["key"]
        if key is None:
            text = ""
        elif grouping == "billable":
            text = "true" if key else "false"
        else:
            text = str(key)
        return [text, group["name"] or ""] if grouping in _NAMED else [text]

    def figures(totals: dict[str, Any]) -> list[str]:
        amounts = {item["currency"]: item["amount"] for item in totals["amounts"]}
        return [
            str(totals["entries"]),
            _hours(totals["seconds"]),
            _hours(totals["billable_seconds"]),
            *(amounts.get(c, "") for c in currencies),
        ]

    def leaves(groups: list[dict[str, Any]], depth: int, prefix: list[str]) -> Iterator:
        for group in groups:
            cells = prefix + cell(group_by[depth], group)
            if depth + 1 < len(group_by):
                yield from leaves(group["groups"], depth + 1, cells)
            else:
                yield cells + figures(group)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    if group_by:
        writer.writerows(leaves(report["groups"], 0, []))
    else:
        writer.writerow(figures(report["totals"]))
    return out.getvalue()
