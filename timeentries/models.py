import textwrap
from datetime import UTC

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from administrations.models import Administration, Contact, Project
from common.models import TimestampedModel
from common.querysets import TenantManager
from invoices.models import SalesInvoice

# The entries an import has keyed; see TimeEntry.import_key.
IMPORTED = ~Q(import_key="")


class TimeEntry(TimestampedModel):
    entity_type = "TimeEntry"

    # No index of its own: every index below starts with administration_id (one index fewer
    # for each insert to maintain).
    administration = models.ForeignKey(
        Administration, on_delete=models.CASCADE, related_name="time_entries", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="time_entries"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.PROTECT, related_name="time_entries"
    )
    # The invoice the entry was billed on; an invoiced entry keeps its invoice from deletion.
    sales_invoice = models.ForeignKey(
        SalesInvoice, null=True, blank=True, on_delete=models.PROTECT, related_name="time_entries"
    )
    started_at = models.DateTimeField()
    # NULL while the timer runs.
    ended_at = models.DateTimeField(null=True, blank=True)
    paused_duration = models.PositiveIntegerField(default=0, help_text="Seconds, whole minutes")
    description = models.TextField()
    billable = models.BooleanField(default=True)
    # Where an imported entry came from (import_time_entries): the source format and the tool's
    # id or a SHA-256 of the normalised row. Re-importing a file finds its rows here and adds
    # nothing. Internal: no API renders them.
    import_source = models.CharField(max_length=32, blank=True, default="", editable=False)
    import_key = models.CharField(max_length=100, blank=True, default="", editable=False)

    objects = TenantManager()

    class Meta:
        # Newest first; entries that start together stay in creation order, as Moneybird lists.
        ordering = ["-started_at", "id"]
        verbose_name_plural = "time entries"
        indexes = [
            models.Index(
                F("administration"), F("started_at").desc(), F("id"), name="te_adm_started"
            ),
            models.Index(fields=["administration", "contact"], name="te_adm_contact"),
            models.Index(fields=["administration", "project"], name="te_adm_project"),
            models.Index(fields=["administration", "user", "started_at"], name="te_adm_user"),
            models.Index(fields=["administration", "sales_invoice"], name="te_adm_invoice"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at")),
                name="time_entry_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(paused_duration__gte=0), name="time_entry_pause_not_negative"
            ),
            models.CheckConstraint(condition=~Q(description=""), name="time_entry_description"),
            # One running timer per person per administration.
            models.UniqueConstraint(
                fields=["administration", "user"],
                condition=Q(ended_at__isnull=True),
                name="time_entry_one_running_per_user",
            ),
            # Also the index the import's "already present?" lookup uses (it repeats the
            # condition so that PostgreSQL can pick this partial index).
            models.UniqueConstraint(
                fields=["administration", "import_source", "import_key"],
                condition=IMPORTED,
                name="time_entry_import_key_unique",
            ),
        ]

    def __str__(self) -> str:
        # Cut at a word; the start in the administration's zone when it is at hand (no query
        # per entry in a list of them), else in UTC, named.
        text = textwrap.shorten(self.description, 50, placeholder=" …")
        if TimeEntry.administration.is_cached(self):
            start = self.started_at.astimezone(self.administration.tz)
            return f"{text} ({start:%Y-%m-%d %H:%M})"
        return f"{text} ({self.started_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"

    @property
    def is_running(self) -> bool:
        return self.ended_at is None
