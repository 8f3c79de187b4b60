"""What every admin page shares: the branding, the time zone an admin page works in, the
audit trail's rendering, and keeping framework internals off a bookkeeper's index.

Time zones: Django renders, parses and groups datetimes in the *current* time zone. An admin
page about one administration activates that administration's zone for the whole view
(`timezone.override`), so that lists, forms, the "Now" button, the date drill-down and the
day a period lock compares all agree with the API's `day:` filter. A page spanning
administrations of different zones shows each row in its own zone (see `local_time`).

`ServiceAdmin` (below) is what the apps' admins build on: their writes are service calls.
How a service's errors become form errors: the admin validates the form, then calls
`save_model` inside its own transaction, and by then it can no longer show the form again.
So the form's `_post_clean` dry-runs the same service call in a savepoint that is always rolled
back, and turns ValidationFailed/NotFound into form errors (status 200, nothing written).
`save_model` then makes the call for real. The model's own validation (`full_clean`) is skipped
on purpose: the service is the one validator, and the model's constraints would contradict it
(a second running timer is refused by the database but allowed by the service, which stops the
first). Deletes cannot be dry-run from a form: `delete_view` shows a refused delete as a message
instead, and `delete_queryset` deletes row by row and reports the rows it could not delete."""

import json
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.db import models, transaction
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from common.exceptions import NotFound, ServiceError, ValidationFailed
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


# --- the shared part ------------------------------------------------------------------------


class _DryRun(Exception):
    """Raised inside a dry run's savepoint to roll it back."""


def service_errors(exc: ServiceError) -> dict[str, list[str]]:
    """A domain error as {service field: [messages]}; "base" is the whole record."""
    if isinstance(exc, ValidationFailed):
        return {field: [e.message for e in errors] for field, errors in exc.errors.items()}
    if isinstance(exc, NotFound):
        return {exc.field: ["is not in this administration"]}
    return {"base": [str(exc)]}


def error_text(exc: ServiceError) -> str:
    return "; ".join(
        m if field == "base" else f"{field}: {m}"
        for field, msgs in service_errors(exc).items()
        for m in msgs
    )


def html_table(headers: tuple[str, ...], rows) -> str:
    rows = list(rows)
    if not rows:
        return "-"
    return format_html(
        "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<th>{}</th>", ((h,) for h in headers)),
        format_html_join(
            "",
            "<tr>{}</tr>",
            ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
        ),
    )


class ServiceAdmin(ZonedFormMixin, admin.ModelAdmin):
    """A ModelAdmin whose writes are the service_* methods (see the module docstring)."""

    # Form field -> service argument where they differ; an `*_id` argument gets the pk.
    service_names: dict[str, str] = {}
    # The add form's fields, where they differ from `fields`.
    add_fields: tuple[str, ...] = ()
    # Set on creation; no service changes them, so they are read-only afterwards.
    fixed_fields: tuple[str, ...] = ()

    def service_create(self, request, values: dict) -> models.Model:
        raise NotImplementedError

    def service_update(self, request, obj, changes: dict) -> models.Model:
        raise NotImplementedError

    def service_delete(self, request, obj) -> None:
        raise NotImplementedError

    # -- fields

    def get_fields(self, request, obj=None):
        if obj is None and self.add_fields:
            return self.add_fields
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, *self.fixed_fields) if obj is not None else readonly

    # -- writes

    def _service_values(self, form, names) -> dict:
        values = {}
        for name in names:
            key, value = self.service_names.get(name, name), form.cleaned_data[name]
            if key.endswith("_id") and isinstance(value, models.Model):
                value = value.pk
            values[key] = value
        return values

    def _write(self, request, obj, form) -> models.Model:
        if obj._state.adding:
            return self.service_create(request, self._service_values(form, form.cleaned_data))
        return self.service_update(request, obj, self._service_values(form, form.changed_data))

    def _add_errors(self, form, exc: ServiceError) -> None:
        form_names = {v: k for k, v in self.service_names.items()}
        for field, msgs in service_errors(exc).items():
            name = form_names.get(field, field)
            if name in form.fields:
                form.add_error(name, msgs)
            else:
                form.add_error(None, [m if field == "base" else f"{field}: {m}" for m in msgs])

    def get_form(self, request, obj=None, change=False, **kwargs):
        model_admin = self
        # The ModelForm class the admin built for this model: its type is only known at runtime.
        base: Any = super().get_form(request, obj, change=change, **kwargs)

        class ServiceForm(base):
            def _post_clean(self):
                if self.errors:  # the fields themselves are invalid: nothing to dry-run
                    return
                try:
                    with transaction.atomic():
                        model_admin._write(request, self.instance, self)
                        raise _DryRun
                except _DryRun:
                    pass
                except ServiceError as exc:
                    model_admin._add_errors(self, exc)

        return ServiceForm

    def save_model(self, request, obj, form, change):
        saved = self._write(request, obj, form)
        # `obj` becomes the saved record (pk, values, state): the admin logs and redirects with it.
        obj.__dict__.update(saved.__dict__)

    def delete_model(self, request, obj):
        self.service_delete(request, obj)

    def delete_queryset(self, request, queryset):
        # The bulk "delete selected" action calls this, never delete_model.
        refused = []
        for obj in queryset:
            try:
                self.service_delete(request, obj)
            except ServiceError as exc:
                refused.append(f"{obj}: {error_text(exc)}")
        if refused:
            self.message_user(request, "Not deleted: " + " | ".join(refused), messages.ERROR)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceError as exc:  # the view's transaction, log entry included, rolled back
            self.message_user(request, f"Not deleted: {error_text(exc)}", messages.ERROR)
            opts = self.opts
            return redirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
            )


class ScopedAutocomplete(_AdminBase):
    """Autocomplete pickers (Django's autocomplete view, which calls get_search_results) offer
    the records of the form's administration (common/static/uurwerk/admin.js sends its id) and
    only active ones; a term starting with "archived:" brings the archived ones too."""

    administration_path = "administration_id"
    archived: Q | None = None

    def get_search_results(self, request, queryset, search_term):
        if "field_name" in request.GET:  # only the autocomplete view sends it
            include_archived = search_term.startswith("archived:")
            if include_archived:
                search_term = search_term.removeprefix("archived:").strip()
            try:
                administration = int(request.GET.get("administration", ""))
            except ValueError:
                administration = None
            if administration is not None:
                queryset = queryset.filter(**{self.administration_path: administration})
            if self.archived is not None and not include_archived:
                queryset = queryset.exclude(self.archived)
        return super().get_search_results(request, queryset, search_term)
