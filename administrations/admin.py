"""The Django admin of tenants, members, contacts, projects, users and tokens, writing only
through the services (STYLE.md point 4), so a staff edit is validated and audited exactly like an
API edit. The shared part, `ServiceAdmin`, is in common/admin.py (which explains how a service's
errors become form errors); the audit trail shown on a record is notes.admin.AuditTrailMixin.
"""

from zoneinfo import available_timezones

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from administrations import services
from administrations.models import (
    Administration,
    ApiToken,
    Contact,
    ContactPerson,
    Membership,
    Project,
    User,
)
from common.admin import ScopedAutocomplete, ServiceAdmin, events_table, html_table
from common.exceptions import ValidationFailed
from notes.admin import AuditTrailMixin
from notes.models import Event

# --- users ----------------------------------------------------------------------------------


class UserForm(forms.ModelForm):
    new_password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput,
        help_text="Leave empty to keep the current password (or, for a new user, to have none).",
    )


@admin.register(User)
class UserAdmin(ScopedAutocomplete, ServiceAdmin):
    administration_path = "memberships__administration_id"
    archived = Q(is_active=False)
    form = UserForm
    list_display = ("email", "name", "is_staff", "is_superuser", "is_active", "created_at")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("email", "name")
    ordering = ("email",)
    service_names = {"new_password": "password"}
    fields = (
        "email",
        "name",
        "new_password",
        "is_staff",
        "is_superuser",
        "is_active",
        "avatar_url",
        "last_login",
        "created_at",
        "updated_at",
        "timesheets",
    )
    add_fields = ("email", "name", "new_password", "is_staff", "is_superuser", "is_active")
    readonly_fields = ("avatar_url", "last_login", "created_at", "updated_at", "timesheets")
    fixed_fields = ("email",)

    def service_create(self, request, values):
        user, created = services.user_get_or_create(
            email=values.pop("email"), name=values.pop("name"), actor=request.user
        )
        if not created:
            raise ValidationFailed.single("email", "taken", "has already been taken")
        # The password goes through user_update, which checks it against the validators.
        password = values.pop("password")
        changes = {k: v for k, v in values.items() if getattr(user, k) != v}
        if password:
            changes["password"] = password
        return services.user_update(user=user, actor=request.user, changes=changes)

    def service_update(self, request, obj, changes):
        return services.user_update(user=obj, actor=request.user, changes=changes)

    def has_delete_permission(self, request, obj=None):
        return False  # no service deletes people: deactivate them instead

    @admin.display(description="timesheets")
    def timesheets(self, obj):
        """This week's timesheet of the person in each of their administrations."""
        url = reverse("admin:timeentries_timeentry_timesheet")
        memberships = obj.memberships.select_related("administration").order_by(
            "administration__name"
        )
        links = [
            (
                f"{url}?{urlencode({'administration': m.administration_id, 'user': obj.pk})}",
                m.administration.name,
            )
            for m in memberships
        ]
        if not links:
            return "-"
        return format_html_join(" · ", '<a href="{}">{}</a>', links)


# --- administrations and members ------------------------------------------------------------


class AdministrationForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=lambda: [(z, z) for z in sorted(available_timezones())], initial="Europe/Amsterdam"
    )


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Administration)
class AdministrationAdmin(ServiceAdmin):
    form = AdministrationForm
    list_display = ("name", "currency", "time_zone", "period_locked_until", "suspended")
    list_filter = ("suspended", "currency")
    search_fields = ("name",)
    fields = (
        "name",
        "currency",
        "time_zone",
        "language",
        "country",
        "period_locked_until",
        "prevent_overlapping_entries",
        "suspended",
        "created_at",
        "bookkeeping",
        "latest_events",
    )
    add_fields = (
        "name",
        "currency",
        "time_zone",
        "language",
        "country",
        "prevent_overlapping_entries",
    )
    readonly_fields = ("suspended", "created_at", "bookkeeping", "latest_events")
    inlines = (MembershipInline,)
    actions = ("suspend", "reactivate")

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def service_create(self, request, values):
        return services.administration_create(actor=request.user, **values)

    def service_update(self, request, obj, changes):
        return services.administration_update(
            administration=obj, actor=request.user, changes=changes
        )

    def has_delete_permission(self, request, obj=None):
        return False  # no service deletes a tenant; a delete here would cascade unaudited

    @admin.action(description="Suspend selected administrations (read-only)")
    def suspend(self, request, queryset):
        self._set_suspended(request, queryset, suspended=True)

    @admin.action(description="Reactivate selected administrations")
    def reactivate(self, request, queryset):
        self._set_suspended(request, queryset, suspended=False)

    def _set_suspended(self, request, queryset, *, suspended: bool) -> None:
        changed = queryset.exclude(suspended=suspended)
        for administration in changed:
            services.administration_suspension_set(
                administration=administration, actor=request.user, suspended=suspended
            )
        verb = "Suspended" if suspended else "Reactivated"
        self.message_user(request, f"{verb} {len(changed)} administration(s).", messages.SUCCESS)

    @admin.display(description="bookkeeping")
    def bookkeeping(self, obj):
        query = urlencode({"administration": obj.pk})
        return format_html(
            '<a href="{}?{}">Time entries</a> · <a href="{}?{}">Report</a>',
            reverse("admin:timeentries_timeentry_changelist"),
            query,
            reverse("admin:timeentries_timeentry_report"),
            query,
        )

    @admin.display(description="latest events")
    def latest_events(self, obj):
        return events_table(obj.events.select_related("user").order_by("-id")[:20], obj.tz)


@admin.register(Membership)
class MembershipAdmin(ServiceAdmin):
    list_display = ("user", "administration", "role", "created_at")
    list_filter = ("role", "administration")
    list_select_related = ("user", "administration")
    search_fields = ("user__email", "user__name", "administration__name")
    autocomplete_fields = ("administration", "user")
    fields = ("administration", "user", "role", "created_at")
    readonly_fields = ("created_at",)
    fixed_fields = ("administration", "user")

    def service_create(self, request, values):
        return services.member_add(
            administration=values["administration"],
            actor=request.user,
            email=values["user"].email,
            role=values["role"],
        )

    def service_update(self, request, obj, changes):
        return services.member_add(
            administration=obj.administration,
            actor=request.user,
            email=obj.user.email,
            role=changes.get("role", obj.role),
        )

    def service_delete(self, request, obj):
        services.member_remove(membership=obj, actor=request.user)


# --- contacts and projects ------------------------------------------------------------------


@admin.register(Contact)
class ContactAdmin(ScopedAutocomplete, AuditTrailMixin, ServiceAdmin):
    archived = Q(archived=True)
    list_display = ("__str__", "customer_id", "administration", "email", "city", "archived")
    list_filter = ("archived", "administration")
    list_select_related = ("administration",)
    search_fields = ("company_name", "firstname", "lastname", "email", "customer_id")
    autocomplete_fields = ("administration",)
    fields = (
        "administration",
        *services.CONTACT_FIELDS,
        "archived",
        "people",
        "created_at",
        "updated_at",
        "audit_trail",
    )
    # contact_create takes no `archived`: a contact starts active.
    add_fields = ("administration", *services.CONTACT_FIELDS)
    readonly_fields = ("people", "created_at", "updated_at", "audit_trail")

    @admin.display(description="contact people")
    def people(self, obj):
        # Read-only here (an inline formset would write around the services): each person is
        # added and changed on its own page.
        return html_table(
            ("name", "email", "phone", "department"),
            (
                (
                    format_html(
                        '<a href="{}">{}</a>',
                        reverse("admin:administrations_contactperson_change", args=[p.pk]),
                        str(p),
                    ),
                    p.email,
                    p.phone,
                    p.department,
                )
                for p in obj.contact_people.order_by("id")
            ),
        )

    fixed_fields = ("administration",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if not change:
            form.base_fields["customer_id"].required = False
            form.base_fields["customer_id"].help_text = "Empty: the next free number."
        return form

    def service_create(self, request, values):
        return services.contact_create(actor=request.user, **values)

    def service_update(self, request, obj, changes):
        return services.contact_update(contact=obj, actor=request.user, changes=changes)

    def service_delete(self, request, obj):
        services.contact_delete(contact=obj, actor=request.user)


@admin.register(ContactPerson)
class ContactPersonAdmin(ServiceAdmin):
    list_display = ("__str__", "contact", "administration", "email", "department")
    list_filter = ("administration",)
    list_select_related = ("administration", "contact")
    search_fields = ("firstname", "lastname", "email")
    autocomplete_fields = ("contact",)
    fields = (
        "contact",
        *services.CONTACT_PERSON_FIELDS,
        "created_at",
        "updated_at",
        "audit_trail",
    )
    add_fields = ("contact", *services.CONTACT_PERSON_FIELDS)
    readonly_fields = ("created_at", "updated_at", "audit_trail")
    fixed_fields = ("contact",)

    def service_create(self, request, values):
        contact = values.pop("contact")
        return services.contact_person_create(contact=contact, actor=request.user, **values)

    def service_update(self, request, obj, changes):
        return services.contact_person_update(
            contact_person=obj, actor=request.user, changes=changes
        )

    def service_delete(self, request, obj):
        services.contact_person_delete(contact_person=obj, actor=request.user)

    @admin.display(description="events")
    def audit_trail(self, obj):
        # A person's events are recorded on its contact, linked to the person.
        return events_table(
            Event.objects.filter(
                administration_id=obj.administration_id,
                link_entity_type=obj.entity_type,
                link_entity_id=obj.pk,
            )
            .select_related("user")
            .order_by("-id")[:50],
            obj.administration.tz,
        )


@admin.register(Project)
class ProjectAdmin(ScopedAutocomplete, AuditTrailMixin, ServiceAdmin):
    archived = Q(state="archived")
    list_display = ("name", "administration", "state", "contact", "budget", "hourly_rate")
    list_filter = ("state", "administration")
    list_select_related = ("administration", "contact")
    search_fields = ("name",)
    autocomplete_fields = ("administration", "contact")
    service_names = {"contact": "contact_id"}
    fields = (
        "administration",
        "name",
        "state",
        "contact",
        "budget",
        "hourly_rate",
        "currency",
        "created_at",
        "updated_at",
        "audit_trail",
    )
    # A new project takes its administration's currency.
    add_fields = ("administration", "name", "state", "contact", "budget", "hourly_rate")
    readonly_fields = ("created_at", "updated_at", "audit_trail")
    fixed_fields = ("administration",)

    def service_create(self, request, values):
        return services.project_create(actor=request.user, **values)

    def service_update(self, request, obj, changes):
        return services.project_update(project=obj, actor=request.user, changes=changes)

    def service_delete(self, request, obj):
        if services.project_delete(project=obj, actor=request.user) is not None:
            self.message_user(
                request, f"{obj} has time entries, so it was archived instead.", messages.WARNING
            )


# --- API tokens -----------------------------------------------------------------------------


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(s, s) for s in sorted(services.KNOWN_SCOPES)],
        initial=services.DEFAULT_SCOPES,
        widget=forms.CheckboxSelectMultiple,
    )


@admin.register(ApiToken)
class ApiTokenAdmin(ServiceAdmin):
    """View-only, except adding (the secret is shown once) and revoking. The secret's hash is
    never on a form: key_hash and prefix are not editable fields."""

    form = ApiTokenForm
    list_display = ("name", "prefix", "user", "administration", "created_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "administration")
    list_select_related = ("user", "administration")
    search_fields = ("name", "prefix", "user__email")
    autocomplete_fields = ("user", "administration")
    fields = ("user", "administration", "name", "prefix", "scopes", "created_at", "revoked_at")
    add_fields = ("user", "administration", "name", "scopes")
    actions = ("revoke_tokens",)

    def service_create(self, request, values):
        token, secret = services.token_create(actor=request.user, **values)
        token.secret = secret  # carried to save_model's obj, and never stored
        return token

    def get_changeform_initial_data(self, request):
        return {
            "scopes": list(services.DEFAULT_SCOPES),
            **super().get_changeform_initial_data(request),
        }

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        messages.success(request, f"The token's secret, shown only this once: {obj.secret}")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: a revoked token stays on record

    def has_revoke_permission(self, request):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke_tokens(self, request, queryset):
        tokens = queryset.filter(revoked_at__isnull=True).select_related("user")
        for token in tokens:
            services.token_revoke(token=token, actor=request.user)
        self.message_user(request, f"Revoked {len(tokens)} token(s).", messages.SUCCESS)
