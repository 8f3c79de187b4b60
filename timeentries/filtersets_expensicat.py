"""The query parameters of Expensicat's GET /v1/time-entries: start_date, end_date, q,
project_id, user_id. A bad value is a 400 that names the parameter."""

from datetime import date, datetime, time, timedelta, tzinfo

import django_filters
from django.db.models import QuerySet
from rest_framework.exceptions import PermissionDenied

from administrations.models import Administration, User
from common.exceptions import BadRequest
from common.filtering import LeanFilterSet
from common.ids import parse_id
from common.limits import DAY_RANGE_MESSAGE, day_in_range
from timeentries.models import TimeEntry

DATE_FORMAT = "%Y-%m-%d"


class ExpensicatTimeEntryFilterSet(LeanFilterSet):
    """Dates are inclusive and in the organization's time zone. user_id is "me", a member's id,
    or absent: the whole organization for owners and admins, the caller's own entries for
    members (who may not ask for anyone else's)."""

    start_date = django_filters.DateFilter(method="filter_start_date", input_formats=[DATE_FORMAT])
    end_date = django_filters.DateFilter(method="filter_end_date", input_formats=[DATE_FORMAT])
    q = django_filters.CharFilter(method="filter_q")
    project_id = django_filters.CharFilter(method="filter_project")
    user_id = django_filters.CharFilter(method="filter_user")

    class Meta:
        model = TimeEntry
        fields: list[str] = []

    def __init__(
        self,
        *args,
        administration: Administration,
        user: User,
        sees_everyone: bool,
        time_zone: tzinfo | None = None,
        **kwargs,
    ):
        self.administration = administration
        # The zone dates are read in: the organization's, unless a report names another.
        self.time_zone = time_zone or administration.tz
        self.user = user
        self.sees_everyone = sees_everyone
        super().__init__(*args, **kwargs)

    @classmethod
    def from_params(
        cls,
        params,
        *,
        queryset: QuerySet,
        administration: Administration,
        user: User,
        sees_everyone: bool,
        time_zone: tzinfo | None = None,
    ) -> "ExpensicatTimeEntryFilterSet":
        filterset = cls(
            params,
            queryset=queryset,
            administration=administration,
            user=user,
            sees_everyone=sees_everyone,
            time_zone=time_zone,
        )
        if not filterset.is_valid():
            key, messages = next(iter(filterset.errors.items()))
            raise BadRequest(f"{key}: {' '.join(messages)}", field=key)
        form = filterset.form.cleaned_data
        start, end = form.get("start_date"), form.get("end_date")
        for key, day in (("start_date", start), ("end_date", end)):
            if day is not None and not day_in_range(day):
                raise BadRequest(f"{key}: {DAY_RANGE_MESSAGE}", field=key)
        if start and end and end < start:
            raise BadRequest("end_date: must not be before start_date", field="end_date")
        return filterset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        if not self.data.get("user_id") and not self.sees_everyone:
            queryset = queryset.filter(user=self.user)
        return queryset

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time.min, self.time_zone)

    def filter_start_date(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(started_at__gte=self._midnight(value))

    def filter_end_date(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(started_at__lt=self._midnight(value + timedelta(days=1)))

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(description__icontains=value)

    def filter_project(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(project_id=_id(name, value))

    def filter_user(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        user_id = self.user.pk if value == "me" else _id(name, value)
        if user_id != self.user.pk and not self.sees_everyone:
            raise PermissionDenied("Members can only list their own time entries")
        return queryset.filter(user_id=user_id)


def _id(name: str, value: str) -> int:
    pk = parse_id(value)
    if pk is None:
        raise BadRequest(f"{name}: {value!r} is not an id", field=name)
    return pk
