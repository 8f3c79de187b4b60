"""Moneybird's /api/v2/{administration_id}/projects, over administrations.services."""

import re
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from administrations import services
from administrations.filtersets import PROJECT_STATES, ProjectFilterSet
from administrations.models import Project
from administrations.selectors import project_get, projects_of
from common.api import validate_input
from common.api.moneybird import ID, MoneybirdView, moneybird_path
from common.conditional import IF_MATCH, IF_NONE_MATCH, if_match, record_tag, tagged
from common.exceptions import BadRequest, NotFound
from common.openapi import (
    MONEYBIRD_PAGING,
    NO_CONTENT,
    body_rules,
    id_parameter,
    moneybird_filter,
    moneybird_responses,
    patch_and_put,
)
from common.pagination import Page, bounded_count, page_from_request, paged_response

# "Each page contains 25 projects" (Moneybird), not the time entries' 50.
PER_PAGE = 25


@extend_schema_field(
    {"type": "integer", "minimum": 0, "description": 'Hours; "10" and "10,0" are taken too.'}
)
class BudgetField(serializers.Field):
    """Hours as Moneybird accepts them: a JSON number, a string such as "10", "10.0" or "10,0",
    or null. Whole numbers come out as int; anything else goes on to the service, whose rule
    (a whole, non-negative number of hours) then answers 422."""

    default_error_messages = {"not_a_number": "is not a number"}
    _PATTERN = re.compile(r"-?[0-9]+[,.]?[0-9]*")

    def to_internal_value(self, data: Any) -> int | Decimal:
        if isinstance(data, bool):
            self.fail("not_a_number")
        if isinstance(data, int):
            return data
        if isinstance(data, float):
            number = Decimal(str(data))  # the JSON parser already refused NaN and Infinity
        elif isinstance(data, str) and self._PATTERN.fullmatch(data.strip()):
            number = Decimal(data.strip().replace(",", "."))
        else:
            self.fail("not_a_number")
        return int(number) if number == number.to_integral_value() else number

    def to_representation(self, value: int) -> int:
        return value


@extend_schema_serializer(component_name="MoneybirdProjectInput")
class ProjectInput(serializers.Serializer):
    # Blank and null names are the service's "can't be blank", as Moneybird reports them. Keys
    # other than these two are ignored, as Moneybird's permitted parameters drop them.
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        trim_whitespace=False,
        error_messages={"invalid": "is not a string"},
    )
    budget = BudgetField(required=False, allow_null=True)


class ProjectNotFound(APIException):
    """GET of an unknown project: Moneybird answers this one without a "symbolic" part, unlike
    its PATCH and DELETE, so the exception handler's generic branch renders {"error": ...}."""

    status_code = 404
    default_detail = "Record not found for model name: Project"
    default_code = "not_found"


# What render_project answers, for the OpenAPI schema only (common/openapi.py).
@extend_schema_serializer(component_name="MoneybirdProject")
class ProjectOutput(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    state = serializers.ChoiceField(choices=Project.State.choices)
    budget = serializers.IntegerField(allow_null=True, help_text="hours")


@extend_schema_serializer(component_name="MoneybirdProjectCreateInput")
class ProjectCreateInput(ProjectInput):
    """ProjectInput as a create takes it; body_rules below say what a create needs."""


PROJECT_BODY = inline_serializer("MoneybirdProjectWrite", {"project": ProjectInput()})
PROJECT_CREATE_BODY = inline_serializer("MoneybirdProjectCreate", {"project": ProjectCreateInput()})
# What the services and `MoneybirdView.body` enforce (common.openapi.body_rules).
body_rules("MoneybirdProjectWrite", required=("project",), required_when_partial=True)
body_rules("MoneybirdProjectCreate", required=("project",))
_PROJECT_RULES: dict[str, Any] = {
    "not_blank": ("name",),
    "fields": {
        "name": {"maxLength": services.PROJECT_NAME_MAX},
        "budget": {"maximum": services.PROJECT_BUDGET_MAX},
    },
}
body_rules("MoneybirdProjectInput", **_PROJECT_RULES)
body_rules("MoneybirdProjectCreateInput", required=("name",), **_PROJECT_RULES)


def render_project(project: Project) -> dict[str, Any]:
    return {
        "id": str(project.pk),
        "name": project.name,
        "state": project.state,
        "budget": project.budget,
    }


def _page(request: Request) -> Page:
    """page/per_page as for every list, except that the projects list names a page below 1 as
    Moneybird's example does: "Page is too small", symbolic "min"."""
    try:
        return page_from_request(request, default_size=PER_PAGE)
    except BadRequest as exc:
        raw = (request.query_params.get("page") or "").strip()
        if exc.field == "page" and re.fullmatch(r"-?\d{1,19}", raw) and int(raw) < 1:
            raise BadRequest("Page is too small", field="page", code="min") from None
        raise


_STATE = "(?:" + "|".join(PROJECT_STATES) + ")"


class ProjectListView(MoneybirdView):
    required_scopes = ("settings",)

    @extend_schema(
        operation_id="moneybird_projects_list",
        summary="List projects",
        parameters=[
            moneybird_filter(
                "Key: state (active, archived, all; default active).",
                pattern=rf"^(?:state:{_STATE}(?:\|{_STATE})*)?$",
            ),
            *MONEYBIRD_PAGING,
        ],
        responses=moneybird_responses({200: ProjectOutput(many=True)}, 400, 404),
    )
    def get(self, request: Request, administration_id: str) -> Response:
        page = _page(request)
        filterset = ProjectFilterSet.from_string(
            request.query_params.get("filter"),
            queryset=projects_of(self.administration),
            administration=self.administration,
            today=timezone.now().astimezone(self.administration.tz).date(),
        )
        queryset = filterset.qs.order_by("name", "id")
        total = bounded_count(queryset, page)
        projects = queryset[page.offset : page.offset + page.size]
        return paged_response(request, page, [render_project(p) for p in projects], total=total)

    @extend_schema(
        operation_id="moneybird_projects_create",
        summary="Create a project",
        request=PROJECT_CREATE_BODY,
        responses=moneybird_responses({201: ProjectOutput}, 400, 404, 422),
    )
    def post(self, request: Request, administration_id: str) -> Response:
        data = validate_input(ProjectInput, self.body(request, "project"))
        project = services.project_create(
            administration=self.administration,
            actor=request.user,
            name=data.pop("name", None),
            **data,
        )
        return Response(render_project(project), status=201)


@extend_schema(parameters=[id_parameter("id", "project")])
class ProjectDetailView(MoneybirdView):
    required_scopes = ("settings",)

    @extend_schema(
        operation_id="moneybird_projects_retrieve",
        summary="Get a project",
        parameters=[IF_NONE_MATCH],
        responses=moneybird_responses({200: ProjectOutput, 304: NO_CONTENT}, 404),
    )
    def get(self, request: Request, administration_id: str, pk: str) -> Response:
        try:
            project = project_get(self.administration, pk)
        except NotFound:
            raise ProjectNotFound from None
        return tagged(request, Response(render_project(project)), record_tag(project))

    @patch_and_put(
        "moneybird_projects_update",
        summary="Update a project",
        parameters=[IF_MATCH],
        request=PROJECT_BODY,
        responses=moneybird_responses({200: ProjectOutput}, 400, 404, 412, 422),
    )
    def patch(self, request: Request, administration_id: str, pk: str) -> Response:
        project = project_get(self.administration, pk)
        changes = validate_input(ProjectInput, self.body(request, "project"), partial=True)
        project = services.project_update(
            project=project, actor=request.user, changes=changes, precondition=if_match(request)
        )
        return tagged(request, Response(render_project(project)), record_tag(project))

    put = patch

    @extend_schema(
        operation_id="moneybird_projects_destroy",
        summary="Delete a project",
        description="A project that time entries use is archived instead; 204 either way.",
        parameters=[IF_MATCH],
        responses=moneybird_responses({204: NO_CONTENT}, 404, 412),
    )
    def delete(self, request: Request, administration_id: str, pk: str) -> Response:
        # Deleted, or archived when time entries use it; Moneybird answers 204 either way.
        services.project_delete(
            project=project_get(self.administration, pk),
            actor=request.user,
            precondition=if_match(request),
        )
        return Response(status=204)


urlpatterns = [
    moneybird_path("projects", ProjectListView, "mb-projects"),
    moneybird_path(rf"projects/(?P<pk>{ID})", ProjectDetailView, "mb-project"),
]
