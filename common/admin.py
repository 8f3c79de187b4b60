"""What every admin page shares: the branding, the time zone an admin page works in, the
audit trail's rendering, and keeping framework internals off a bookkeeper's index.

Time zones: Django renders, parses and groups datetimes in the *current* time zone. An admin
page about one administration activates that administration's zone for the whole view
(`timezone.override`), so that lists, forms, the "Now" button, the date drill-down and the
day a period lock compares all agree with the API's `day:` filter. A page spanning
administrations of different zones shows each row in its own zone (see `local_time`)."""

import json
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from common.tenancy import tenancy

admin.site.site_header = "Uurwerk"
admin.site.site_title = "Uurwerk admin"
admin.site.index_title = "Time tracking"
# The landing page, served by the app at /.
admin.site.site_url = "/"
# The app list beside every page costs a third of a 1280 px screen; the breadcrumbs and the
# index lead everywhere it does.
admin.site.enable_nav_sidebar = False

# The index lists a bookkeeper's apps first, in the order of the work, plumbing last.
APP_ORDER = ("timeentries", "administrations", "invoices", "notes")
_django_app_list = admin.site.get_app_list


def _app_list(request, app_label=None):
    apps = _django_app_list(request, app_label)
    rank = {label: n for n, label in enumerate(APP_ORDER)}
    return sorted(apps, key=lambda app: rank.get(app["app_label"], len(rank)))


admin.site.get_app_list = _app_list  # type: ignore[method-assign]  # one site, reordered

ADMIN_CSS = "uurwerk/admin.css"
ADMIN_JS = "uurwerk/admin.js"


class UurwerkMedia:
    css = {"all": (ADMIN_CSS,)}
    js = ("admin/js/jquery.init.js", ADMIN_JS)


def zone_label(tz: tzinfo) -> str:
    return f"Times in {tz}"


def default_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_time(value: datetime | None, tz: tzinfo, *, with_zone: bool = False) -> str:
    """2026-11-30 15:00 in `tz`; with_zone adds the abbreviation (CET) for lists that mix zones."""
    if value is None:
        return "-"
    local = value.astimezone(tz)
    text = f"{local:%Y-%m-%d %H:%M}"
    return f"{text} {local:%Z}" if with_zone else text


def admin_link(obj, text: str | None = None) -> str:
    """A link to obj's change page, or its text when it has none."""
    if obj is None:
        return "-"
    opts = obj._meta
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return text or str(obj)
    return format_html('<a href="{}">{}</a>', url, text or str(obj))


def _value(value) -> str:
    if value is None or value == "":
        return "∅"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def event_changes(data: dict) -> str:
    """An event's data as "field: old → new" lines (an update's [old, new] pairs), or
    "field: value" for the snapshot a create or delete records."""
    lines = []
    for field, value in (data or {}).items():
        if field == "updated_at":
            continue  # changes with every update; says nothing a bookkeeper reads
        if isinstance(value, list) and len(value) == 2:
            lines.append((field, f"{_value(value[0])} → {_value(value[1])}"))
        else:
            lines.append((field, _value(value)))
    if not lines:
        return "-"
    return format_html_join(mark_safe("<br>"), "{}: {}", lines)


def events_table(events, tz: tzinfo) -> str:
    """An audit trail: when (local), what, the changes, and who (linked to the person)."""
    rows = [
        (
            local_time(e.created_at, tz),
            e.action,
            event_changes(e.data),
            admin_link(e.user) if e.user_id else "system",
        )
        for e in events
    ]
    if not rows:
        return "-"
    return format_html(
        '<table class="uurwerk-audit"><thead><tr><th>When ({})</th><th>Action</th>'
        "<th>Changes</th><th>By</th></tr></thead><tbody>{}</tbody></table>",
        tz,
        format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
    )


class SuperuserOnlyAdmin:
    """Off the index for everyone but superusers, who can still open them."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request, *args):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)


def tuck_away_internals() -> None:
    """Groups and django-oauth-toolkit's models are plumbing: only a superuser sees them."""
    from oauth2_provider import models as oauth_models

    models = [
        Group,
        oauth_models.get_application_model(),
        oauth_models.get_access_token_model(),
        oauth_models.get_refresh_token_model(),
        oauth_models.get_grant_model(),
        oauth_models.get_id_token_model(),
    ]
    for model in models:
        model_admin = admin.site._registry.get(model)
        if model_admin is None or isinstance(model_admin, SuperuserOnlyAdmin):
            continue
        base = type(model_admin)
        admin.site.unregister(model)
        admin.site.register(model, type(base.__name__, (SuperuserOnlyAdmin, base), {}))


# --- lists of records of several administrations --------------------------------------------


def page_zone(request, administration_param: str = "administration__id__exact"):
    """The zone of a list page: the filtered administration's, else the one zone all
    administrations share, else None (each row then shows its own). One query."""
    Administration = tenancy().Administration

    try:
        chosen = int(request.GET.get(administration_param, ""))
    except ValueError:
        chosen = None
    queryset = Administration.objects.order_by().values_list("time_zone", flat=True)
    one = queryset.filter(pk=chosen) if chosen is not None else queryset.distinct()[:2]
    zones = set(one)
    return ZoneInfo(zones.pop()) if len(zones) == 1 else None


if TYPE_CHECKING:  # the mixins' super() is the ModelAdmin they are mixed into
    from django.contrib.admin import ModelAdmin as _AdminBase
else:
    _AdminBase = object


class ZonedListMixin(_AdminBase):
    """A changelist in its administrations' zone (see page_zone), labelled as such; the
    date drill-down follows it. Rows show `row_time` columns in their own zone."""

    def changelist_view(self, request, extra_context=None):
        tz = page_zone(request)
        request._uurwerk_zone = tz
        context = {
            "subtitle": zone_label(tz) if tz else "Times in each administration's zone",
            **(extra_context or {}),
        }
        with timezone.override(tz or default_tz()):
            response = super().changelist_view(request, extra_context=context)
            if hasattr(response, "render"):
                response.render()
            return response


def row_time(value: datetime | None, administration) -> str:
    """A time in its row's administration's zone, named when the page's zone differs."""
    if value is None:
        return "-"
    if administration is None:
        return local_time(value, timezone.get_current_timezone(), with_zone=True)
    own = administration.tz
    return local_time(value, own, with_zone=str(own) != str(timezone.get_current_timezone()))


ENTITY_ADMINS = {
    "TimeEntry": "timeentries_timeentry",
    "Contact": "administrations_contact",
    "Project": "administrations_project",
    "Administration": "administrations_administration",
    "User": "administrations_user",
    "SalesInvoice": "invoices_salesinvoice",
    "Note": "notes_note",
}


def entity_link(subject_type: str, entity_id) -> str:
    """The admin page of an event's or note's subject (a deleted one answers "not found")."""
    name = ENTITY_ADMINS.get(subject_type)
    if name is None or entity_id is None:
        return str(entity_id or "-")
    try:
        url = reverse(f"admin:{name}_change", args=[entity_id])
    except NoReverseMatch:
        return str(entity_id)
    return format_html('<a href="{}">{} #{}</a>', url, subject_type, entity_id)


def object_zone(model, object_id) -> ZoneInfo | None:
    """The zone of the administration a record belongs to (or is), None without one."""
    Administration = tenancy().Administration

    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        return None
    if model is Administration:
        path = "time_zone"
    elif any(f.name == "administration" for f in model._meta.get_fields()):
        path = "administration__time_zone"
    else:
        return None
    zone = model._default_manager.filter(pk=pk).values_list(path, flat=True).first()
    return ZoneInfo(zone) if zone else None


class ZonedFormMixin(_AdminBase):
    """A change page in its record's administration's zone: read-only times, the form's
    datetimes and their parsing. Labelled under the title."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        tz = object_zone(self.model, object_id) if object_id else None
        if tz is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        context = {"subtitle_zone": zone_label(tz), **(extra_context or {})}
        with timezone.override(tz):
            response = super().changeform_view(request, object_id, form_url, context)
            if hasattr(response, "render"):
                response.render()
            return response
