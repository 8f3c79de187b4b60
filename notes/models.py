from django.conf import settings
from django.db import models
from django.db.models import Q

from administrations.models import Administration
from common.models import IdField, TimestampedModel


class Note(TimestampedModel):
    """A note or to-do on any entity, addressed as Moneybird does: (entity_type, entity_id)."""

    entity_type = "Note"

    administration = models.ForeignKey(
        Administration, on_delete=models.CASCADE, related_name="notes"
    )
    # A plain id, not a foreign key: notes hang off several kinds of records.
    entity_id = models.BigIntegerField()
    # Named subject_type because Model.entity_type names the Note kind itself.
    subject_type = models.CharField(max_length=64, db_column="entity_type")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField()
    todo = models.BooleanField(default=False)
    todo_type = models.CharField(max_length=64, null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["administration", "subject_type", "entity_id"], name="note_adm_entity"
            )
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(note=""), name="note_not_blank"),
        ]

    def __str__(self) -> str:
        return self.note[:60]


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Events are append-only")


class Event(models.Model):
    """The audit log: one row per change, written by the service that makes the change, in the
    same transaction. It refers to its entity by type and id, so it outlives the entity."""

    id = IdField()
    # No index of its own: both indexes below start with administration_id.
    administration = models.ForeignKey(
        Administration,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=64, db_column="entity_type")
    entity_id = models.BigIntegerField()
    link_entity_type = models.CharField(max_length=64, null=True, blank=True)
    link_entity_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["administration", "subject_type", "entity_id"], name="event_adm_entity"
            ),
            models.Index(fields=["administration", "-id"], name="event_adm_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.subject_type}#{self.entity_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Events are append-only")
