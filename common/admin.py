"""What every admin page shares: the branding, the time zone an admin page works in, the
audit trail's rendering, and keeping framework internals off a bookkeeper's index.

Time zones: Django renders, parses and groups datetimes in the *current* time zone. An admin
page about one administration activates that administration's zone for the whole view
(`timezone.override`), so that lists, forms, the "Now" button, the date drill-down and the
day a period lock compares all agree with the API's `day:` filter. A page spanning
administrations of different zones shows each row in its own zone (see `local_time`)."""

import json
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

admin.site.site_header = "Uurwerk"
admin.site.site_title = "Uurwerk admin"
admin.site.index_title = "Time tracking"
# The landing page, served by the app at /.
admin.site.site_url = "/"

ADMIN_CSS = "uurwerk/admin.css"
ADMIN_JS = "uurwerk/admin.js"


class UurwerkMedia:
    css = {"all": (ADMIN_CSS,)}
    js = ("admin/js/jquery.init.js", ADMIN_JS)


def zone_label(tz: tzinfo) -> str:
    return f"times in {tz}"


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
