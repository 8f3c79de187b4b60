"""Notes on any entity, Moneybird style: POST .../{entity}/{id}/notes, DELETE .../notes/{id}.
Each resource subclasses the two views and says how to find its entity."""

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import IdField, validate_input
from common.api.moneybird import MoneybirdView
from common.exceptions import NotFound
from common.ids import render_id
from common.limits import DESCRIPTION_MAX_LENGTH, too_long_message
from common.openapi import NO_CONTENT, body_rules, id_parameter, moneybird_responses
from common.timefmt import from_db, iso_utc, iso_utc_from_db
from notes import services
from notes.models import Note


@extend_schema_serializer(component_name="MoneybirdNoteInput")
class NoteInput(serializers.Serializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=DESCRIPTION_MAX_LENGTH,
        error_messages={"max_length": too_long_message(DESCRIPTION_MAX_LENGTH)},
    )
    todo = serializers.BooleanField(required=False)
    assignee_id = IdField(required=False, allow_null=True)


# What render_note answers, for the OpenAPI schema only (common/openapi.py).
@extend_schema_serializer(component_name="MoneybirdNote")
class NoteOutput(serializers.Serializer):
    id = serializers.CharField()
    administration_id = serializers.CharField()
    entity_id = serializers.CharField(allow_null=True)
    entity_type = serializers.CharField(help_text="TimeEntry, Contact, ...")
    user_id = serializers.CharField(allow_null=True)
    assignee_id = serializers.CharField(allow_null=True)
    todo = serializers.BooleanField()
    note = serializers.CharField()
    completed_at = serializers.DateTimeField(allow_null=True)
    completed_by_id = serializers.CharField(allow_null=True)
    todo_type = serializers.CharField(allow_null=True)
    data = serializers.DictField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


NOTE_BODY = inline_serializer("MoneybirdNoteWrite", {"note": NoteInput()})
# What notes.services.note_create and `MoneybirdView.body` enforce (common.openapi.body_rules).
body_rules("MoneybirdNoteWrite", required=("note",), required_when_partial=True)
body_rules("MoneybirdNoteInput", required=("note",), not_blank=("note",))


def render_note(note: dict[str, Any]) -> dict[str, Any]:
    """A note from a row dict (list queries aggregate notes as JSON) as Moneybird renders it."""
    return {
        "id": str(note["id"]),
        "administration_id": str(note["administration_id"]),
        "entity_id": render_id(note["entity_id"]),
        "entity_type": note["entity_type"],
        "user_id": render_id(note["user_id"]),
        "assignee_id": render_id(note["assignee_id"]),
        "todo": bool(note["todo"]),
        "note": note["note"],
        "completed_at": iso_utc(from_db(note["completed_at"])) if note["completed_at"] else None,
        "completed_by_id": render_id(note["completed_by_id"]),
        "todo_type": note["todo_type"],
        "data": note["data"] or {},
        "created_at": iso_utc(from_db(note["created_at"])),
        "updated_at": iso_utc(from_db(note["updated_at"])),
    }


@extend_schema_serializer(component_name="MoneybirdEvent")
class EventOutput(serializers.Serializer):
    administration_id = serializers.CharField()
    user_id = serializers.CharField(allow_null=True)
    action = serializers.CharField(help_text="e.g. time_entry_created")
    link_entity_id = serializers.CharField(allow_null=True)
    link_entity_type = serializers.CharField(allow_null=True)
    data = serializers.DictField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def render_event(event: dict[str, Any]) -> dict[str, Any]:
    created = iso_utc_from_db(event["created_at"])
    return {
        "administration_id": str(event["administration_id"]),
        "user_id": render_id(event["user_id"]),
        "action": event["action"],
        "link_entity_id": render_id(event["link_entity_id"]),
        "link_entity_type": event["link_entity_type"],
        "data": event["data"] or {},
        "created_at": created,
        # Events are append-only: they are never updated after they are made.
        "updated_at": created,
    }


def note_as_row(note: Note) -> dict[str, Any]:
    fields = ("id", "administration_id", "entity_id", "user_id", "assignee_id", "todo", "note")
    row = {f: getattr(note, f) for f in fields}
    row.update(
        entity_type=note.subject_type,
        completed_at=note.completed_at,
        completed_by_id=note.completed_by_id,
        todo_type=note.todo_type,
        data=note.data,
        created_at=note.created_at,
        updated_at=note.updated_at,
    )
    return row


class NoteCreateView(MoneybirdView):
    entity_kwarg: str

    def get_entity(self, entity_id: str) -> models.Model:
        raise NotImplementedError

    @extend_schema(
        summary="Add a note or to-do",
        request=NOTE_BODY,
        responses=moneybird_responses({201: NoteOutput}, 400, 404, 422),
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        entity = self.get_entity(kwargs[self.entity_kwarg])
        data = validate_input(NoteInput, self.body(request, "note"))
        note = services.note_create(
            administration=self.administration,
            actor=request.user,
            entity=entity,
            note=data.get("note"),
            todo=data.get("todo", False),
            assignee_id=data.get("assignee_id"),
        )
        return Response(render_note(note_as_row(note)), status=201)


class NoteDeleteView(MoneybirdView):
    entity_kwarg: str
    subject_type: str

    @extend_schema(
        summary="Delete a note",
        parameters=[id_parameter("id", "note")],
        responses=moneybird_responses({204: NO_CONTENT}, 404),
    )
    def delete(self, request: Request, **kwargs: Any) -> Response:
        note = Note.objects.filter(
            administration=self.administration,
            subject_type=self.subject_type,
            entity_id=int(kwargs[self.entity_kwarg]),
            pk=int(kwargs["pk"]),
        ).first()
        if note is None:
            raise NotFound("id")
        services.note_delete(note=note, actor=request.user)
        return Response(status=204)
