"""Notes (view and delete, through note_delete) and the audit log (read-only) in the admin.

Notes are not added here: a note hangs off an entity by type and id, which the API addresses
better than an admin form can."""

import json

from django.contrib import admin
from django.utils.html import format_html

from common.admin import (
    ServiceAdmin,
    UurwerkMedia,
    ZonedFormMixin,
    ZonedListMixin,
    admin_link,
    entity_link,
    event_changes,
    events_table,
    row_time,
)
from notes import services
from notes.models import Event, Note


class AuditTrailMixin:
    """The `audit_trail` field of a ServiceAdmin's change page: the record's latest events. Kept
    here, beside the events, because common.admin.ServiceAdmin depends on no app."""

    @admin.display(description="audit trail")
    def audit_trail(self, obj):
        return events_table(
            Event.objects.filter(
                administration_id=obj.administration_id,
                subject_type=obj.entity_type,
                entity_id=obj.pk,
            )
            .select_related("user")
            .order_by("-id")[:50],
            obj.administration.tz,
        )


@admin.register(Note)
class NoteAdmin(ZonedListMixin, ServiceAdmin):
    list_display = ("note", "subject", "administration", "author", "todo", "created")
    list_filter = ("todo", "subject_type", "administration")
    list_select_related = ("administration", "user")
    search_fields = ("note", "=entity_id")
    date_hierarchy = "created_at"

    def service_delete(self, request, obj):
        services.note_delete(note=obj, actor=request.user)

    @admin.display(description="created", ordering="created_at")
    def created(self, obj):
        return row_time(obj.created_at, obj.administration)

    @admin.display(description="on", ordering="entity_id")
    def subject(self, obj):
        return entity_link(obj.subject_type, obj.entity_id)

    @admin.display(description="by", ordering="user__name")
    def author(self, obj):
        return admin_link(obj.user) if obj.user_id else "-"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ZonedListMixin, ZonedFormMixin, admin.ModelAdmin):
    """Append-only: the services write events, nobody edits or removes them."""

    list_display = ("created", "action", "subject", "administration", "author")
    list_display_links = ("created",)
    Media = UurwerkMedia
    list_filter = ("action", "subject_type", "administration")
    list_select_related = ("administration", "user")
    search_fields = ("action", "=entity_id", "user__email")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    fields = (
        "created_at",
        "administration",
        "user",
        "action",
        "subject_type",
        "entity_id",
        "link_entity_type",
        "link_entity_id",
        "changes",
        "pretty_data",
    )
    readonly_fields = fields

    @admin.display(description="data")
    def pretty_data(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.data, indent=2, ensure_ascii=False))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="when", ordering="created_at")
    def created(self, obj):
        return row_time(obj.created_at, obj.administration)

    @admin.display(description="subject", ordering="entity_id")
    def subject(self, obj):
        return entity_link(obj.subject_type, obj.entity_id)

    @admin.display(description="by", ordering="user__name")
    def author(self, obj):
        return admin_link(obj.user) if obj.user_id else "system"

    @admin.display(description="changes")
    def changes(self, obj):
        return event_changes(obj.data)

    def has_delete_permission(self, request, obj=None):
        return False
