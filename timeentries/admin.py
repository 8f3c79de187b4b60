"""Time entries in the admin: every write is a time-entry service call (see ServiceAdmin).

A bookkeeper's Monday: the entries list in the administration's time zone with durations and
totals, filters down to a person's week, that person's weekly timesheet, a report per
administration, and a CSV export of any of these (the exporter of `export_time_entries`).

Queries of the list page, whatever its size: the session and the user (Django's), one union of
the administrations, members, projects and contacts the filters offer (`FilterChoices`), one
grouped sum for the totals, the count and the date drill-down (`timeentries.totals`), and the
page of rows with their related rows joined."""

import contextlib
import dataclasses
import textwrap
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, F, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from administrations.models import Administration, Contact, Membership, Project
from common.admin import (
    ServiceAdmin,
    UurwerkMedia,
    ZonedFormMixin,
    default_tz,
    html_table,
    local_time,
    zone_label,
)
from common.periods import PeriodError, resolve_period
from notes.admin import AuditTrailMixin
from notes.models import Note
from timeentries import services
from timeentries.exports import write_csv
from timeentries.models import TimeEntry
from timeentries.reports import time_entry_report
from timeentries.totals import entry_seconds, hours_minutes, key_date

# --- what the page's filters offer, in one query ---------------------------------------------


@dataclasses.dataclass
class FilterChoices:
    """Administrations (id -> (name, zone)) and, within the chosen administration (or all when
    none is chosen), members, projects and contacts: id -> (label, administration id, state)."""

    administrations: dict[int, tuple[str, str]]
    people: dict[int, tuple[str, int, str]]
    projects: dict[int, tuple[str, int, str]]
    contacts: dict[int, tuple[str, int, str]]
    chosen: int | None

    @property
    def several(self) -> bool:
        return len(self.administrations) > 1

    @property
    def tz(self) -> tzinfo | None:
        """The one zone of the page, or None when it spans administrations of several zones."""
        if self.chosen in self.administrations:
            return ZoneInfo(self.administrations[self.chosen][1])
        zones = {zone for _, zone in self.administrations.values()}
        return ZoneInfo(zones.pop()) if len(zones) == 1 else None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def filter_choices(administration_id: int | None) -> FilterChoices:
    text = CharField()

    def columns(queryset, kind, ident, label, owner, extra):
        return (
            queryset.order_by()
            .annotate(
                c_kind=Value(kind, output_field=text),
                c_id=ident,
                c_label=label,
                c_adm=owner,
                c_extra=extra,
            )
            .values_list("c_kind", "c_id", "c_label", "c_adm", "c_extra")
        )

    scoped = {"administration_id": administration_id} if administration_id else {}
    administrations = columns(
        Administration.objects.all(), "a", F("id"), F("name"), F("id"), F("time_zone")
    )
    people = columns(
        Membership.objects.filter(**scoped),
        "u",
        F("user_id"),
        Coalesce(NullIf(F("user__name"), Value("")), F("user__email"), output_field=text),
        F("administration_id"),
        F("role"),
    )
    projects = columns(
        Project.objects.filter(**scoped),
        "p",
        F("id"),
        F("name"),
        F("administration_id"),
        F("state"),
    )
    person = Trim(Concat(F("firstname"), Value(" "), F("lastname"), output_field=text))
    contacts = columns(
        Contact.objects.filter(**scoped),
        "c",
        F("id"),
        Coalesce(
            NullIf(F("company_name"), Value("")),
            NullIf(person, Value("")),
            F("customer_id"),
            output_field=text,
        ),
        F("administration_id"),
        Concat(Value("archived:"), F("archived"), output_field=text),
    )
    found: dict[str, dict] = {"a": {}, "u": {}, "p": {}, "c": {}}
    for kind, ident, label, owner, extra in administrations.union(
        people, projects, contacts, all=True
    ):
        if kind == "a":
            found["a"][ident] = (label, extra)
        else:
            if kind == "c":
                # The boolean as text: "1" on SQLite, "true" on PostgreSQL.
                extra = "archived" if extra.lower() in ("archived:1", "archived:true") else ""
            found[kind][ident] = (label, owner, extra)
    chosen = administration_id if administration_id in found["a"] else None
    if chosen is None and len(found["a"]) == 1:
        chosen = next(iter(found["a"]))
    return FilterChoices(found["a"], found["u"], found["p"], found["c"], chosen)


def choices_for(request) -> FilterChoices:
    """The page's FilterChoices, read once per request."""
    if not hasattr(request, "_uurwerk_choices"):
        request._uurwerk_choices = filter_choices(_int(request.GET.get("administration")))
    return request._uurwerk_choices


# --- list filters -----------------------------------------------------------------------------


class ChoiceFilter(admin.SimpleListFilter):
    """A filter on an id whose options come from the page's FilterChoices."""

    kind = ""
    field = ""

    def lookups(self, request, model_admin):
        choices = choices_for(request)
        rows = getattr(choices, self.kind)
        if self.kind == "administrations":
            return sorted(((str(i), name) for i, (name, _) in rows.items()), key=lambda r: r[1])
        items = []
        for ident, (label, owner, state) in rows.items():
            if choices.chosen is None and choices.several:
                label = f"{label} ({choices.administrations[owner][0]})"
            if state in ("archived",):
                label = f"{label} [archived]"
            items.append((str(ident), label))
        return sorted(items, key=lambda item: item[1].lower())

    def queryset(self, request, queryset):
        value = _int(self.value())
        if value is None:
            return queryset
        return queryset.filter(**{self.field: value})


class AdministrationFilter(ChoiceFilter):
    title = "administration"
    parameter_name = "administration"
    kind = "administrations"
    field = "administration_id"

    def has_output(self):
        return True


class PersonFilter(ChoiceFilter):
    title = "person"
    parameter_name = "user"
    kind = "people"
    field = "user_id"


class ProjectFilter(ChoiceFilter):
    title = "project"
    parameter_name = "project"
    kind = "projects"
    field = "project_id"


class ContactFilter(ChoiceFilter):
    title = "contact"
    parameter_name = "contact"
    kind = "contacts"
    field = "contact_id"


class RunningFilter(admin.SimpleListFilter):
    title = "timer"
    parameter_name = "running"

    def lookups(self, request, model_admin):
        return (("yes", "Running"), ("no", "Stopped"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(ended_at__isnull=self.value() == "yes")
        return queryset


class InvoicedFilter(admin.SimpleListFilter):
    title = "invoiced"
    parameter_name = "invoiced"

    def lookups(self, request, model_admin):
        return (("yes", "Invoiced"), ("no", "Not invoiced"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(sales_invoice__isnull=self.value() == "no")
        return queryset


PERIOD_SHORTCUTS = (
    ("this_week", "This week"),
    ("prev_week", "Last week"),
    ("this_month", "This month"),
    ("prev_month", "Last month"),
)


def local_bounds(start: date, end: date, tz: tzinfo) -> tuple[datetime, datetime]:
    return datetime.combine(start, time.min, tz), datetime.combine(end, time.min, tz)


class PeriodFilter(admin.SimpleListFilter):
    """Weeks and months in the page's time zone, with the API's period values
    (this_week, prev_month, 20261130..20261206 for any range of days)."""

    title = "period"
    parameter_name = "period"

    def lookups(self, request, model_admin):
        value = self.value()
        known = dict(PERIOD_SHORTCUTS)
        extra = () if value is None or value in known else ((value, value.replace("..", " to ")),)
        return (*PERIOD_SHORTCUTS, *extra)

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        tz = timezone.get_current_timezone()
        try:
            start, end = resolve_period(self.value(), today=timezone.localdate())
        except PeriodError as exc:
            raise admin.options.IncorrectLookupParameters(exc.message) from None
        low, high = local_bounds(start, end, tz)
        return queryset.filter(started_at__gte=low, started_at__lt=high)


# --- the changelist ---------------------------------------------------------------------------


def _hierarchy_bucket(params: dict) -> str | None:
    if params.get("started_at__day"):
        return None
    if params.get("started_at__month"):
        return "day"
    return "month"


class EntryChangeList(ChangeList):
    """Totals, count and date drill-down from one grouped sum (see timeentries.totals)."""

    def get_results(self, request):
        self.zone = timezone.get_current_timezone()
        period = _hierarchy_bucket(self.params)
        report = time_entry_report(
            self.queryset, group_by=(period,) if period else (), time_zone=self.zone
        )
        self.totals = report["totals"]
        self.buckets = [key_date(group["key"]) for group in report["groups"]]
        self.hours = hours_minutes(self.totals["seconds"])
        self.billable_hours = hours_minutes(self.totals["billable_seconds"])
        request._uurwerk_count = self.totals["entries"]
        super().get_results(request)
        self.uurwerk_hierarchy = hierarchy(self)


def hierarchy(cl) -> dict:
    """Django's date drill-down (admin/date_hierarchy.html), from the totals' buckets instead
    of its own two queries."""
    field = cl.date_hierarchy
    year, month, day = (cl.params.get(f"{field}__{p}") for p in ("year", "month", "day"))
    year, month, day = (v[-1] if isinstance(v, list) else v for v in (year, month, day))

    def link(filters):
        return cl.get_query_string(filters, [f"{field}__"])

    y, m, d = f"{field}__year", f"{field}__month", f"{field}__day"
    buckets = cl.buckets
    if year and month and day:
        when = date(int(year), int(month), int(day))
        return {
            "show": True,
            "back": {"link": link({y: year, m: month}), "title": f"{when:%B %Y}"},
            "choices": [{"title": f"{when:%B %-d}"}],
        }
    if year and month:
        return {
            "show": True,
            "back": {"link": link({y: year}), "title": str(year)},
            "choices": [
                {"link": link({y: year, m: month, d: b.day}), "title": f"{b:%B %-d}"}
                for b in buckets
            ],
        }
    years = sorted({b.year for b in buckets})
    if year or len(years) == 1:
        shown = int(year) if year else years[0]
        return {
            "show": True,
            "back": {"link": link({}), "title": "All dates"} if year else None,
            "choices": [
                {"link": link({y: shown, m: b.month}), "title": f"{b:%B %Y}"}
                for b in buckets
                if b.year == shown
            ],
        }
    return {
        "show": True,
        "choices": [{"link": link({y: when}), "title": str(when)} for when in years],
    }


# --- forms ------------------------------------------------------------------------------------


class MinutesField(forms.IntegerField):
    """Whole minutes on the form, seconds in the model and the service."""

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return value // 60
        return value

    def to_python(self, value):
        minutes = super().to_python(value)
        return None if minutes is None else minutes * 60


class TimeEntryForm(forms.ModelForm):
    paused_duration = MinutesField(
        min_value=0, initial=0, label="Paused (minutes)", help_text="Whole minutes of breaks."
    )


# --- the admin --------------------------------------------------------------------------------


@admin.register(TimeEntry)
class TimeEntryAdmin(AuditTrailMixin, ServiceAdmin):
    form = TimeEntryForm
    list_display = (
        "entry",
        "person",
        "started",
        "ended",
        "duration",
        "billable",
        "project_name",
        "contact_name",
    )
    list_display_links = ("entry",)
    list_filter = (
        AdministrationFilter,
        PeriodFilter,
        PersonFilter,
        ProjectFilter,
        ContactFilter,
        InvoicedFilter,
        "billable",
        RunningFilter,
    )
    list_select_related = ("user", "administration", "project", "contact")
    search_fields = (
        "description",
        "user__name",
        "user__email",
        "project__name",
        "contact__company_name",
        "contact__firstname",
        "contact__lastname",
    )
    search_help_text = "Description, person, project or contact."
    date_hierarchy = "started_at"
    show_full_result_count = False
    list_per_page = 100
    autocomplete_fields = ("administration", "user", "contact", "project")
    service_names = {"user": "user_id", "contact": "contact_id", "project": "project_id"}
    actions = ("export_csv",)
    fields = (
        "administration",
        "user",
        "description",
        "started_at",
        "ended_at",
        "paused_duration",
        "billable",
        "contact",
        "project",
        "created_at",
        "updated_at",
        "notes",
        "audit_trail",
    )
    add_fields = fields[:9]
    readonly_fields = ("created_at", "updated_at", "notes", "audit_trail")
    fixed_fields = ("administration",)
    change_list_template = "admin/timeentries/timeentry/change_list.html"

    Media = UurwerkMedia

    def service_create(self, request, values):
        return services.time_entry_create(actor=request.user, **values)

    def service_update(self, request, obj, changes):
        return services.time_entry_update(entry=obj, actor=request.user, changes=changes)

    def service_delete(self, request, obj):
        services.time_entry_delete(entry=obj, actor=request.user)

    # -- the list

    def get_changelist(self, request, **kwargs):
        return EntryChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(
            request, queryset, per_page, orphans, allow_empty_first_page
        )
        if hasattr(request, "_uurwerk_count"):
            paginator.count = request._uurwerk_count  # counted with the totals
        return paginator

    def get_list_display(self, request):
        if choices_for(request).several and choices_for(request).chosen is None:
            return (*self.list_display, "administration")
        return self.list_display

    def get_list_filter(self, request):
        if not choices_for(request).several:
            return self.list_filter[1:]
        return self.list_filter

    def changelist_view(self, request, extra_context=None):
        choices = choices_for(request)
        tz = choices.tz
        with timezone.override(tz or default_tz()):
            context = {
                "subtitle": zone_label(tz) if tz else "Times in each administration's zone",
                "uurwerk_choices": choices,
                "timesheet_url": self._timesheet_url(request, choices),
                "report_url": (
                    reverse("admin:timeentries_timeentry_report")
                    + "?"
                    + urlencode({"administration": choices.chosen})
                    if choices.chosen
                    else None
                ),
                "export_url": reverse("admin:timeentries_timeentry_export")
                + ("?" + request.GET.urlencode() if request.GET else ""),
                **(extra_context or {}),
            }
            response = super().changelist_view(request, extra_context=context)
            if hasattr(response, "render"):
                response.render()  # inside the override: the template formats times too
            return response

    def _timesheet_url(self, request, choices) -> str | None:
        person = _int(request.GET.get("user"))
        if person is None or choices.chosen is None:
            return None
        day = timezone.localdate()
        with contextlib.suppress(PeriodError):  # the week the list's period starts in
            day = resolve_period(request.GET.get("period") or "", today=day)[0]
        return timesheet_url(choices.chosen, person, day)

    def _row_tz(self, obj) -> tuple[tzinfo, bool]:
        """The row's zone, and whether to name it (a page that mixes zones)."""
        current = timezone.get_current_timezone()
        own = obj.administration.tz
        return own, str(own) != str(current)

    @admin.display(description="entry", ordering="description")
    def entry(self, obj):
        return textwrap.shorten(obj.description, 60, placeholder=" …")

    @admin.display(description="person", ordering="user__name")
    def person(self, obj):
        start = obj.started_at.astimezone(obj.administration.tz).date()
        return format_html(
            '<a href="{}" title="Week timesheet">{}</a>',
            timesheet_url(obj.administration_id, obj.user_id, start),
            obj.user.display_name,
        )

    @admin.display(description="start", ordering="started_at")
    def started(self, obj):
        tz, named = self._row_tz(obj)
        return local_time(obj.started_at, tz, with_zone=named)

    @admin.display(description="end", ordering="ended_at")
    def ended(self, obj):
        if obj.ended_at is None:
            return mark_safe('<span class="uurwerk-running">running</span>')
        tz, named = self._row_tz(obj)
        start, end = obj.started_at.astimezone(tz), obj.ended_at.astimezone(tz)
        if start.date() == end.date():
            return f"{end:%H:%M %Z}" if named else f"{end:%H:%M}"
        return local_time(obj.ended_at, tz, with_zone=named)

    @admin.display(description="hours")
    def duration(self, obj):
        seconds = entry_seconds(obj.started_at, obj.ended_at, obj.paused_duration, timezone.now())
        if not obj.paused_duration:
            return hours_minutes(seconds)
        pause = obj.paused_duration // 60
        return format_html(
            '{} <small title="{} minutes paused">({}m pause)</small>',
            hours_minutes(seconds),
            pause,
            pause,
        )

    @admin.display(description="project", ordering="project__name")
    def project_name(self, obj):
        return obj.project.name if obj.project_id else "-"

    @admin.display(description="contact", ordering="contact__company_name")
    def contact_name(self, obj):
        return obj.contact.display_name if obj.contact_id else "-"

    # -- the form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        administration = self._form_administration(request, object_id)
        tz = administration.tz if administration else None
        context = {
            "subtitle_zone": zone_label(tz) if tz else "Times in the administration's time zone",
            "uurwerk_administration": administration,
            **(extra_context or {}),
        }
        if request._uurwerk_entry is not None:
            context["subtitle"] = entry_title(request._uurwerk_entry, tz)
        with timezone.override(tz or default_tz()):
            # Past ZonedFormMixin: the zone is settled above, with the entry it read.
            response = super(ZonedFormMixin, self).changeform_view(
                request, object_id, form_url, context
            )
            if hasattr(response, "render"):
                response.render()
            return response

    def _form_administration(self, request, object_id) -> Administration | None:
        request._uurwerk_entry = None
        if object_id:
            entry = TimeEntry.objects.filter(pk=_int(object_id)).select_related("administration")
            request._uurwerk_entry = found = entry.first()
            return found.administration if found else None
        chosen = _int(request.POST.get("administration") or request.GET.get("administration"))
        if chosen is not None:
            return Administration.objects.filter(pk=chosen).first()
        only = list(Administration.objects.all()[:2])
        return only[0] if len(only) == 1 else None

    def get_object(self, request, object_id, from_field=None):
        found = getattr(request, "_uurwerk_entry", None)
        if found is not None and from_field is None and str(found.pk) == str(object_id):
            return found  # read by changeform_view, with its administration
        return super().get_object(request, object_id, from_field)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if "administration" not in initial:
            only = list(Administration.objects.values_list("pk", flat=True)[:2])
            if len(only) == 1:
                initial["administration"] = only[0]
        return initial

    @admin.display(description="notes")
    def notes(self, obj):
        notes = Note.objects.filter(
            administration_id=obj.administration_id,
            subject_type=obj.entity_type,
            entity_id=obj.pk,
        ).select_related("user")
        tz = obj.administration.tz
        return html_table(
            ("Note", "To-do", "By", f"Created ({tz})"),
            (
                (n.note, "yes" if n.todo else "no", n.user or "-", local_time(n.created_at, tz))
                for n in notes
            ),
        )

    # -- export, timesheet and report

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("export/", wrap(self.export_view), name="timeentries_timeentry_export"),
            path("timesheet/", wrap(self.timesheet_view), name="timeentries_timeentry_timesheet"),
            path("report/", wrap(self.report_view), name="timeentries_timeentry_report"),
            *super().get_urls(),
        ]

    @admin.action(description="Export selected entries to CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        return csv_response(queryset, "time-entries.csv")

    def export_view(self, request):
        """The filtered list (every page) as the CSV of export_time_entries."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        choices = choices_for(request)
        with timezone.override(choices.tz or default_tz()):
            cl = self.get_changelist_instance(request)
            queryset = cl.get_queryset(request)
        return csv_response(queryset, "time-entries.csv")

    def timesheet_view(self, request):
        from timeentries.admin_pages import timesheet_page

        if not self.has_view_permission(request):
            raise PermissionDenied
        return timesheet_page(self, request)

    def report_view(self, request):
        from timeentries.admin_pages import report_page

        if not self.has_view_permission(request):
            raise PermissionDenied
        return report_page(self, request)


def entry_title(obj: TimeEntry, tz: tzinfo) -> str:
    """ "Wireframes homepage — 2026-11-30 15:00": cut at a word, in the local zone."""
    description = textwrap.shorten(obj.description, 60, placeholder=" …")
    return f"{description} — {local_time(obj.started_at, tz)}"


def timesheet_url(administration_id: int, user_id: int, day: date) -> str:
    monday = day - timedelta(days=day.weekday())
    query = urlencode(
        {"administration": administration_id, "user": user_id, "week": monday.isoformat()}
    )
    return f"{reverse('admin:timeentries_timeentry_timesheet')}?{query}"


def csv_response(queryset, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    entries = queryset.select_related("user", "project", "contact").order_by("started_at", "id")
    write_csv(entries.iterator(chunk_size=2000), response)
    return response
