"""The vocabulary of Moneybird's project filter (`filter=state:archived`) and contact filter
(`filter=first_name:piet,contact_type:private_individual`)."""

from datetime import UTC
from functools import reduce
from operator import or_

import django_filters
from django.db.models import Q, QuerySet

from administrations.models import Contact, Project
from common.filtering import FilterStringFilterSet
from common.timefmt import parse_datetime

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


CONTACT_TYPES = ("all", "company", "private_individual")
TRUSTED_TYPES = ("all", "trusted", "not_trusted")
DELIVERY_METHODS = {choice.lower(): choice for choice in Contact.DeliveryMethod.values}


class ContactFilterSet(FilterStringFilterSet):
    """Moneybird's /contacts/filter keys. No defaults: without a filter every contact is listed.
    Several values of a key (`a|b`) select contacts matching any of them."""

    created_after = django_filters.CharFilter(method="filter_after")
    updated_after = django_filters.CharFilter(method="filter_after")
    first_name = django_filters.CharFilter(method="filter_name")
    last_name = django_filters.CharFilter(method="filter_name")
    contact_type = django_filters.CharFilter(method="filter_contact_type")
    delivery_method = django_filters.CharFilter(method="filter_delivery_method")
    trusted_type = django_filters.CharFilter(method="filter_trusted_type")
    invoice_workflow_id = django_filters.CharFilter(method="filter_workflow")
    estimate_workflow_id = django_filters.CharFilter(method="filter_workflow")

    class Meta:
        model = Contact
        fields: list[str] = []

    def filter_after(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Created (or updated) strictly after the given time; one without an offset is UTC."""
        try:
            moment = parse_datetime(value, default_tz=UTC)
        except (ValueError, OverflowError):
            raise self.bad(name, value, "expected an ISO 8601 time") from None
        column = name.removesuffix("_after") + "_at"
        return queryset.filter(**{f"{column}__gt": moment})

    def filter_name(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """The whole first (or last) name, case-insensitively."""
        column = name.replace("_", "")
        matches = [Q(**{f"{column}__iexact": v.strip()}) for v in value.split("|")]
        return queryset.filter(reduce(or_, matches))

    def filter_contact_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        types = self._values(name, value, CONTACT_TYPES)
        if "all" in types or {"company", "private_individual"} <= types:
            return queryset
        # A company has a company name; a private individual only a person's name.
        if "company" in types:
            return queryset.exclude(company_name="")
        return queryset.filter(company_name="")

    def filter_delivery_method(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        methods = self._values(name, value, ("all", *DELIVERY_METHODS))
        if "all" in methods:
            return queryset
        return queryset.filter(delivery_method__in=[DELIVERY_METHODS[m] for m in methods])

    def filter_trusted_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        types = self._values(name, value, TRUSTED_TYPES)
        # No contact is ever trusted here (is_trusted is always false).
        return queryset if types & {"all", "not_trusted"} else queryset.none()

    def filter_workflow(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for item in value.split("|"):
            if not (item.isascii() and item.isdigit()):
                raise self.bad(name, item, "expected a workflow id")
        # There are no workflows here: no contact has one.
        return queryset.none()

    def _values(self, name: str, value: str, allowed: tuple[str, ...]) -> set[str]:
        values = {v.strip().lower() for v in value.split("|")}
        for item in values:
            if item not in allowed:
                raise self.bad(name, item, f"expected {', '.join(allowed)}")
        return values
