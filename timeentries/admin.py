"""Time entries in the admin: every write is a time-entry service call (see ServiceAdmin)."""

from django.contrib import admin

from administrations.admin import ServiceAdmin, html_table
from notes.models import Note
from timeentries import services
from timeentries.models import TimeEntry


class RunningFilter(admin.SimpleListFilter):
    title = "timer"
    parameter_name = "running"

    def lookups(self, request, model_admin):
        return (("yes", "Running"), ("no", "Stopped"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(ended_at__isnull=self.value() == "yes")
        return queryset


@admin.register(TimeEntry)
class TimeEntryAdmin(ServiceAdmin):
    list_display = (
        "description",
        "user",
        "administration",
        "started_at",
        "ended_at",
        "billable",
        "project",
        "contact",
    )
    list_filter = (RunningFilter, "billable", "administration", "project__state")
    list_select_related = ("user", "administration", "project", "contact")
    search_fields = ("description",)
    date_hierarchy = "started_at"
    autocomplete_fields = ("administration", "user", "contact", "project")
    service_names = {"user": "user_id", "contact": "contact_id", "project": "project_id"}
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

    def service_create(self, request, values):
        return services.time_entry_create(actor=request.user, **values)

    def service_update(self, request, obj, changes):
        return services.time_entry_update(entry=obj, actor=request.user, changes=changes)

    def service_delete(self, request, obj):
        services.time_entry_delete(entry=obj, actor=request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("administration")

    @admin.display(description="notes")
    def notes(self, obj):
        notes = Note.objects.filter(
            administration_id=obj.administration_id,
            subject_type=obj.entity_type,
            entity_id=obj.pk,
        ).select_related("user")
        return html_table(
            ("Note", "To-do", "By", "Created"),
            (
                (
                    n.note,
                    "yes" if n.todo else "no",
                    n.user or "-",
                    f"{n.created_at:%Y-%m-%d %H:%M:%S %Z}",
                )
                for n in notes
            ),
        )
