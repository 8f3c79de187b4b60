"""Expensicat's /api/v1/time-entries, over timeentries.services."""

from datetime import datetime, tzinfo
from typing import Any, cast

import orjson
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from administrations.models import User
from common.api import (
    ID_PATTERN,
    YEAR_PATTERN,
    IdField,
    TimestampField,
    path_id,
    validate_input,
)
from common.api.expensicat import (
    ID,
    ORGANIZATION_HEADER,
    ExpensicatView,
    expensicat_path,
    fields_renamed,
)
from common.bulk import (
    ATOMIC,
    BULK_CREATE_ITEMS,
    BULK_IDS,
    FLAG_BODY,
    QUERY_IDS,
    BulkView,
    given_ids,
    items_of,
    query_ids,
    result_fields,
    validated_items,
)
from common.conditional import IF_MATCH, IF_NONE_MATCH, if_match, tagged
from common.errors import expensicat_error_body
from common.exceptions import NotFound, ServiceError
from common.hotpath import plain_request, token_caller, view_headers
from common.ids import render_id
from common.limits import DESCRIPTION_MAX_LENGTH, too_long_message
from common.openapi import (
    EXPENSICAT_PAGING,
    NO_CONTENT,
    body_rules,
    expensicat_data,
    expensicat_page,
    expensicat_responses,
    id_parameter,
)
from common.pagination import CursorPage, Keyset
from common.renderers import json_response
from common.tenancy import tenancy
from common.timefmt import iso_utc
from timeentries import bulk, rows, services
from timeentries.filtersets_expensicat import ExpensicatTimeEntryFilterSet
from timeentries.models import TimeEntry
from timeentries.selectors import (
    time_entries_changeable,
    time_entries_visible,
)

# Expensicat's names for the services' fields (input keys, and error details).
FIELD_NAMES = {"started_at": "start_time", "ended_at": "end_time"}
SERVICE_NAMES = {v: k for k, v in FIELD_NAMES.items()}

# Newest first, with the id breaking ties: the order of the index te_adm_started.
KEYSET = Keyset(TimeEntry, "-started_at", "id")


def with_related(queryset: QuerySet) -> QuerySet:
    """Entries with the related rows render_time_entry reads joined."""
    return queryset.select_related(*RELATED)


# What render_time_entry reads of an entry's related rows, joined in the entry's own query.
RELATED = ("user", "project", "project__contact", "sales_invoice")


# A day in the range times are taken in (common.limits), as a schema.
DAY = {"type": "string", "format": "date", "pattern": YEAR_PATTERN}
# What the service enforces (common.openapi.body_rules): a description with some text.
body_rules("ExpensicatTimeEntryCreateInput", not_blank=("description",))
body_rules("ExpensicatTimeEntryUpdateInput", not_blank=("description",))


@extend_schema_serializer(component_name="ExpensicatTimeEntryCreateInput")
class TimeEntryCreateInput(serializers.Serializer):
    start_time = TimestampField()
    end_time = TimestampField(required=False, allow_null=True)
    # A blank one is the service's to reject, together with anything else wrong.
    description = serializers.CharField(
        trim_whitespace=False,
        allow_blank=True,
        max_length=DESCRIPTION_MAX_LENGTH,
        error_messages={"max_length": too_long_message(DESCRIPTION_MAX_LENGTH)},
    )
    project_id = IdField(required=False, allow_null=True)
    billable = serializers.BooleanField(required=False)


@extend_schema_serializer(component_name="ExpensicatTimeEntryUpdateInput")
class TimeEntryUpdateInput(serializers.Serializer):
    start_time = TimestampField(required=False)
    # null makes the entry run again.
    end_time = TimestampField(required=False, allow_null=True)
    description = serializers.CharField(
        required=False,
        trim_whitespace=False,
        allow_blank=True,
        max_length=DESCRIPTION_MAX_LENGTH,
        error_messages={"max_length": too_long_message(DESCRIPTION_MAX_LENGTH)},
    )
    project_id = IdField(required=False, allow_null=True)
    billable = serializers.BooleanField(required=False)


# What render_time_entry answers, for the OpenAPI schema only (common/openapi.py).
@extend_schema_serializer(component_name="ExpensicatTimeEntry")
class TimeEntryOutput(serializers.Serializer):
    id = serializers.CharField()
    organization_id = serializers.CharField()
    user_id = serializers.CharField()
    project_id = serializers.CharField(allow_null=True)
    start_time = serializers.DateTimeField()
    end_time = serializers.DateTimeField(allow_null=True, help_text="null while running")
    duration = serializers.IntegerField(help_text="Seconds worked, up to now while running")
    description = serializers.CharField()
    billable = serializers.BooleanField()
    invoice_id = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    user = inline_serializer(
        "ExpensicatTimeEntryUser",
        {
            "id": serializers.CharField(),
            "full_name": serializers.CharField(),
            "email": serializers.EmailField(),
            "avatar_url": serializers.URLField(allow_null=True),
        },
    )
    project = inline_serializer(
        "ExpensicatTimeEntryProject",
        {
            "id": serializers.CharField(),
            "name": serializers.CharField(),
            "customer_id": serializers.CharField(allow_null=True),
            "hourly_rate": serializers.FloatField(allow_null=True),
            "currency": serializers.CharField(),
            "customer": inline_serializer(
                "ExpensicatTimeEntryCustomer",
                {"id": serializers.CharField(), "name": serializers.CharField()},
                allow_null=True,
            ),
        },
        allow_null=True,
    )
    invoice = inline_serializer(
        "ExpensicatTimeEntryInvoice",
        {
            "id": serializers.CharField(),
            "number": serializers.CharField(allow_null=True, help_text="null while a draft"),
            "status": serializers.CharField(),
            "date": serializers.DateField(allow_null=True),
            "due_date": serializers.DateField(allow_null=True),
        },
        allow_null=True,
    )


ENTRY_DATA = expensicat_data("ExpensicatTimeEntry", TimeEntryOutput)
ENTRY_PAGE = expensicat_page("ExpensicatTimeEntry", TimeEntryOutput)
ENTRY_ID = id_parameter("id", "time entry")


def _duration(entry: TimeEntry, now: datetime) -> int:
    """Seconds worked: end (or now, while running) minus start minus pauses."""
    end = entry.ended_at or now
    return max(0, int((end - entry.started_at).total_seconds()) - entry.paused_duration)


def _render_invoice(entry: TimeEntry) -> dict[str, Any] | None:
    """The entry's invoice (invoices.SalesInvoice), or None."""
    invoice = entry.sales_invoice
    if invoice is None:
        return None
    return {
        "id": str(invoice.pk),
        "number": invoice.invoice_id,  # None while the invoice is a draft
        "status": invoice.state,
        "date": invoice.invoice_date.isoformat() if invoice.invoice_date else None,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
    }


def render_time_entry(entry: TimeEntry, *, now: datetime) -> dict[str, Any]:
    """One entry as Expensicat renders it; `entry` has RELATED joined."""
    user, project = entry.user, entry.project
    invoice = _render_invoice(entry)
    customer = project.contact if project is not None else None
    return {
        "id": str(entry.pk),
        "organization_id": str(entry.administration_id),
        "user_id": str(entry.user_id),
        "project_id": render_id(entry.project_id),
        "start_time": iso_utc(entry.started_at),
        "end_time": iso_utc(entry.ended_at),
        "duration": _duration(entry, now),
        "description": entry.description,
        "billable": entry.billable,
        "invoice_id": None if invoice is None else invoice["id"],
        "created_at": iso_utc(entry.created_at),
        "updated_at": iso_utc(entry.updated_at),
        "user": {
            "id": str(user.pk),
            "full_name": user.display_name,
            "email": user.email,
            "avatar_url": user.avatar_url or None,
        },
        "project": None
        if project is None
        else {
            "id": str(project.pk),
            "name": project.name,
            "customer_id": render_id(project.contact_id),
            # A number here (the document's type), a string on /v1/projects.
            "hourly_rate": None if project.hourly_rate is None else float(project.hourly_rate),
            "currency": project.currency,
            "customer": None
            if customer is None
            else {"id": str(customer.pk), "name": customer.display_name},
        },
        "invoice": invoice,
    }


def _answered(request: Request, row: tuple | None, *, status: int = 200) -> HttpResponse:
    """The entry of `row` (rows.expensicat_entry's, or a write's rows.Answer) in its envelope,
    with its ETag."""
    if row is None:
        raise NotFound("id")
    body = {"data": rows.render_expensicat(row, now_micros=rows.epoch_micros(timezone.now()))}
    response = json_response(orjson.dumps(body), status=status)
    return tagged(request, response, rows.expensicat_tag(row))


class TimeEntryView(ExpensicatView):
    read_scopes = ("entries:read",)
    write_scopes = ("entries:write",)

    def visible(self) -> QuerySet:
        return time_entries_visible(
            self.administration, cast(User, self.request.user), sees_everyone=self.sees_everyone
        )

    def filtered(self, time_zone: tzinfo | None = None) -> QuerySet:
        """The entries the request's filters (start_date, end_date, q, project_id, user_id)
        leave of those the caller sees; dates read in `time_zone`, by default the
        organization's."""
        return ExpensicatTimeEntryFilterSet.from_params(
            self.request.query_params,
            queryset=self.visible(),
            administration=self.administration,
            user=self.request.user,
            sees_everyone=self.sees_everyone,
            time_zone=time_zone,
        ).qs

    def entry_or_404(self, pk: str) -> TimeEntry:
        entry = self.visible().select_related(*RELATED).filter(pk=path_id(pk)).first()
        if entry is None:
            raise NotFound("id")
        return entry

    def changeable(self) -> QuerySet:
        return time_entries_changeable(self.administration, cast(User, self.request.user))


def _unfiltered(sees_everyone: bool, after_cursor: bool) -> rows.WhereShape:
    """The list's WHERE when no filter is given (what a client that syncs everything asks
    for): the entries the caller sees, after the cursor if any, compiled once."""

    def build(administration_id: int, *values: Any) -> QuerySet:
        user_id, after = (None, values) if sees_everyone else (values[0], values[1:])
        visible = time_entries_visible(
            administration_id,  # type: ignore[arg-type]  # for_administration takes an id too
            user_id,  # type: ignore[arg-type]  # filter(user=...) takes an id too
            sees_everyone=sees_everyone,
        )
        return KEYSET.narrowed(visible, CursorPage(limit=1, after=after or None))

    kinds = ("id", *(() if sees_everyone else ("id",)), *(("time", "id") if after_cursor else ()))
    return rows.WhereShape(build, *kinds)


_UNFILTERED = {
    (everyone, cursor): _unfiltered(everyone, cursor)
    for everyone in (True, False)
    for cursor in (True, False)
}


def _everything_seen(administration_id: int, own: int | None, page: CursorPage) -> rows.Where:
    """The unfiltered list's WHERE: the organization's entries, or only the member `own`'s,
    after the page's cursor."""
    shape = _UNFILTERED[own is None, page.after is not None]
    return shape(administration_id, *(() if own is None else (own,)), *(page.after or ()))


def _page_body(where: rows.Where, page: CursorPage) -> bytes:
    """The list's body: the page of entries `where` selects, and the next page's cursor."""
    found = rows.expensicat_page(where, limit=page.limit + 1)
    next_cursor = None
    if len(found) > page.limit:
        del found[page.limit :]
        next_cursor = KEYSET.encode_values(rows.expensicat_cursor_values(found[-1]))
    now = rows.epoch_micros(timezone.now())
    items = [rows.render_expensicat(row, now_micros=now) for row in found]
    meta = {"count": len(items), "next_cursor": next_cursor}
    return orjson.dumps({"data": items, "meta": meta})


class TimeEntryListView(TimeEntryView):
    @extend_schema(
        operation_id="expensicat_time_entries_list",
        summary="List time entries, newest first",
        description="Members see only their own entries; owners and admins everyone's.",
        parameters=[
            *EXPENSICAT_PAGING,
            OpenApiParameter("start_date", DAY, description="From this day (inclusive)."),
            OpenApiParameter("end_date", DAY, description="Up to this day (inclusive)."),
            OpenApiParameter("q", str, description="Text the description contains."),
            OpenApiParameter(
                "project_id",
                {"type": "string", "pattern": ID_PATTERN},
                description="Only this project's entries.",
            ),
            OpenApiParameter(
                "user_id",
                {"type": "string", "pattern": f"^me$|{ID_PATTERN}"},
                description='"me" or a member\'s id (owners and admins only).',
            ),
        ],
        responses=expensicat_responses({200: ENTRY_PAGE}),
    )
    def get(self, request: Request) -> Response:
        page = KEYSET.page_from_request(request)
        params = request.query_params
        if any(name in params for name in ExpensicatTimeEntryFilterSet.base_filters):
            where = rows.where_of(KEYSET.narrowed(self.filtered(), page))
        else:
            where = _everything_seen(
                self.administration.pk, None if self.sees_everyone else request.user.pk, page
            )
        return json_response(_page_body(where, page))

    @extend_schema(
        operation_id="expensicat_time_entries_create",
        summary="Create a time entry",
        request=TimeEntryCreateInput,
        responses=expensicat_responses({201: ENTRY_DATA}, 422),
    )
    def post(self, request: Request) -> HttpResponse:
        with fields_renamed(FIELD_NAMES):
            data = validate_input(
                TimeEntryCreateInput,
                self.body(request),
                context={"time_zone": self.administration.tz},
            )
            answer = rows.Answer("expensicat")
            services.time_entry_create(
                administration=self.administration,
                actor=request.user,
                user_id=request.user.pk,
                answer=answer,
                **{SERVICE_NAMES.get(k, k): v for k, v in data.items()},
            )
        return _answered(request, answer.row, status=201)


_LIST_HEADERS = view_headers(TimeEntryListView)
_HOT_PARAMS = frozenset(("limit", "cursor"))


def hot_list(request: HttpRequest) -> HttpResponse | None:
    """The list's answer to the request of a client that pages through everything it sees (no
    filter, at most `limit` and `cursor`) with an API token of the organization, made without
    DRF (common.middleware.HotReadMiddleware); None hands the request to TimeEntryListView.
    Each step is the view's own (common.hotpath for ExpensicatView.initial, then get's): the
    same credential, scope, organization and role, rate limit and page, and the same bytes.
    Anything this does not judge the way the view would is the view's: another credential or
    Accept, the organization header, any other parameter, and every error."""
    if not plain_request(request, _HOT_PARAMS) or ORGANIZATION_HEADER in request.headers:
        return None
    try:
        page = KEYSET.page_from_params(request.GET)
    except ServiceError:
        return None
    caller = token_caller(
        request,
        dialect=TimeEntryListView.rate_limit_dialect,
        scopes=TimeEntryListView.read_scopes,
        selector="",  # ExpensicatView.rate_limit_selector without the organization header
    )
    if caller is None:
        return None
    user, grant, administration, usage = caller
    own = None if grant.role in tenancy().ELEVATED_ROLES else user.pk
    response = json_response(_page_body(_everything_seen(administration.pk, own, page), page))
    for name, value in (*_LIST_HEADERS.items(), *usage.headers().items()):
        response[name] = value
    return response


@extend_schema(parameters=[ENTRY_ID])
class TimeEntryDetailView(TimeEntryView):
    @extend_schema(
        operation_id="expensicat_time_entries_retrieve",
        summary="Get a time entry",
        parameters=[IF_NONE_MATCH],
        responses=expensicat_responses({200: ENTRY_DATA, 304: NO_CONTENT}),
    )
    def get(self, request: Request, pk: str) -> Response:
        own = None if self.sees_everyone else self.request.user.pk
        return _answered(
            request, rows.expensicat_entry(self.administration.pk, path_id(pk), user_id=own)
        )

    @extend_schema(
        operation_id="expensicat_time_entries_update",
        summary="Update a time entry",
        description="Only the fields given change; end_time null makes the entry run again.",
        parameters=[IF_MATCH],
        request=TimeEntryUpdateInput,
        responses=expensicat_responses({200: ENTRY_DATA}, 412, 422),
    )
    def patch(self, request: Request, pk: str) -> HttpResponse:
        entry_id = path_id(pk)
        try:
            with fields_renamed(FIELD_NAMES):
                changes = validate_input(
                    TimeEntryUpdateInput,
                    self.body(request),
                    partial=True,
                    context={"time_zone": self.administration.tz},
                )
        except Exception:
            # An entry the caller cannot see is a 404 whatever the body says.
            self.entry_or_404(pk)
            raise
        answer = rows.Answer("expensicat")
        with fields_renamed(FIELD_NAMES):
            # The service locks the entry from changeable(): one it cannot see is a 404 too.
            services.time_entry_update(
                entry=TimeEntry(pk=entry_id, administration=self.administration),
                actor=request.user,
                changes={SERVICE_NAMES.get(k, k): v for k, v in changes.items()},
                changeable_by=cast(User, request.user),
                precondition=if_match(request),
                answer=answer,
            )
        return _answered(request, answer.row)

    @extend_schema(
        operation_id="expensicat_time_entries_destroy",
        summary="Delete a time entry",
        parameters=[IF_MATCH],
        responses=expensicat_responses({204: NO_CONTENT}, 412, 422),
    )
    def delete(self, request: Request, pk: str) -> Response:
        with fields_renamed(FIELD_NAMES):
            services.time_entry_delete(
                entry=self.entry_or_404(pk), actor=request.user, precondition=if_match(request)
            )
        return Response(status=204)


def _renamed(exc: ServiceError) -> ServiceError:
    """An item's error with this dialect's field names, as the single request reports it."""
    try:
        with fields_renamed(FIELD_NAMES):
            raise exc
    except ServiceError as renamed:
        return renamed


BULK_RESULTS = inline_serializer(
    "ExpensicatTimeEntryBulkResults",
    {
        "data": inline_serializer(
            "ExpensicatTimeEntryBulkResult",
            result_fields(TimeEntryOutput(required=False, help_text="The entry, when written")),
            many=True,
        )
    },
)


# What common.bulk.items_of and given_ids refuse with a 400 (common.openapi.body_rules).
body_rules(
    "ExpensicatTimeEntryBulkCreate",
    required=("items",),
    fields={"items": BULK_CREATE_ITEMS, "atomic": FLAG_BODY},
)
body_rules(
    "ExpensicatTimeEntryBulkUpdate",
    required=("ids", "changes"),
    required_when_partial=True,
    fields={"ids": BULK_IDS, "atomic": FLAG_BODY},
)


class TimeEntryBulkView(BulkView, TimeEntryView):
    """Up to 100 time entries in one request, each audited as its single write is."""

    def bulk_rendered(self, ids: list[int]) -> dict[int, Any]:
        now = timezone.now()
        queryset = self.visible().select_related(*RELATED).filter(pk__in=ids)
        return {entry.pk: render_time_entry(entry, now=now) for entry in queryset}

    def bulk_rolled_back(self, failed: int) -> dict[str, Any]:
        return expensicat_error_body(
            "ROLLED_BACK",
            f"Not written: item {failed} failed and atomic=true asked for all or nothing",
        )

    def bulk_renamed(self, exc: ServiceError) -> ServiceError:
        """An item's error with this dialect's field names, as the single request reports it."""
        try:
            with fields_renamed(FIELD_NAMES):
                raise exc
        except ServiceError as renamed:
            return renamed

    def bulk_response(self, results: list[dict[str, Any]]) -> Response:
        return self.data(results)

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        """One item of a bulk create, validated as the body of a single create."""
        with fields_renamed(FIELD_NAMES):
            data = validate_input(
                TimeEntryCreateInput, item, context={"time_zone": self.administration.tz}
            )
        return {
            "user_id": self.request.user.pk,
            **{SERVICE_NAMES.get(k, k): v for k, v in data.items()},
        }

    @extend_schema(
        operation_id="expensicat_time_entries_bulk_create",
        summary="Create up to 100 time entries",
        description="`items`: each the body of a single create.",
        parameters=[ATOMIC],
        request=inline_serializer(
            "ExpensicatTimeEntryBulkCreate",
            {
                "items": TimeEntryCreateInput(many=True),
                "atomic": serializers.BooleanField(required=False),
            },
        ),
        responses=expensicat_responses({200: BULK_RESULTS}),
    )
    def post(self, request: Request) -> Response:
        items = validated_items(items_of(self.body(request), "items"), self.item)
        return self.bulk_write(
            bulk.time_entries_create_bulk,
            [],
            201,
            administration=self.administration,
            actor=request.user,
            items=items,
        )

    @extend_schema(
        operation_id="expensicat_time_entries_bulk_update",
        summary="Change up to 100 time entries alike",
        parameters=[ATOMIC],
        request=inline_serializer(
            "ExpensicatTimeEntryBulkUpdate",
            {
                "ids": serializers.ListField(child=serializers.CharField()),
                "changes": TimeEntryUpdateInput(),
                "atomic": serializers.BooleanField(required=False),
            },
        ),
        responses=expensicat_responses({200: BULK_RESULTS}, 422),
    )
    def patch(self, request: Request) -> Response:
        body = self.body(request)
        ids = given_ids(body.get("ids"))
        with fields_renamed(FIELD_NAMES):
            changes = validate_input(
                TimeEntryUpdateInput,
                body.get("changes"),
                partial=True,
                context={"time_zone": self.administration.tz},
            )
        return self.bulk_write(
            bulk.time_entries_update_bulk,
            ids,
            200,
            administration=self.administration,
            actor=request.user,
            ids=ids,
            changes={SERVICE_NAMES.get(k, k): v for k, v in changes.items()},
            entries=self.changeable(),
        )

    @extend_schema(
        operation_id="expensicat_time_entries_bulk_destroy",
        summary="Delete up to 100 time entries",
        parameters=[QUERY_IDS, ATOMIC],
        responses=expensicat_responses({200: BULK_RESULTS}),
    )
    def delete(self, request: Request) -> Response:
        ids = query_ids(request)
        return self.bulk_write(
            bulk.time_entries_delete_bulk,
            ids,
            204,
            administration=self.administration,
            actor=request.user,
            ids=ids,
            entries=self.changeable(),
        )


urlpatterns = [
    expensicat_path("time-entries", TimeEntryListView, "ec-time-entries"),
    # Before time-entries/{id}: this dialect's ids match any path segment.
    expensicat_path("time-entries/bulk", TimeEntryBulkView, "ec-time-entries-bulk"),
    expensicat_path(rf"time-entries/(?P<pk>{ID})", TimeEntryDetailView, "ec-time-entry"),
]
