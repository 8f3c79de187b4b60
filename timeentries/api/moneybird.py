"""Moneybird's /api/v2/{administration_id}/time_entries, over timeentries.services."""

from collections.abc import Mapping
from datetime import date, tzinfo
from operator import itemgetter
from typing import Any

import orjson
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from administrations.api.moneybird.users import UserOutput, render_user_row
from administrations.models import Administration, Project
from common.api import IdField, TimestampField, path_id, synchronization, validate_input
from common.api.moneybird import ID, MoneybirdView, moneybird_path
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
from common.exceptions import NotFound, ScopeMissing
from common.hotpath import plain_request, token_caller, view_headers
from common.ids import parse_id, render_id
from common.limits import DESCRIPTION_MAX_LENGTH, too_long_message
from common.openapi import (
    MONEYBIRD_PAGING,
    NO_CONTENT,
    TIME_ENTRIES_FILTER_FORMAT,
    body_rules,
    id_parameter,
    moneybird_filter,
    moneybird_responses,
    patch_and_put,
)
from common.pagination import Total, count_limit, page_from_request, paged_response
from common.renderers import json_response
from common.timefmt import iso_utc
from invoices.models import SalesInvoice
from notes.api.moneybird import (
    EventOutput,
    NoteCreateView,
    NoteDeleteView,
    NoteOutput,
    render_event,
    render_note,
)
from timeentries import bulk, rows, services
from timeentries.filtersets import TimeEntryFilterSet
from timeentries.models import TimeEntry
from timeentries.selectors import (
    ENTRY_COLUMNS,
    RELATED_COLUMNS,
    time_entries_of,
    time_entry_rows,
)


@extend_schema_serializer(component_name="MoneybirdTimeEntryInput")
class TimeEntryInput(serializers.Serializer):
    # Requiredness is the service's rule, so that a missing start and a missing description
    # are reported together, as Moneybird does.
    user_id = IdField(required=False, allow_null=True)
    started_at = TimestampField(required=False, allow_null=True)
    ended_at = TimestampField(required=False, allow_null=True)
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        trim_whitespace=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        error_messages={"max_length": too_long_message(DESCRIPTION_MAX_LENGTH)},
    )
    contact_id = IdField(required=False, allow_null=True)
    project_id = IdField(required=False, allow_null=True)
    sales_invoice_id = IdField(required=False, allow_null=True)
    billable = serializers.BooleanField(required=False)
    paused_duration = serializers.IntegerField(required=False, allow_null=True)


# --- documentation only (common/openapi.py): the shapes the render_* functions build ------------


@extend_schema_serializer(component_name="MoneybirdTimeEntrySalesInvoice")
class SalesInvoiceOutput(serializers.Serializer):
    id = serializers.CharField()
    administration_id = serializers.CharField()
    contact_id = serializers.CharField()
    invoice_id = serializers.CharField(allow_null=True, help_text="null while a draft")
    state = serializers.ChoiceField(choices=SalesInvoice.State.choices)
    invoice_date = serializers.DateField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="MoneybirdTimeEntry")
class TimeEntryOutput(serializers.Serializer):
    id = serializers.CharField()
    administration_id = serializers.CharField()
    contact_id = serializers.CharField(allow_null=True)
    project_id = serializers.CharField(allow_null=True)
    sales_invoice_id = serializers.CharField(allow_null=True)
    user_id = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True, help_text="null while running")
    description = serializers.CharField()
    paused_duration = serializers.IntegerField(help_text="seconds")
    billable = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    contact = inline_serializer(
        "MoneybirdTimeEntryContact",
        {
            "id": serializers.CharField(),
            "firstname": serializers.CharField(allow_null=True),
            "lastname": serializers.CharField(allow_null=True),
            "company_name": serializers.CharField(allow_null=True),
        },
        allow_null=True,
    )
    user = UserOutput()
    project = inline_serializer(
        "MoneybirdTimeEntryProject",
        {
            "id": serializers.CharField(),
            "name": serializers.CharField(),
            "state": serializers.ChoiceField(choices=Project.State.choices),
            "budget": serializers.IntegerField(allow_null=True, help_text="hours"),
        },
        allow_null=True,
    )
    sales_invoice = SalesInvoiceOutput(
        allow_null=True,
        required=False,
        help_text="Left out for a token without the sales_invoices scope.",
    )
    events = EventOutput(many=True)
    notes = NoteOutput(many=True)


@extend_schema_serializer(component_name="MoneybirdTimeEntryCreateInput")
class TimeEntryCreateInput(TimeEntryInput):
    """TimeEntryInput as a create takes it; body_rules below say what a create needs."""


TIME_ENTRY_BODY = inline_serializer("MoneybirdTimeEntryWrite", {"time_entry": TimeEntryInput()})
TIME_ENTRY_CREATE_BODY = inline_serializer(
    "MoneybirdTimeEntryCreate", {"time_entry": TimeEntryCreateInput()}
)
# What the services and `MoneybirdView.body` enforce (common.openapi.body_rules).
body_rules("MoneybirdTimeEntryWrite", required=("time_entry",), required_when_partial=True)
body_rules("MoneybirdTimeEntryCreate", required=("time_entry",))
_ENTRY_RULES: dict[str, Any] = {
    "not_null": ("started_at",),
    "not_blank": ("description",),
    "fields": {"paused_duration": {"minimum": 0}},
}
body_rules("MoneybirdTimeEntryInput", **_ENTRY_RULES)
body_rules("MoneybirdTimeEntryCreateInput", required=("started_at", "description"), **_ENTRY_RULES)
ENTRY_ID = id_parameter("id", "time entry")


def _date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def shows_sales_invoices(request: Request) -> bool:
    """Moneybird leaves an entry's invoice out for a token without the sales_invoices scope."""
    return grants_sales_invoices(request.auth)


def grants_sales_invoices(auth: Any) -> bool:
    return "sales_invoices" in (getattr(auth, "scopes", None) or ())


def time_entry_input(view: MoneybirdView, request: Request, *, partial: bool) -> dict[str, Any]:
    """The typed `time_entry` body. Linking an invoice also needs the sales_invoices scope:
    Moneybird asks "access to both sales invoices and time entries" for it."""
    data = validate_input(
        TimeEntryInput,
        view.body(request, "time_entry"),
        partial=partial,
        context={"time_zone": view.administration.tz},
    )
    if "sales_invoice_id" in data and not shows_sales_invoices(request):
        raise ScopeMissing("sales_invoices")
    return data


def entry_row(entry: TimeEntry) -> dict[str, Any]:
    """An entry read as a model instance (with_details' shape: related rows joined, events and
    notes aggregated), as the row a list reads (selectors.RENDERED, events_json, notes_json)."""
    row = {name: getattr(entry, name) for name in ENTRY_COLUMNS}
    for relation, names in RELATED_COLUMNS.items():
        related = getattr(entry, relation)
        for name in names:
            row[f"{relation}__{name}"] = None if related is None else getattr(related, name)
    row["events_json"], row["notes_json"] = entry.events_json, entry.notes_json
    return row


def render_time_entry(entry: TimeEntry, *, sales_invoices: bool = True) -> dict[str, Any]:
    """One entry as Moneybird renders it; `entry` comes from selectors.with_details, or from a
    write service, which returns it in that shape."""
    return render_time_entry_row(entry_row(entry), sales_invoices=sales_invoices)


def render_time_entry_row(row: Mapping[str, Any], *, sales_invoices: bool = True) -> dict[str, Any]:
    """One entry as Moneybird renders it, from a row of selectors.page_rows (or entry_row).
    Without `sales_invoices` (the token's scope) the `sales_invoice` key is left out."""
    events = sorted(row["events_json"] or [], key=itemgetter("id"))
    notes = sorted(row["notes_json"] or [], key=itemgetter("id"))
    contact_id, project_id, invoice_id = (
        row["contact_id"],
        row["project_id"],
        row["sales_invoice_id"],
    )
    body = {
        "id": str(row["id"]),
        "administration_id": str(row["administration_id"]),
        "contact_id": render_id(contact_id),
        "project_id": render_id(project_id),
        "sales_invoice_id": render_id(invoice_id),
        "user_id": str(row["user_id"]),
        "started_at": iso_utc(row["started_at"]),
        "ended_at": iso_utc(row["ended_at"]),
        "description": row["description"],
        "paused_duration": row["paused_duration"],
        "billable": row["billable"],
        "created_at": iso_utc(row["created_at"]),
        "updated_at": iso_utc(row["updated_at"]),
        "contact": None
        if contact_id is None
        else {
            "id": str(contact_id),
            "firstname": row["contact__firstname"] or None,
            "lastname": row["contact__lastname"] or None,
            "company_name": row["contact__company_name"] or None,
        },
        "user": render_user_row(
            row["user_id"],
            row["user__name"],
            row["user__email"],
            row["user__created_at"],
            row["user__updated_at"],
        ),
        "project": None
        if project_id is None
        else {
            "id": str(project_id),
            "name": row["project__name"],
            "state": row["project__state"],
            "budget": row["project__budget"],
        },
        # The keys of the OpenAPI's sales_invoice_response that Uurwerk models. Left out, for
        # want of anything to fill them with: contact (the entry renders its own), contact
        # person, recurring invoice, subscription, workflow, document style, identity, draft,
        # payment conditions and references, language, currency, discount, original invoice,
        # paused, paid_at, sent_at, public view code, version, details, payments, totals,
        # dubious/uncollectible dates, reminders, original estimate, urls, custom fields, notes,
        # attachments, events, tax totals and time entries.
        "sales_invoice": None
        if invoice_id is None
        else {
            "id": str(invoice_id),
            "administration_id": str(row["sales_invoice__administration_id"]),
            "contact_id": str(row["sales_invoice__contact_id"]),
            "invoice_id": row["sales_invoice__invoice_id"],
            "state": row["sales_invoice__state"],
            "invoice_date": _date(row["sales_invoice__invoice_date"]),
            "due_date": _date(row["sales_invoice__due_date"]),
            "created_at": iso_utc(row["sales_invoice__created_at"]),
            "updated_at": iso_utc(row["sales_invoice__updated_at"]),
        },
        "events": [render_event(e) for e in events],
        "notes": [render_note(n) for n in notes],
    }
    if not sales_invoices:
        del body["sales_invoice"]
    return body


def _rendered(
    request: Request, administration: Administration, entry_id: int | str
) -> HttpResponse:
    """The entry as it is now, rendered for this request's token, with its ETag."""
    return _answered(request, rows.moneybird_entry(administration.pk, path_id(entry_id)))


def _answered(request: Request, row: tuple | None, *, status: int = 200) -> HttpResponse:
    """The entry of `row` (rows.moneybird_entry's, or a write's rows.Answer) rendered for
    this request's token, with its ETag."""
    if row is None:
        raise NotFound("id")
    body = rows.render_moneybird(row, sales_invoices=shows_sales_invoices(request))
    response = json_response(orjson.dumps(body), status=status)
    return tagged(request, response, rows.moneybird_tag(row))


def _named(administration: Administration, entry_id: str) -> TimeEntry:
    """The entry a write names, for a write service: the service reads and locks it itself (an
    id that is not this administration's is NotFound("id")), so the view does not read it."""
    return TimeEntry(pk=int(entry_id), administration=administration)


def _exists_or_404(administration: Administration, entry_id: str) -> None:
    if not time_entries_of(administration).filter(pk=int(entry_id)).exists():
        raise NotFound("id")


def listed_entries(
    request: Request,
    administration: Administration,
    *,
    time_zone: tzinfo | None = None,
    today: date | None = None,
) -> tuple[TimeEntryFilterSet, QuerySet]:
    """The entries the list answers for this request's `filter=` and `query=` (and the filter
    they came from, for check_references), unordered and unpaged. The report reads the same.
    Periods and days are read in `time_zone`, by default the administration's, relative to
    `today` there (by default now's day)."""
    zone = time_zone or administration.tz
    filterset = TimeEntryFilterSet.from_string(
        request.query_params.get("filter"),
        queryset=time_entries_of(administration),
        administration=administration,
        today=today or timezone.now().astimezone(zone).date(),
        time_zone=zone,
    )
    queryset = filterset.qs
    query = request.query_params.get("query")
    if query:
        queryset = queryset.filter(description__icontains=query)
    return filterset, queryset


# The WHERE of the list by everything it is made of: the administration, its zone, the day it
# is there (periods are relative to it), and the filter and query given. A client pages
# through a list, or polls one, with the same filter, and the filter set's queryset with its
# compilation cost more than the rest of such a request's Python. Bounded; only a filter that
# was valid is kept (a bad one raises first).
_LISTED_WHERES: dict[tuple, rows.Where] = {}
_LISTED_WHERES_MAX = 512


def listed_where(request: Request, administration: Administration) -> rows.Where:
    """rows.where_of(listed_entries(request, administration)[1]), made once per key."""
    zone = administration.tz
    today = timezone.now().astimezone(zone).date()
    params = request.query_params
    key = (
        administration.pk,
        administration.time_zone,
        today,
        params.get("filter"),
        params.get("query"),
    )
    where = _LISTED_WHERES.get(key)
    if where is None:
        where = rows.where_of(listed_entries(request, administration, today=today)[1])
        if len(_LISTED_WHERES) >= _LISTED_WHERES_MAX:
            _LISTED_WHERES.clear()
        _LISTED_WHERES[key] = where
    return where


class TimeEntryListView(MoneybirdView):
    required_scopes = ("time_entries",)

    @extend_schema(
        operation_id="moneybird_time_entries_list",
        summary="List time entries",
        parameters=[
            moneybird_filter(
                "Keys: state (all, open, non_billable), period (this_week, prev_month, "
                "this_year, ..., YYYYMM..YYYYMM, YYYYMMDD..YYYYMMDD), contact_id, "
                "include_nil_contacts, include_active, project_id, user_id, day. Without a "
                "filter: period:this_year,state:all and no running entries; a filter given "
                "replaces these defaults.",
                format=TIME_ENTRIES_FILTER_FORMAT,
            ),
            OpenApiParameter("query", str, description="Text the description contains."),
            *MONEYBIRD_PAGING,
        ],
        responses=moneybird_responses({200: TimeEntryOutput(many=True)}, 400, 404),
    )
    def get(self, request: Request, administration_id: str) -> HttpResponse:
        page = page_from_request(request)
        where, limit = listed_where(request, self.administration), count_limit(page)
        counted = rows.moneybird_count(where, limit=limit)
        if counted == 0:
            listed_entries(request, self.administration)[0].check_references()
        found = rows.moneybird_page(where, offset=page.offset, limit=page.size)
        shown = shows_sales_invoices(request)
        body = orjson.dumps([rows.render_moneybird(row, sales_invoices=shown) for row in found])
        return paged_response(request, page, body, total=Total(counted, exact=counted < limit))

    @extend_schema(
        operation_id="moneybird_time_entries_create",
        summary="Create a time entry",
        description="started_at and description are required; without ended_at the entry runs.",
        request=TIME_ENTRY_CREATE_BODY,
        responses=moneybird_responses({201: TimeEntryOutput}, 400, 404, 422),
    )
    def post(self, request: Request, administration_id: str) -> HttpResponse:
        data = time_entry_input(self, request, partial=False)
        answer = rows.Answer("moneybird")
        services.time_entry_create(
            administration=self.administration, actor=request.user, answer=answer, **data
        )
        return _answered(request, answer.row, status=201)


@extend_schema(parameters=[ENTRY_ID])
class TimeEntryDetailView(MoneybirdView):
    required_scopes = ("time_entries",)

    @extend_schema(
        operation_id="moneybird_time_entries_retrieve",
        summary="Get a time entry",
        parameters=[IF_NONE_MATCH],
        responses=moneybird_responses({200: TimeEntryOutput, 304: NO_CONTENT}, 404),
    )
    def get(self, request: Request, administration_id: str, pk: str) -> HttpResponse:
        return _rendered(request, self.administration, pk)

    @patch_and_put(
        "moneybird_time_entries_update",
        summary="Update a time entry",
        description="Only the attributes given change; ended_at null makes the entry run again.",
        parameters=[IF_MATCH],
        request=TIME_ENTRY_BODY,
        responses=moneybird_responses({200: TimeEntryOutput}, 400, 404, 412, 422),
    )
    def patch(self, request: Request, administration_id: str, pk: str) -> HttpResponse:
        try:
            changes = time_entry_input(self, request, partial=True)
        except Exception:
            # An unknown entry is a 404 whatever the body says.
            _exists_or_404(self.administration, pk)
            raise
        answer = rows.Answer("moneybird")
        services.time_entry_update(
            entry=_named(self.administration, pk),
            actor=request.user,
            changes=changes,
            precondition=if_match(request),
            answer=answer,
        )
        return _answered(request, answer.row)

    put = patch

    @extend_schema(
        operation_id="moneybird_time_entries_destroy",
        summary="Delete a time entry",
        parameters=[IF_MATCH],
        responses=moneybird_responses({204: NO_CONTENT}, 404, 412, 422),
    )
    def delete(self, request: Request, administration_id: str, pk: str) -> Response:
        entry = time_entries_of(self.administration).filter(pk=int(pk)).first()
        if entry is None:
            raise NotFound("id")
        entry.administration = self.administration
        services.time_entry_delete(entry=entry, actor=request.user, precondition=if_match(request))
        return Response(status=204)


_DETAIL_HEADERS = view_headers(TimeEntryDetailView)
_NO_PARAMS: frozenset[str] = frozenset()


def hot_get(request: HttpRequest, administration_id: str, pk: str) -> HttpResponse | None:
    """TimeEntryDetailView.get's answer to a plain get (no parameters, no If-None-Match) with an
    API token bound to the administration in the path, made without DRF
    (common.middleware.HotReadMiddleware); None hands the request to the view, which then
    answers it as before: another credential, a conditional get, an unknown entry (counted
    here, not again there), any error."""
    entry_id = parse_id(pk)  # past a bigint: the view's 404 (or the resolver's, past 19 digits)
    if entry_id is None or not plain_request(request, _NO_PARAMS):
        return None
    caller = token_caller(
        request,
        dialect=TimeEntryDetailView.rate_limit_dialect,
        scopes=TimeEntryDetailView.required_scopes,
        selector=administration_id,  # MoneybirdView.rate_limit_selector
        administration_id=administration_id,
    )
    if caller is None:
        return None
    row = rows.moneybird_entry(caller.administration.pk, entry_id)
    if row is None:
        return None
    body = rows.render_moneybird(row, sales_invoices=grants_sales_invoices(caller.grant))
    response = json_response(orjson.dumps(body))
    response["ETag"] = rows.moneybird_tag(row)  # as _answered (common.conditional.tagged)
    for name, value in (*_DETAIL_HEADERS.items(), *caller.usage.headers().items()):
        response[name] = value
    return response


class TimeEntryStopView(MoneybirdView):
    required_scopes = ("time_entries",)

    @extend_schema(
        operation_id="moneybird_time_entries_stop",
        summary="Stop a running time entry",
        parameters=[ENTRY_ID, IF_MATCH],
        request=None,
        responses=moneybird_responses({200: TimeEntryOutput}, 404, 412, 422),
    )
    def patch(self, request: Request, administration_id: str, pk: str) -> HttpResponse:
        answer = rows.Answer("moneybird")
        services.time_entry_stop(
            entry=_named(self.administration, pk),
            actor=request.user,
            precondition=if_match(request),
            answer=answer,
        )
        return _answered(request, answer.row)


class TimeEntryResumeView(MoneybirdView):
    required_scopes = ("time_entries",)

    @extend_schema(
        operation_id="moneybird_time_entries_resume",
        summary="Resume a stopped time entry",
        parameters=[ENTRY_ID, IF_MATCH],
        request=None,
        responses=moneybird_responses({200: TimeEntryOutput}, 404, 412, 422),
    )
    def patch(self, request: Request, administration_id: str, pk: str) -> HttpResponse:
        answer = rows.Answer("moneybird")
        services.time_entry_resume(
            entry=_named(self.administration, pk),
            actor=request.user,
            precondition=if_match(request),
            answer=answer,
        )
        return _answered(request, answer.row)


class TimeEntrySynchronizationView(MoneybirdView):
    required_scopes = ("time_entries",)
    reads_by_post = True  # POST asks for entries by id; a suspended administration answers it

    @extend_schema(
        operation_id="moneybird_time_entries_synchronization_list",
        summary="List the id and version of every time entry",
        parameters=[
            moneybird_filter(
                "Optional, with the keys of the time entries list; without it every entry, "
                "running ones included (not the list's default of this year).",
                format=TIME_ENTRIES_FILTER_FORMAT,
            )
        ],
        responses=moneybird_responses({200: synchronization.VERSIONS}, 400, 404),
    )
    def get(self, request: Request, administration_id: str) -> Response:
        """Id and version (updated_at in epoch seconds) of every time entry, by id: a client
        fetches those whose version differs from its copy, and deletes its copies of the ids
        missing here."""
        queryset = time_entries_of(self.administration)
        raw = request.query_params.get("filter")
        if raw is not None and raw.strip():
            filterset = TimeEntryFilterSet.from_string(
                raw,
                queryset=queryset,
                administration=self.administration,
                today=timezone.now().astimezone(self.administration.tz).date(),
            )
            queryset = filterset.qs
        return Response(synchronization.versions(queryset))

    @extend_schema(
        operation_id="moneybird_time_entries_synchronization_fetch",
        summary="Get time entries by their ids",
        request=synchronization.IDS,
        responses=moneybird_responses({200: TimeEntryOutput(many=True)}, 400, 404),
    )
    def post(self, request: Request, administration_id: str) -> Response:
        """The time entries with the given ids (at most 100; more is a 400), by id, each as its
        GET renders it; ids of no entry here (deleted, unknown, another administration's,
        malformed) are skipped."""
        wanted = synchronization.requested_ids(request, refuse_more=True)
        rows = time_entry_rows(self.administration, wanted)
        shown = shows_sales_invoices(request)
        return Response([render_time_entry_row(row, sales_invoices=shown) for row in rows])


BULK_RESULT = inline_serializer(
    "MoneybirdTimeEntryBulkResult",
    result_fields(TimeEntryOutput(required=False, help_text="The entry, when written")),
    many=True,
)


# What common.bulk.items_of and given_ids refuse with a 400 (common.openapi.body_rules).
body_rules(
    "MoneybirdTimeEntryBulkCreate",
    required=("time_entries",),
    fields={"time_entries": BULK_CREATE_ITEMS, "atomic": FLAG_BODY},
)
body_rules(
    "MoneybirdTimeEntryBulkUpdate",
    required=("ids", "time_entry"),
    required_when_partial=True,
    fields={"ids": BULK_IDS, "atomic": FLAG_BODY},
)


class TimeEntryBulkView(BulkView, MoneybirdView):
    """Up to 100 time entries in one request; every item is audited as its single write is."""

    required_scopes = ("time_entries",)

    def bulk_rendered(self, ids: list[int]) -> dict[int, Any]:
        shown = shows_sales_invoices(self.request)
        rows = time_entry_rows(self.administration, ids)
        return {row["id"]: render_time_entry_row(row, sales_invoices=shown) for row in rows}

    def bulk_rolled_back(self, failed: int) -> dict[str, Any]:
        return {
            "error": f"Not written: item {failed} failed and atomic=true asked for all or nothing",
            "symbolic": {"atomic": "rolled_back"},
        }

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        """One item of a bulk create, validated as the body of a single create."""
        data = validate_input(TimeEntryInput, item, context={"time_zone": self.administration.tz})
        if "sales_invoice_id" in data and not shows_sales_invoices(self.request):
            raise ScopeMissing("sales_invoices")
        return data

    @extend_schema(
        operation_id="moneybird_time_entries_bulk_create",
        summary="Create up to 100 time entries",
        description="Each item as the body of a single create; each succeeds or fails on its "
        "own unless atomic=true.",
        parameters=[ATOMIC],
        request=inline_serializer(
            "MoneybirdTimeEntryBulkCreate",
            {
                "time_entries": TimeEntryInput(many=True),
                "atomic": serializers.BooleanField(required=False),
            },
        ),
        responses=moneybird_responses({200: BULK_RESULT}, 400, 404),
    )
    def post(self, request: Request, administration_id: str) -> Response:
        items = validated_items(items_of(request.data, "time_entries"), self.item)
        return self.bulk_write(
            bulk.time_entries_create_bulk,
            [],
            201,
            administration=self.administration,
            actor=request.user,
            items=items,
        )

    @extend_schema(
        operation_id="moneybird_time_entries_bulk_update",
        summary="Change up to 100 time entries alike",
        parameters=[ATOMIC],
        request=inline_serializer(
            "MoneybirdTimeEntryBulkUpdate",
            {
                "ids": serializers.ListField(child=serializers.CharField()),
                "time_entry": TimeEntryInput(),
                "atomic": serializers.BooleanField(required=False),
            },
        ),
        responses=moneybird_responses({200: BULK_RESULT}, 400, 404, 422),
    )
    def patch(self, request: Request, administration_id: str) -> Response:
        ids = given_ids(request.data.get("ids") if isinstance(request.data, dict) else None)
        changes = time_entry_input(self, request, partial=True)
        return self.bulk_write(
            bulk.time_entries_update_bulk,
            ids,
            200,
            administration=self.administration,
            actor=request.user,
            ids=ids,
            changes=changes,
        )

    @extend_schema(
        operation_id="moneybird_time_entries_bulk_destroy",
        summary="Delete up to 100 time entries",
        parameters=[QUERY_IDS, ATOMIC],
        responses=moneybird_responses({200: BULK_RESULT}, 400, 404),
    )
    def delete(self, request: Request, administration_id: str) -> Response:
        ids = query_ids(request)
        return self.bulk_write(
            bulk.time_entries_delete_bulk,
            ids,
            204,
            administration=self.administration,
            actor=request.user,
            ids=ids,
        )


ENTRY_ID_OF_NOTE = id_parameter("time_entry_id", "time entry")


@extend_schema_view(
    post=extend_schema(
        operation_id="moneybird_time_entries_notes_create", parameters=[ENTRY_ID_OF_NOTE]
    )
)
class TimeEntryNoteCreateView(NoteCreateView):
    required_scopes = ("time_entries",)
    entity_kwarg = "time_entry_id"

    def get_entity(self, entity_id: str) -> TimeEntry:
        entry = time_entries_of(self.administration).filter(pk=int(entity_id)).first()
        if entry is None:
            raise NotFound("time_entry_id")
        return entry


@extend_schema_view(
    delete=extend_schema(
        operation_id="moneybird_time_entries_notes_destroy", parameters=[ENTRY_ID_OF_NOTE]
    )
)
class TimeEntryNoteDeleteView(NoteDeleteView):
    required_scopes = ("time_entries",)
    entity_kwarg = "time_entry_id"
    subject_type = TimeEntry.entity_type


urlpatterns = [
    moneybird_path("time_entries", TimeEntryListView, "mb-time-entries"),
    moneybird_path(
        "time_entries/synchronization",
        TimeEntrySynchronizationView,
        "mb-time-entries-synchronization",
    ),
    # Before time_entries/{id}, so that "bulk" is never taken for an id.
    moneybird_path("time_entries/bulk", TimeEntryBulkView, "mb-time-entries-bulk"),
    moneybird_path(rf"time_entries/(?P<pk>{ID})", TimeEntryDetailView, "mb-time-entry"),
    moneybird_path(rf"time_entries/(?P<pk>{ID})/stop", TimeEntryStopView, "mb-time-entry-stop"),
    moneybird_path(
        rf"time_entries/(?P<pk>{ID})/resume", TimeEntryResumeView, "mb-time-entry-resume"
    ),
    moneybird_path(
        rf"time_entries/(?P<time_entry_id>{ID})/notes",
        TimeEntryNoteCreateView,
        "mb-time-entry-notes",
    ),
    moneybird_path(
        rf"time_entries/(?P<time_entry_id>{ID})/notes/(?P<pk>{ID})",
        TimeEntryNoteDeleteView,
        "mb-time-entry-note",
    ),
]
