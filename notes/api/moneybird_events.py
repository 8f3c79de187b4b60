"""Moneybird's change feed, GET /api/v2/{administration_id}/events: every change to the
administration's records in commit order, each with the record as a GET of it answers now (null
once it is destroyed), paged by an opaque `after` cursor (see notes.feed)."""

import re
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlencode

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from administrations.models import Administration
from common.api.moneybird import MoneybirdView, moneybird_path
from common.auth import token_scopes
from common.exceptions import BadRequest, ScopeMissing
from common.ids import render_id
from common.openapi import (
    ACTION_NAME,
    FEED_CURSOR,
    comma_separated,
    moneybird_responses,
    whole_number,
)
from common.pagination import MAX_PER_PAGE, page_from_request
from common.timefmt import iso_utc
from notes.entities import entity_renderings
from notes.feed import (
    MONEYBIRD_ENTITY_SCOPES,
    Position,
    feed_events,
    visible_entity_types,
)
from notes.models import Event

_ACTION = re.compile(ACTION_NAME)


def _names(request: Request, name: str) -> list[str] | None:
    """A comma-separated list parameter (repeating it adds to the list); None when absent."""
    values = [v for raw in request.query_params.getlist(name) for v in raw.split(",")]
    values = [v.strip() for v in values if v.strip()]
    return values or None


def wanted_entity_types(
    request: Request, table: Mapping[str, tuple[str, ...]], *, field: str = "entity_type"
) -> set[str]:
    """The kinds of record to serve: those named in `entity_type` (all by default) that the
    credential may see. Unasked, the kinds it may not see are left out; asked for by name, they
    are a missing scope, so that a client is not left waiting for events it will never get."""
    scopes = token_scopes(getattr(request, "auth", None))
    visible = visible_entity_types(scopes, table)
    named = _names(request, field)
    if named is None:
        return visible
    for kind in named:
        if kind not in table:
            raise BadRequest(f"{field} does not have a valid value", field=field, code="invalid")
        if kind not in visible:
            raise ScopeMissing(table[kind][0])
    return set(named)


def wanted_actions(request: Request, *, field: str = "action") -> list[str] | None:
    actions = _names(request, field)
    if actions is not None and not all(_ACTION.fullmatch(a) for a in actions):
        raise BadRequest(f"{field} does not have a valid value", field=field, code="invalid")
    return actions


def event_data(event: Event) -> dict[str, Any]:
    """The event's data as the record's own `events` list shows it."""
    data = event.data or {}
    if event.subject_type == "Contact" and event.action == "contact_changed":
        # As administrations.api.moneybird.contacts.render_contact_event nests it.
        return {"changes": data}
    return data


def entities_for(
    request: Request,
    administration: Administration,
    events: Collection[Event],
    *,
    sales_invoices: bool,
) -> dict[tuple[str, int], dict[str, Any]]:
    """The current Moneybird rendering of each event's record, one query per kind of record.
    A time entry leaves out its invoice for a token without sales_invoices, as its GET does."""
    if not events:
        return {}
    rendered = entity_renderings(
        administration,
        {(e.subject_type, e.entity_id) for e in events},
        base_url=request.build_absolute_uri("/").rstrip("/"),
    )
    if not sales_invoices:
        for (kind, _), body in rendered.items():
            if kind == "TimeEntry":
                body.pop("sales_invoice", None)
    return rendered


def render_feed_item(event: Event, entity: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": str(event.pk),
        "administration_id": str(event.administration_id),
        "entity_type": event.subject_type,
        "entity_id": str(event.entity_id),
        "action": event.action,
        "user_id": render_id(event.user_id),
        "data": event_data(event),
        "created_at": iso_utc(event.created_at),
        "entity": entity,
    }


def next_link(request: Request, position: Position, *, cursor: str, size: dict[str, int]) -> str:
    """The URL of the page after `position`, keeping every other query parameter."""
    params = request.query_params.copy()
    params[cursor] = position.encode()
    for name, value in size.items():
        params[name] = str(value)
    base = request.build_absolute_uri(request.path)
    return f"{base}?{urlencode(sorted(params.lists()), doseq=True)}"


# What render_feed_item answers, for the OpenAPI schema only (common/openapi.py).
@extend_schema_serializer(component_name="MoneybirdFeedEvent")
class FeedEventOutput(serializers.Serializer):
    id = serializers.CharField()
    administration_id = serializers.CharField()
    entity_type = serializers.CharField(help_text="TimeEntry, Contact, Project, User, ...")
    entity_id = serializers.CharField()
    action = serializers.CharField(help_text="e.g. time_entry_created, time_entry_destroyed")
    user_id = serializers.CharField(allow_null=True, help_text="Who made the change")
    data = serializers.DictField(help_text="What changed, as the record's own events show it")
    created_at = serializers.DateTimeField()
    entity = serializers.DictField(
        allow_null=True,
        help_text="The record as a GET of it answers now; null once it is destroyed (and for "
        "kinds with no GET here, such as sales invoices).",
    )


class EventFeedView(MoneybirdView):
    # Each kind of record needs its own scope (notes.feed.MONEYBIRD_ENTITY_SCOPES); the
    # administration's own events need none, so any credential of it may read the feed.
    required_scopes = ()

    @extend_schema(
        operation_id="moneybird_events_list",
        summary="The change feed: every change, in commit order",
        parameters=[
            OpenApiParameter(
                "after",
                FEED_CURSOR,
                description="Where the previous page ended: the opaque cursor in its Link "
                'rel="next". Without it, the feed starts at the first event.',
            ),
            OpenApiParameter(
                "per_page",
                whole_number(1, MAX_PER_PAGE),
                description=f"Events per page, at most {MAX_PER_PAGE}.",
            ),
            OpenApiParameter(
                "entity_type",
                {
                    "type": "string",
                    "pattern": comma_separated("|".join(sorted(MONEYBIRD_ENTITY_SCOPES))),
                },
                description="Only these kinds of record, comma-separated (TimeEntry, Contact, "
                "Project, User, Administration, SalesInvoice). A kind the credential has no "
                "scope for is a 401 when named; unnamed, its events are left out.",
            ),
            OpenApiParameter(
                "action",
                {"type": "string", "pattern": comma_separated(ACTION_NAME)},
                description="Only these actions, comma-separated.",
            ),
            OpenApiParameter(
                "Link",
                str,
                OpenApiParameter.HEADER,
                response=[200],
                description='rel="next": the page after this one, on every page with events. '
                "A page without events has none: the client is up to date, and asks the same "
                "URL again later.",
            ),
        ],
        responses=moneybird_responses({200: FeedEventOutput(many=True)}, 400, 404),
    )
    def get(self, request: Request, administration_id: str) -> Response:
        """The administration's events, oldest first, each with its record as it is now. An
        event is served once its transaction and every transaction that began writing before
        it have ended, so a page never skips one that commits late; the `*_destroyed` event of
        a record is its tombstone."""
        if "page" in request.query_params:
            raise BadRequest(
                'The events feed pages with after=; follow the Link header\'s rel="next"',
                field="page",
                code="invalid",
            )
        size = page_from_request(request).size
        raw = request.query_params.get("after")
        try:
            after = Position.decode(raw) if raw else None
        except ValueError:
            raise BadRequest("after does not have a valid value", field="after") from None
        events = feed_events(
            self.administration,
            after=after,
            limit=size,
            entity_types=wanted_entity_types(request, MONEYBIRD_ENTITY_SCOPES),
            actions=wanted_actions(request),
        )
        scopes = token_scopes(request.auth)
        entities = entities_for(
            request, self.administration, events, sales_invoices="sales_invoices" in scopes
        )
        response = Response(
            [render_feed_item(e, entities.get((e.subject_type, e.entity_id))) for e in events]
        )
        if events:
            link = next_link(
                request, Position.of(events[-1]), cursor="after", size={"per_page": size}
            )
            response["Link"] = f'<{link}>; rel="next"'
        return response


urlpatterns = [
    moneybird_path("events", EventFeedView, "mb-events"),
]
