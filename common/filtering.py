"""Glue between a filter string and a resource's django-filter FilterSet: the grammar is in
common/filterstring.py, each resource's vocabulary in its own filtersets.py."""

import copy
from datetime import date, datetime, time, timedelta, tzinfo

import django_filters
from django.db.models import QuerySet
from django_filters.filterset import FilterSetMetaclass

from common.exceptions import BadRequest
from common.filterstring import FilterSyntaxError, parse_filter
from common.flags import EXPECTED as FLAG_EXPECTED
from common.flags import parse_flag
from common.ids import parse_id
from common.periods import PeriodError, parse_day, resolve_period


class _CopiedCheaply(dict):
    """A FilterSet's base_filters. Every FilterSet instance deep-copies them (django-filter
    does, so that each instance's filters point at it as their parent), which costs a list
    request more than its SQL; a shallow copy of each filter does the same job, given a
    FilterMethod of its own (the one copied would call the original filter's parent)."""

    def __deepcopy__(self, memo: dict) -> dict:
        copies = {}
        for name, original in self.items():
            clone = copy.copy(original)
            clone.method = original.method  # the setter binds a new FilterMethod to the clone
            copies[name] = clone
        return copies


class _LeanFilterSetMetaclass(FilterSetMetaclass):
    def __new__(mcs, name, bases, attrs):
        new_class = super().__new__(mcs, name, bases, attrs)
        new_class.base_filters = _CopiedCheaply(new_class.base_filters)
        return new_class


class LeanFilterSet(django_filters.FilterSet, metaclass=_LeanFilterSetMetaclass):
    """A FilterSet that builds per request only what differs per request: its form class
    (fields, labels, their translations) is the same for every instance of a class, so it is
    made once; the filters are copied shallowly (_CopiedCheaply)."""

    def get_form_class(self):
        cls = type(self)
        form = cls.__dict__.get("_lean_form_class")
        if form is None:
            form = super().get_form_class()
            cls._lean_form_class = form
        return form


class FilterStringFilterSet(LeanFilterSet):
    """A FilterSet fed from `key:value|value` terms. Subclasses declare their keys as filters,
    and `defaults` for when no (or an empty) filter string is given; a given filter string
    replaces them entirely."""

    defaults: dict[str, str] = {}

    def __init__(
        self, *args, administration, today: date, time_zone: tzinfo | None = None, **kwargs
    ):
        self.administration = administration
        self.today = today
        # The zone periods and days are read in: the administration's, unless a caller (a
        # report in another zone) names one.
        self.time_zone = time_zone or administration.tz
        super().__init__(*args, **kwargs)

    @classmethod
    def from_string(
        cls,
        text: str | None,
        *,
        queryset: QuerySet,
        administration,
        today: date,
        time_zone: tzinfo | None = None,
    ) -> "FilterStringFilterSet":
        if text is None or not text.strip():
            data = dict(cls.defaults)
        else:
            try:
                terms = parse_filter(text)
            except FilterSyntaxError as exc:
                raise BadRequest(str(exc), field="filter") from None
            unknown = [key for key in terms if key not in cls.base_filters]
            if unknown:
                raise BadRequest(
                    f"Unknown filter key {unknown[0]!r}; known keys: "
                    + ", ".join(sorted(cls.base_filters)),
                    field="filter",
                )
            data = {key: "|".join(values) for key, values in terms.items()}
        filterset = cls(
            data,
            queryset=queryset,
            administration=administration,
            today=today,
            time_zone=time_zone,
        )
        if not filterset.is_valid():
            key, messages = next(iter(filterset.errors.items()))
            raise BadRequest(
                f"Invalid value {data.get(key)!r} for filter {key!r}: {' '.join(messages)}",
                field="filter",
            )
        return filterset

    # Helpers for filter methods -------------------------------------------------------------

    def bad(self, key: str, value: str, message: str) -> BadRequest:
        return BadRequest(f"Invalid value {value!r} for filter {key!r}: {message}", field="filter")

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        try:
            return parse_flag(value)
        except ValueError:
            raise self.bad(key, str(value).strip().lower(), f"expected {FLAG_EXPECTED}") from None

    def local_bounds(self, start: date, end: date) -> tuple[datetime, datetime]:
        """A half-open range of local dates as aware datetimes in the filter's zone."""
        tz = self.time_zone
        return datetime.combine(start, time.min, tz), datetime.combine(end, time.min, tz)

    def period_bounds(self, key: str, value: str) -> tuple[datetime, datetime]:
        try:
            return self.local_bounds(*resolve_period(value, today=self.today))
        except PeriodError as exc:
            raise self.bad(key, value, exc.message) from None

    def day_bounds(self, key: str, value: str) -> tuple[datetime, datetime]:
        try:
            day = parse_day(value)
        except PeriodError as exc:
            raise self.bad(key, value, exc.message) from None
        if day == date.max:  # its end, the next midnight, is past what a date can hold
            raise self.bad(key, value, "date out of range")
        return self.local_bounds(day, day + timedelta(days=1))

    def id_value(self, key: str, value: str) -> int:
        if not (value.isascii() and value.isdigit()) or len(value) > 19:
            raise self.bad(key, value, "expected an id")
        # Id 0 or one past 64 bits is well-formed but no record's: match nothing (0), and let the
        # caller answer 404 as for any unknown id.
        return parse_id(value) or 0
