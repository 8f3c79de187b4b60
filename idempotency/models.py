from django.db import models

from common.models import IdField


class IdempotencyKey(models.Model):
    """A request made with an Idempotency-Key header (common.idempotency's IdempotentViewMixin)
    and the answer it got, written in the transaction of its write: the key exists exactly when
    the write does."""

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
