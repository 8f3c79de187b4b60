"""The one shape of tenancy in queries: every tenant-owned model's queryset starts from
`for_administration(...)` (STYLE.md, "one choke point"), so a read that forgets its tenant stands
out in review as one that does not start there."""

from typing import Any, Self

from django.db import models


class TenantQuerySet(models.QuerySet):
    """For a model with an `administration` foreign key."""

    def for_administration(self, administration: Any) -> Self:
        """The rows of this administration (an Administration or its id), and no other's."""
        return self.filter(administration_id=getattr(administration, "pk", administration))


# The default manager of a tenant-owned model: Model.objects.for_administration(administration).
TenantManager = models.Manager.from_queryset(TenantQuerySet)
