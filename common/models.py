"""Shared model building blocks, and the one table both API dialects share: idempotency keys."""

from django.db import models

from common.ids import new_id


class IdField(models.BigIntegerField):
    """Primary key with a Moneybird-style 64-bit, time-ordered id, made in Python so that bulk
    imports can know their ids before they write."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("primary_key", True)
        kwargs.setdefault("default", new_id)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key, value in (("primary_key", True), ("default", new_id), ("editable", False)):
            if kwargs.get(key) == value:
                kwargs.pop(key)
        return name, path, args, kwargs


class TimestampedModel(models.Model):
    id = IdField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The name events and notes use for this kind of record, as Moneybird spells it.
    entity_type: str = ""

    class Meta:
        abstract = True


class IdempotencyKey(models.Model):
    """A request made with an Idempotency-Key header (common.idempotency) and the answer it got,
    written in the transaction of its write: the key exists exactly when the write does."""

    id = IdField()
    user = models.ForeignKey("administrations.User", on_delete=models.CASCADE, related_name="+")
    administration = models.ForeignKey(
        "administrations.Administration", on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.TextField()
    # SHA-256 of the request body, hex.
    body_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    # The headers a replay repeats (Content-Type, ETag, Location) and the body as sent.
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "administration", "key"], name="idempotency_key_unique"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
