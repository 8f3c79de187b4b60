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
