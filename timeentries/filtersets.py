"""The vocabulary of Moneybird's time-entry filter (`filter=period:this_year,state:open`)."""

import django_filters
from django.db.models import Q, QuerySet

from administrations.selectors import contact_get, member_get, project_get
from common.filtering import FilterStringFilterSet
from timeentries.models import TimeEntry

STATES = ("all", "open", "non_billable")


class TimeEntryFilterSet(FilterStringFilterSet):
    # With no filter string at all: this year, running timers left out.
    defaults = {"period": "this_year", "state": "all"}

    state = django_filters.CharFilter(method="filter_state")
    period = django_filters.CharFilter(method="filter_period")
    contact_id = django_filters.CharFilter(method="filter_contact")
    include_nil_contacts = django_filters.CharFilter(method="filter_noop")
    include_active = django_filters.CharFilter(method="filter_noop")
    project_id = django_filters.CharFilter(method="filter_project")
    user_id = django_filters.CharFilter(method="filter_user")
    day = django_filters.CharFilter(method="filter_day")

    class Meta:
        model = TimeEntry
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        self.flag("include_nil_contacts")  # validate even when contact_id is absent
        queryset = super().filter_queryset(queryset)
        if not self.flag("include_active"):
            queryset = queryset.filter(ended_at__isnull=False)
        return queryset

    def filter_noop(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset  # read by filter_queryset / filter_contact

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        states = value.split("|")
        for state in states:
            if state not in STATES:
                raise self.bad(name, state, "expected all, open or non_billable")
        if "all" in states:
            return queryset
        condition = Q()
        if "open" in states:
            # Billable and not yet on an invoice.
            condition |= Q(billable=True, sales_invoice__isnull=True)
        if "non_billable" in states:
            condition |= Q(billable=False)
        return queryset.filter(condition)

    def filter_period(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        start, end = self.period_bounds(name, value)
        return queryset.filter(started_at__gte=start, started_at__lt=end)

    def filter_day(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        start, end = self.day_bounds(name, value)
        return queryset.filter(started_at__gte=start, started_at__lt=end)

    def filter_contact(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        condition = Q(contact_id=self.id_value(name, value))
        if self.flag("include_nil_contacts"):
            condition |= Q(contact__isnull=True)
        return queryset.filter(condition)

    def filter_project(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(project_id=self.id_value(name, value))

    def filter_user(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(user_id=self.id_value(name, value))

    def check_references(self) -> None:
        """Raise NotFound for a contact, project or user id that is not in this administration.
        Called only when the filter found nothing, so a normal list pays no extra query."""
        lookups = (
            ("contact_id", contact_get),
            ("project_id", project_get),
            ("user_id", member_get),
        )
        for key, get in lookups:
            if key in self.data:
                get(self.administration, self.data[key], field=key)
