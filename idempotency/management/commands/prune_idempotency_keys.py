"""Delete the Idempotency-Keys older than IDEMPOTENCY_KEY_TTL_HOURS and print how many."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from common.idempotency import ttl
from idempotency.models import IdempotencyKey


class Command(BaseCommand):
    help = "Delete expired Idempotency-Keys (older than IDEMPOTENCY_KEY_TTL_HOURS)."

    def handle(self, *args, **options):
        deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - ttl()).delete()
        self.stdout.write(f"deleted {deleted} expired idempotency keys")
