"""The vocabulary of Moneybird's project filter (`filter=state:archived`)."""

import django_filters
from django.db.models import QuerySet

from administrations.models import Project
from common.filtering import FilterStringFilterSet

PROJECT_STATES = ("active", "archived", "all")


class ProjectFilterSet(FilterStringFilterSet):
    # Moneybird lists the active projects when no filter is given.
    defaults = {"state": "active"}

    state = django_filters.CharFilter(method="filter_state")

    class Meta:
        model = Project
        fields: list[str] = []

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        states = value.split("|")
        for state in states:
            if state not in PROJECT_STATES:
                raise self.bad(name, state, "expected active, archived or all")
        if "all" in states:
            return queryset
        return queryset.filter(state__in=states)
