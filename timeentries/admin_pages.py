"""The admin's own pages for time entries: a person's week and an administration's report.
Both read through timeentries.reports in a fixed number of queries, whatever the data, and
work in the administration's time zone."""

from datetime import date, datetime, timedelta

from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from administrations.models import Administration, Membership
from common.admin import zone_label
from common.periods import NAMED_PERIODS, PeriodError, resolve_period
from timeentries.charts import stacked_bars
from timeentries.reports import time_entry_report
from timeentries.selectors import time_entries_of
from timeentries.totals import amounts_text, hours_minutes, key_date

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _local_range(start: date, end: date, tz) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, datetime.min.time(), tz),
        datetime.combine(end, datetime.min.time(), tz),
    )


def changelist_url(**params) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{reverse('admin:timeentries_timeentry_changelist')}?{query}"


def _days_period(first: date, last: date) -> str:
    return f"{first:%Y%m%d}..{last:%Y%m%d}"


# --- timesheet --------------------------------------------------------------------------------


def timesheet_page(model_admin, request) -> TemplateResponse:
    """?administration=&user=&week=YYYY-MM-DD (any day of the week; default this week)."""
    membership = (
        Membership.objects.select_related("administration", "user")
        .filter(
            administration_id=_int(request.GET.get("administration")),
            user_id=_int(request.GET.get("user")),
        )
        .first()
    )
    if membership is None:
        raise Http404("No such person in that administration")
    administration, person = membership.administration, membership.user
    tz = administration.tz
    try:
        day = date.fromisoformat(request.GET.get("week") or "")
    except ValueError:
        day = timezone.now().astimezone(tz).date()
    monday = day - timedelta(days=day.weekday())
    days = [monday + timedelta(days=n) for n in range(7)]
    low, high = _local_range(monday, monday + timedelta(days=7), tz)
    entries = time_entries_of(administration).filter(
        user_id=person.pk, started_at__gte=low, started_at__lt=high
    )
    report = time_entry_report(entries, group_by=("project", "day"), time_zone=tz)
    base = {"administration": administration.pk, "user": person.pk}
    week_period = _days_period(days[0], days[-1])
    day_seconds = dict.fromkeys(days, 0)
    rows = []
    for group in report["groups"]:
        project = {"project": group["key"]} if group["key"] else {"project__isnull": "True"}
        by_day = {key_date(g["key"]): g["seconds"] for g in group["groups"]}
        cells = []
        for when in days:
            seconds = by_day.get(when, 0)
            day_seconds[when] += seconds
            cells.append(
                {
                    "text": hours_minutes(seconds) if seconds else "",
                    "url": changelist_url(**base, **project, period=_days_period(when, when)),
                }
            )
        rows.append(
            {
                "name": group["name"] or "(no project)",
                "cells": cells,
                "total": hours_minutes(group["seconds"]),
                "url": changelist_url(**base, **project, period=week_period),
            }
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Timesheet: {person.display_name}, week {monday:%G-W%V}",
        "subtitle": f"{administration.name} · {zone_label(tz)}",
        "administration": administration,
        "person": person,
        "days": [(WEEKDAYS[n], d) for n, d in enumerate(days)],
        "rows": rows,
        "day_totals": [
            {
                "text": hours_minutes(day_seconds[d]),
                "url": changelist_url(**base, period=_days_period(d, d)),
            }
            for d in days
        ],
        "week_total": hours_minutes(report["totals"]["seconds"]),
        "billable_total": hours_minutes(report["totals"]["billable_seconds"]),
        "amounts": amounts_text(report["totals"]),
        "week_url": changelist_url(**base, period=week_period),
        "prev_url": _timesheet_link(administration.pk, person.pk, monday - timedelta(days=7)),
        "next_url": _timesheet_link(administration.pk, person.pk, monday + timedelta(days=7)),
        "this_url": _timesheet_link(administration.pk, person.pk, None),
    }
    return TemplateResponse(request, "admin/timeentries/timesheet.html", context)


def _timesheet_link(administration_id: int, user_id: int, monday: date | None) -> str:
    params = {"administration": administration_id, "user": user_id}
    if monday is not None:
        params["week"] = monday.isoformat()
    return f"{reverse('admin:timeentries_timeentry_timesheet')}?{urlencode(params)}"


# --- report -----------------------------------------------------------------------------------

REPORT_GROUPINGS = (
    ("project", "Project"),
    ("user", "Person"),
    ("contact", "Contact"),
    ("billable", "Billable"),
    ("week", "Week"),
    ("month", "Month"),
)
PERIOD_CHOICES = (
    ("this_week", "This week"),
    ("prev_week", "Last week"),
    ("this_month", "This month"),
    ("prev_month", "Last month"),
    ("this_quarter", "This quarter"),
    ("prev_quarter", "Last quarter"),
    ("this_year", "This year"),
    ("prev_year", "Last year"),
)


def _group_label(grouping: str, group: dict) -> str:
    if grouping == "billable":
        return "Billable" if group["key"] else "Not billable"
    if grouping in ("week", "month"):
        return f"week of {group['key']}" if grouping == "week" else group["key"]
    empty = {"project": "(no project)", "contact": "(no contact)", "user": "(nobody)"}
    return group["name"] or empty[grouping]


def report_page(model_admin, request) -> TemplateResponse:
    """?administration=&period=this_month|YYYYMM..YYYYMM|YYYYMMDD..YYYYMMDD&group_by=project
    [&format=csv]: a table of groups, a chart of hours per week stacked by project."""
    from timeentries.admin import csv_response

    administration = Administration.objects.filter(
        pk=_int(request.GET.get("administration"))
    ).first()
    if administration is None:
        raise Http404("No such administration")
    tz = administration.tz
    today = timezone.now().astimezone(tz).date()
    period = (
        request.GET.get("period_custom", "").strip() or request.GET.get("period") or "this_month"
    )
    error = None
    try:
        start, end = resolve_period(period, today=today)
    except PeriodError as exc:
        error = f"{exc.message}; showing this month"
        period = "this_month"
        start, end = resolve_period(period, today=today)
    grouping = request.GET.get("group_by") or "project"
    if grouping not in dict(REPORT_GROUPINGS):
        grouping = "project"
    low, high = _local_range(start, end, tz)
    entries = time_entries_of(administration).filter(started_at__gte=low, started_at__lt=high)
    if request.GET.get("format") == "csv":
        return csv_response(entries, f"report-{start:%Y%m%d}-{end - timedelta(days=1):%Y%m%d}.csv")
    # The chart's stacks: hours per week and project. Grouped by week, the table reads the same
    # statement's first level; otherwise it has its own.
    chart_report = time_entry_report(entries, group_by=("week", "project"), time_zone=tz)
    if grouping == "week":
        report = chart_report
    else:
        report = time_entry_report(entries, group_by=(grouping,), time_zone=tz)
    last_day = end - timedelta(days=1)
    base = {"administration": administration.pk, "period": _days_period(start, last_day)}
    rows = []
    for group in report["groups"]:
        filters = dict(base)
        if grouping in ("project", "user", "contact"):
            if group["key"] is None:
                filters[f"{grouping}__isnull"] = "True"
            else:
                filters[grouping] = group["key"]
        elif grouping == "billable":
            filters["billable__exact"] = "1" if group["key"] else "0"
        elif grouping in ("week", "month"):
            first = key_date(group["key"])
            last = (
                first + timedelta(days=6)
                if grouping == "week"
                else (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            )
            filters["period"] = _days_period(max(first, start), min(last, end - timedelta(days=1)))
        rows.append(
            {
                "label": _group_label(grouping, group),
                "entries": group["entries"],
                "hours": hours_minutes(group["seconds"]),
                "billable": hours_minutes(group["billable_seconds"]),
                "amounts": amounts_text(group),
                "url": changelist_url(**filters),
            }
        )
    weeks = []
    first_monday = start - timedelta(days=start.weekday())
    week = first_monday
    while week < end:
        weeks.append(week)
        week += timedelta(days=7)
    series: dict[str, dict[date, float]] = {}
    for week_group in chart_report["groups"]:
        when = key_date(week_group["key"])
        for project in week_group["groups"] or ():
            label = project["name"] or "(no project)"
            series.setdefault(label, {})[when] = project["seconds"] / 3600
    chart = stacked_bars(
        weeks,
        sorted(series.items(), key=lambda item: -sum(item[1].values())),
        title=f"Hours per week by project, {administration.name}",
    )
    query = request.GET.copy()
    query["format"] = "csv"
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Report: {administration.name}",
        "subtitle": (f"{start:%Y-%m-%d} to {last_day:%Y-%m-%d} · {zone_label(tz)}"),
        "administration": administration,
        "period": period,
        "grouping": grouping,
        "periods": PERIOD_CHOICES,
        "named_periods": NAMED_PERIODS,
        "groupings": REPORT_GROUPINGS,
        "grouping_label": dict(REPORT_GROUPINGS)[grouping],
        "rows": rows,
        "totals": {
            "entries": report["totals"]["entries"],
            "hours": hours_minutes(report["totals"]["seconds"]),
            "billable": hours_minutes(report["totals"]["billable_seconds"]),
            "amounts": amounts_text(report["totals"]),
        },
        "chart": chart,
        "error": error,
        "csv_url": f"{request.path}?{query.urlencode()}",
        "list_url": changelist_url(**base),
    }
    return TemplateResponse(request, "admin/timeentries/report.html", context)
