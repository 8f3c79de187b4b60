"""Reports: hours and money of a set of time entries, grouped by project, person, contact,
billable and period, computed by the database.

`time_entry_report(queryset, group_by=..., time_zone=...)` takes any queryset of entries (the
Moneybird list's filter, the Expensicat list's, the admin's changelist) and answers plain data:

    {"totals": TOTALS, "groups": [{"key", "name", **TOTALS, "groups": [...]}, ...]}
    TOTALS = {"entries": int, "seconds": int, "billable_seconds": int,
              "amounts": [{"currency": "EUR", "amount": "123.45"}, ...]}

- `seconds` is ended minus started minus paused (a running entry counts up to `now`);
  `billable_seconds` the same over the billable entries.
- `amounts`: billable hours times the project's hourly rate, one item per currency (sorted by
  currency, never summed across currencies), as a decimal string with two places rounded half up
  at the level shown. An entry without a project, or whose project has no rate, counts in the
  hours and not in the amounts.
- Keys: project, user and contact ids as strings with their display name in `name`, null for
  entries without one (the empty group is a group like any other); billable true/false; day,
  week (its first day) and year... as dates: day and week `YYYY-MM-DD`, month `YYYY-MM`, year
  `YYYY`. `name` is null for billable and the periods.
- A period bucket is the day (week, month, year) on which the entry's start falls in
  `time_zone`: a daylight-saving day of 23 or 25 hours is still one day.
- Groups are sorted by key, null last; the second level's groups sit in `groups` of the first
  level's (a leaf group has no `groups`).

The statement: one SELECT ... GROUP BY over the queryset, by the requested keys plus the project
(for its rate and currency; grouping by project already does). The database sums the durations
and pauses; Python only multiplies each (group, project) row's billable seconds by the
project's rate, exactly in Decimal, and adds those few rows up into the levels shown. The local
date is Django's own time-zone-aware truncation: `AT TIME ZONE` and DATE_TRUNC on PostgreSQL,
Django's zoneinfo-backed SQL functions on SQLite, so both databases agree across DST.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

from administrations.models import User
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


def parse_time_zone(name: str | None, *, default: ZoneInfo, field: str = "time_zone") -> ZoneInfo:
    """An IANA zone name, or `default` when none is given."""
    if name is None or name == "":
        return default
    try:
        if name != name.strip() or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise BadRequest(f"Unknown time zone {name!r} in {field}", field=field) from None


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


# Per grouping: the values() columns that make its key, and those that make its name.
_COLUMNS = {
    "project": ("project_id", ("project__name",)),
    "user": ("user_id", ("user__name", "user__email")),
    "contact": (
        "contact_id",
        (
            "contact__company_name",
            "contact__firstname",
            "contact__lastname",
            "contact__customer_id",
        ),
    ),
    "billable": ("billable", ()),
}
# Every row also carries its project's rate and currency, which the amounts need.
_PROJECT = ("project_id", "project__hourly_rate", "project__currency")


def _statement(
    queryset: QuerySet, group_by: Sequence[str], zone: ZoneInfo, week_start: str, now: datetime
) -> QuerySet:
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
            key, names = _COLUMNS[grouping]
            columns += [key, *names]
    columns += [c for c in _PROJECT if c not in columns]
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
        if currency is not None and rate is not None:
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
    key = row[_COLUMNS[grouping][0]]
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
    for row in _statement(queryset, group_by, time_zone, week_start, now):
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
