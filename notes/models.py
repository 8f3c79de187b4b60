from django.conf import settings
from django.db import models
from django.db.models import Expression, Func, Q

from administrations.models import Administration
from common.models import IdField, TimestampedModel
from common.querysets import TenantManager, TenantQuerySet


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

    objects = TenantManager()

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


class TransactionId(Func):
    """Event.xact's column default. PostgreSQL: the inserting transaction's id, so that every
    way of inserting an event (COPY included) records it. Elsewhere 0; Event.save() and
    events_record_bulk give NextPosition instead."""

    output_field = models.BigIntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        return "0", []

    def as_postgresql(self, compiler, connection, **extra_context):
        return "(pg_current_xact_id()::text::bigint)", []


class NextPosition(Expression):
    """Event.xact where writers take turns (SQLite): one more than the administration's
    highest, computed inside the INSERT, so under the write lock: a transaction that commits
    later always gets a higher number, whatever the clocks of the processes making ids."""

    output_field = models.BigIntegerField()

    def __init__(self, administration_id: int | None):
        super().__init__()
        self.administration_id = administration_id

    def as_sql(self, compiler, connection, **extra_context):
        quote = connection.ops.quote_name
        meta = Event._meta
        return (
            f"(SELECT COALESCE(MAX({quote(meta.get_field('xact').column)}), 0) + 1 "
            f"FROM {quote(meta.db_table)} "
            f"WHERE {quote(meta.get_field('administration').column)} IS %s)"
        ), [self.administration_id]


def position_default(administration_id: int | None) -> Expression | None:
    """What an insert gives Event.xact: nothing on PostgreSQL (the column default records the
    transaction), NextPosition elsewhere."""
    from django.db import connection

    return None if connection.vendor == "postgresql" else NextPosition(administration_id)


class FeedHorizon(Func):
    """The position below which every transaction that wrote events has ended (committed or
    rolled back), as seen by the statement it is part of: PostgreSQL's oldest transaction still
    running. Where writers take turns (SQLite), everything visible has committed."""

    output_field = models.BigIntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        return "9223372036854775807", []

    def as_postgresql(self, compiler, connection, **extra_context):
        return "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint)", []


class EventQuerySet(TenantQuerySet):
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
    # Where the event stands in commit order, set by the database as it inserts the row: ids are
    # given before commit, so a slow transaction can commit an event with a lower id than one a
    # feed reader has already passed. On PostgreSQL the transaction's id: the feed serves (xact,
    # id) order below FeedHorizon, which a transaction still running can never fall below. On
    # SQLite, whose writers take turns, the administration's next number (a trigger).
    xact = models.BigIntegerField(db_default=TransactionId(), editable=False)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["administration", "subject_type", "entity_id"], name="event_adm_entity"
            ),
            models.Index(fields=["administration", "-id"], name="event_adm_recent"),
            models.Index(fields=["administration", "xact", "id"], name="event_adm_feed"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.subject_type}#{self.entity_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Events are append-only")
        position = position_default(self.administration_id)
        if position is not None:
            self.xact = position
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Events are append-only")
