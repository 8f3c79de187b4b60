"""Expensicat's change feed, GET /api/v1/events: the same events as Moneybird's
/api/v2/{administration_id}/events (notes.feed), in this dialect's envelope, cursor, names and
renderings."""

from collections.abc import Collection
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from administrations.models import Administration, Contact, Membership, Project
from common.api.expensicat import ExpensicatView, expensicat_path
from common.exceptions import BadRequest
from common.ids import render_id
from common.openapi import (
    ACTION_NAME,
    FEED_CURSOR,
    comma_separated,
    expensicat_page,
    expensicat_responses,
    whole_number,
)
from common.pagination import CURSOR_LIMIT_DEFAULT, CURSOR_LIMIT_MAX
from common.timefmt import iso_utc
from notes.api.moneybird_events import event_data, wanted_actions, wanted_entity_types
from notes.feed import EXPENSICAT_ENTITY_SCOPES, Position, feed_events
from notes.models import Event

# This dialect's name for each kind of record (its resources: /customers are contacts,
# /members users, /organizations administrations).
ENTITY_NAMES = {
    "TimeEntry": "time_entry",
    "Project": "project",
    "Contact": "customer",
    "User": "member",
    "Administration": "organization",
    "SalesInvoice": "invoice",
    "Webhook": "webhook",
}
KINDS = {name: kind for kind, name in ENTITY_NAMES.items()}
SCOPES_BY_NAME = {ENTITY_NAMES[kind]: scopes for kind, scopes in EXPENSICAT_ENTITY_SCOPES.items()}


def _time_entries(administration: Administration, ids: set[int], role: str | None) -> dict:
    from timeentries.api.expensicat import render_time_entry, with_related
    from timeentries.selectors import time_entries_of

    now = timezone.now()
    entries = with_related(time_entries_of(administration).filter(pk__in=ids).order_by())
    return {entry.pk: render_time_entry(entry, now=now) for entry in entries}


def _projects(administration: Administration, ids: set[int], role: str | None) -> dict:
    from administrations.api.expensicat import render_project

    projects = Project.objects.for_administration(administration).filter(pk__in=ids)
    return {p.pk: render_project(p) for p in projects.select_related("contact").order_by()}


def _customers(administration: Administration, ids: set[int], role: str | None) -> dict:
    from administrations.api.expensicat import render_customer

    contacts = Contact.objects.for_administration(administration).filter(pk__in=ids).order_by()
    return {contact.pk: render_customer(contact) for contact in contacts}


def _members(administration: Administration, ids: set[int], role: str | None) -> dict:
    from administrations.api.expensicat import render_member

    memberships = Membership.objects.for_administration(administration).filter(user_id__in=ids)
    return {m.user_id: render_member(m) for m in memberships.select_related("user").order_by()}


def _organizations(administration: Administration, ids: set[int], role: str | None) -> dict:
    from administrations.api.expensicat import render_organization

    if administration.pk not in ids:
        return {}
    return {administration.pk: render_organization(administration, role=role)}


_RENDERERS = {
    "TimeEntry": _time_entries,
    "Project": _projects,
    "Contact": _customers,
    "User": _members,
    "Administration": _organizations,
}


def entity_renderings(
    administration: Administration, events: Collection[Event], *, role: str | None
) -> dict[tuple[str, int], dict[str, Any]]:
    """Each event's record as this dialect's GET of it answers now, one query per kind of
    record; records that are gone (or of a kind with no GET here) are absent."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        wanted.setdefault(event.subject_type, set()).add(event.entity_id)
    rendered: dict[tuple[str, int], dict[str, Any]] = {}
    for kind, ids in wanted.items():
        renderer = _RENDERERS.get(kind)
        if renderer is not None:
            for pk, body in renderer(administration, ids, role).items():
                rendered[(kind, pk)] = body
    return rendered


def render_feed_item(event: Event, entity: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": str(event.pk),
        "organization_id": str(event.administration_id),
        "entity_type": ENTITY_NAMES[event.subject_type],
        "entity_id": str(event.entity_id),
        "action": event.action,
        "user_id": render_id(event.user_id),
        "data": event_data(event),
        "created_at": iso_utc(event.created_at),
        "entity": entity,
    }


# What render_feed_item answers, for the OpenAPI schema only (common/openapi.py).
@extend_schema_serializer(component_name="ExpensicatEvent")
class EventOutput(serializers.Serializer):
    id = serializers.CharField()
    organization_id = serializers.CharField()
    entity_type = serializers.ChoiceField(choices=sorted(KINDS))
    entity_id = serializers.CharField()
    action = serializers.CharField(help_text="e.g. time_entry_created, time_entry_destroyed")
    user_id = serializers.CharField(allow_null=True, help_text="Who made the change")
    data = serializers.DictField(help_text="What changed")
    created_at = serializers.DateTimeField()
    entity = serializers.DictField(
        allow_null=True,
        help_text="The record as GET /v1/<its resource>/{id} answers now; null once it is "
        "deleted (and for kinds with no resource here, such as invoices).",
    )


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return CURSOR_LIMIT_DEFAULT
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= CURSOR_LIMIT_MAX:
        return int(raw)
    raise BadRequest(f"limit must be a whole number from 1 to {CURSOR_LIMIT_MAX}", field="limit")


class EventFeedView(ExpensicatView):
    # Each kind of record needs its own scope (notes.feed.EXPENSICAT_ENTITY_SCOPES).
    read_scopes = write_scopes = ()

    @extend_schema(
        operation_id="expensicat_events_list",
        summary="The change feed: every change, in commit order",
        description="Oldest first; owners and admins only (it shows everyone's changes). A "
        "page with events has meta.next_cursor; a page without has null: you are up to date, "
        "ask again later with the same cursor. Deleted records appear as a `*_destroyed` event "
        "whose entity is null.",
        parameters=[
            OpenApiParameter(
                "cursor",
                FEED_CURSOR,
                description="`meta.next_cursor` of the previous page; opaque. Without it, the "
                "feed starts at the first event.",
            ),
            OpenApiParameter(
                "limit",
                whole_number(1, CURSOR_LIMIT_MAX),
                description=f"Events per page, 1 to {CURSOR_LIMIT_MAX} "
                f"(default {CURSOR_LIMIT_DEFAULT}).",
            ),
            OpenApiParameter(
                "entity_type",
                {"type": "string", "pattern": comma_separated("|".join(sorted(KINDS)))},
                description="Only these kinds of record, comma-separated ("
                + ", ".join(sorted(KINDS))
                + "). A kind the credential has no scope for is a 403 when named; unnamed, "
                "its events are left out.",
            ),
            OpenApiParameter(
                "action",
                {"type": "string", "pattern": comma_separated(ACTION_NAME)},
                description="Only these actions, comma-separated.",
            ),
        ],
        responses=expensicat_responses({200: expensicat_page("ExpensicatEvent", EventOutput)}),
    )
    def get(self, request: Request) -> Response:
        if not self.sees_everyone:
            raise PermissionDenied("Only owners and admins may read the organization's changes")
        limit = _limit(request)
        raw = request.query_params.get("cursor")
        try:
            after = Position.decode(raw) if raw else None
        except ValueError:
            raise BadRequest("cursor is invalid", field="cursor") from None
        names = wanted_entity_types(request, SCOPES_BY_NAME)
        events = feed_events(
            self.administration,
            after=after,
            limit=limit,
            entity_types={KINDS[name] for name in names},
            actions=wanted_actions(request),
        )
        entities = entity_renderings(self.administration, events, role=self.role)
        items = [render_feed_item(e, entities.get((e.subject_type, e.entity_id))) for e in events]
        return self.page(items, Position.of(events[-1]).encode() if events else None)


urlpatterns = [
    expensicat_path("events", EventFeedView, "ec-events"),
]
