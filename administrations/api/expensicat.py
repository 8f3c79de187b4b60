"""Expensicat's /api/v1 projects, customers (our contacts), organizations/current and members,
over administrations.services and the tenant-scoped selectors."""

from typing import Any

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from administrations import services
from administrations.models import Administration, Contact, Membership, Project
from administrations.selectors import contact_get, project_get
from common.api import IdField, validate_input
from common.api.expensicat import ID, ExpensicatView, expensicat_path, fields_renamed
from common.conditional import IF_MATCH, IF_NONE_MATCH, if_match, record_tag, tagged
from common.ids import render_id
from common.openapi import (
    EXPENSICAT_PAGING,
    NO_CONTENT,
    body_rules,
    expensicat_data,
    expensicat_page,
    expensicat_responses,
    id_parameter,
)
from common.pagination import Keyset
from common.timefmt import iso_utc

PROJECT_KEYSET = Keyset(Project, "id")
CUSTOMER_KEYSET = Keyset(Contact, "id")
MEMBER_KEYSET = Keyset(Membership, "id")


# --- projects ----------------------------------------------------------------------------------

# Expensicat's project fields as the services name them, and back (for error details).
PROJECT_SERVICE_NAMES = {"customer_id": "contact_id", "archived": "state"}
PROJECT_FIELD_NAMES = {v: k for k, v in PROJECT_SERVICE_NAMES.items()}


# What the services enforce (common.openapi.body_rules): a name with some text, a currency of
# three letters (any case, around spaces).
body_rules(
    "ExpensicatProjectInput",
    not_blank=("name",),
    fields={"currency": {"oneOf": [{"type": "string", "pattern": r"^\s*[A-Za-z]{3}\s*$"}]}},
)
body_rules("ExpensicatCustomerCreateInput", not_blank=("name",))
body_rules("ExpensicatCustomerUpdateInput", not_blank=("name",))


@extend_schema_serializer(component_name="ExpensicatProjectInput")
class ProjectInput(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    customer_id = IdField(required=False, allow_null=True)
    hourly_rate = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    currency = serializers.CharField(required=False, max_length=3)
    archived = serializers.BooleanField(required=False)


def _project_changes(data: dict[str, Any]) -> dict[str, Any]:
    changes = {PROJECT_SERVICE_NAMES.get(k, k): v for k, v in data.items()}
    if "state" in changes:
        archived = changes.pop("state")
        changes["state"] = Project.State.ARCHIVED if archived else Project.State.ACTIVE
    return changes


def render_project(project: Project) -> dict[str, Any]:
    customer = project.contact
    return {
        "id": str(project.pk),
        "organization_id": str(project.administration_id),
        "name": project.name,
        "customer_id": render_id(project.contact_id),
        # A string here, as the document types it; a number inside a time entry.
        "hourly_rate": None if project.hourly_rate is None else str(project.hourly_rate),
        "currency": project.currency,
        "archived": project.state == Project.State.ARCHIVED,
        "created_at": iso_utc(project.created_at),
        "updated_at": iso_utc(project.updated_at),
        "customer": None
        if customer is None
        else {"id": str(customer.pk), "name": customer.display_name},
    }


# What render_project answers, for the OpenAPI schema only (common/openapi.py).
@extend_schema_serializer(component_name="ExpensicatProject")
class ProjectOutput(serializers.Serializer):
    id = serializers.CharField()
    organization_id = serializers.CharField()
    name = serializers.CharField()
    customer_id = serializers.CharField(allow_null=True)
    hourly_rate = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    archived = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    customer = inline_serializer(
        "ExpensicatProjectCustomer",
        {"id": serializers.CharField(), "name": serializers.CharField()},
        allow_null=True,
    )


PROJECT_DATA = expensicat_data("ExpensicatProject", ProjectOutput)
PROJECT_PAGE = expensicat_page("ExpensicatProject", ProjectOutput)


def _project(administration: Administration, pk: int | str) -> Project:
    project = project_get(administration, pk)
    # Joined for the rendering; project_get has already proved it is this organization's.
    return Project.objects.select_related("contact").get(pk=project.pk)


class ProjectListView(ExpensicatView):
    read_scopes = ("entries:read",)
    write_scopes = ("entries:write",)

    @extend_schema(
        operation_id="expensicat_projects_list",
        summary="List projects",
        parameters=EXPENSICAT_PAGING,
        responses=expensicat_responses({200: PROJECT_PAGE}),
    )
    def get(self, request: Request) -> Response:
        page = PROJECT_KEYSET.page_from_request(request)
        queryset = Project.objects.for_administration(self.administration)
        projects, next_cursor = PROJECT_KEYSET.paginate(queryset.select_related("contact"), page)
        return self.page([render_project(p) for p in projects], next_cursor)

    @extend_schema(
        operation_id="expensicat_projects_create",
        summary="Create a project",
        request=ProjectInput,
        responses=expensicat_responses({201: PROJECT_DATA}, 422),
    )
    def post(self, request: Request) -> Response:
        with fields_renamed(PROJECT_FIELD_NAMES):
            data = validate_input(ProjectInput, self.body(request))
            changes = _project_changes(data)
            project = services.project_create(
                administration=self.administration,
                actor=request.user,
                name=changes.pop("name"),
                **changes,
            )
        return self.data(render_project(_project(self.administration, project.pk)), status=201)


@extend_schema(parameters=[id_parameter("id", "project")])
class ProjectDetailView(ExpensicatView):
    read_scopes = ("entries:read",)
    write_scopes = ("entries:write",)

    @extend_schema(
        operation_id="expensicat_projects_retrieve",
        summary="Get a project",
        parameters=[IF_NONE_MATCH],
        responses=expensicat_responses({200: PROJECT_DATA, 304: NO_CONTENT}),
    )
    def get(self, request: Request, pk: str) -> Response:
        project = _project(self.administration, pk)
        return tagged(request, self.data(render_project(project)), record_tag(project))

    @extend_schema(
        operation_id="expensicat_projects_update",
        summary="Update a project",
        parameters=[IF_MATCH],
        request=ProjectInput,
        responses=expensicat_responses({200: PROJECT_DATA}, 412, 422),
    )
    def patch(self, request: Request, pk: str) -> Response:
        project = project_get(self.administration, pk)
        with fields_renamed(PROJECT_FIELD_NAMES):
            data = validate_input(ProjectInput, self.body(request), partial=True)
            services.project_update(
                project=project,
                actor=request.user,
                changes=_project_changes(data),
                precondition=if_match(request),
            )
        project = _project(self.administration, pk)
        return tagged(request, self.data(render_project(project)), record_tag(project))

    @extend_schema(
        operation_id="expensicat_projects_destroy",
        summary="Delete (or archive) a project",
        responses=expensicat_responses(
            {
                200: OpenApiResponse(PROJECT_DATA, description="Archived: time entries use it."),
                204: NO_CONTENT,
            },
            412,
        ),
        parameters=[IF_MATCH],
    )
    def delete(self, request: Request, pk: str) -> Response:
        """204 when the project is gone; a project that time entries still use is archived
        instead (the services' rule), and answered with its archived state."""
        project = project_get(self.administration, pk)
        archived = services.project_delete(
            project=project, actor=request.user, precondition=if_match(request)
        )
        if archived is None:
            return Response(status=204)
        return self.data(render_project(_project(self.administration, pk)))


# --- customers ---------------------------------------------------------------------------------

# Expensicat's single customer name is the contact's company name.
CUSTOMER_SERVICE_NAMES = {"name": "company_name"}
CUSTOMER_FIELD_NAMES = {"company_name": "name"}


@extend_schema_serializer(component_name="ExpensicatCustomerCreateInput")
class CustomerCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True)
    phone = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=64)


@extend_schema_serializer(component_name="ExpensicatCustomerUpdateInput")
class CustomerUpdateInput(CustomerCreateInput):
    archived = serializers.BooleanField(required=False)


# What render_customer answers, for the OpenAPI schema only (common/openapi.py).
@extend_schema_serializer(component_name="ExpensicatCustomer")
class CustomerOutput(serializers.Serializer):
    id = serializers.CharField()
    organization_id = serializers.CharField()
    name = serializers.CharField()
    email = serializers.EmailField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    archived = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


CUSTOMER_DATA = expensicat_data("ExpensicatCustomer", CustomerOutput)
CUSTOMER_PAGE = expensicat_page("ExpensicatCustomer", CustomerOutput)


def render_customer(contact: Contact) -> dict[str, Any]:
    return {
        "id": str(contact.pk),
        "organization_id": str(contact.administration_id),
        "name": contact.display_name,
        "email": contact.email or None,
        "phone": contact.phone or None,
        "archived": contact.archived,
        "created_at": iso_utc(contact.created_at),
        "updated_at": iso_utc(contact.updated_at),
    }


def _customer_changes(data: dict[str, Any]) -> dict[str, Any]:
    return {CUSTOMER_SERVICE_NAMES.get(k, k): v for k, v in data.items()}


# Expensicat's invoices scopes cover "invoices, customers, recurring invoices".
SCOPE_READ = "Needs the `invoices:read` scope (or `invoices:write`)."
SCOPE_WRITE = "Needs the `invoices:write` scope."


class CustomerListView(ExpensicatView):
    read_scopes = ("invoices:read",)
    write_scopes = ("invoices:write",)

    @extend_schema(
        operation_id="expensicat_customers_list",
        description=SCOPE_READ,
        summary="List customers",
        parameters=EXPENSICAT_PAGING,
        responses=expensicat_responses({200: CUSTOMER_PAGE}),
    )
    def get(self, request: Request) -> Response:
        page = CUSTOMER_KEYSET.page_from_request(request)
        queryset = Contact.objects.for_administration(self.administration)
        contacts, next_cursor = CUSTOMER_KEYSET.paginate(queryset, page)
        return self.page([render_customer(c) for c in contacts], next_cursor)

    @extend_schema(
        operation_id="expensicat_customers_create",
        description=SCOPE_WRITE,
        summary="Create a customer",
        request=CustomerCreateInput,
        responses=expensicat_responses({201: CUSTOMER_DATA}, 422),
    )
    def post(self, request: Request) -> Response:
        with fields_renamed(CUSTOMER_FIELD_NAMES):
            data = validate_input(CustomerCreateInput, self.body(request))
            contact = services.contact_create(
                administration=self.administration, actor=request.user, **_customer_changes(data)
            )
        return self.data(render_customer(contact), status=201)


@extend_schema(parameters=[id_parameter("id", "customer")])
class CustomerDetailView(ExpensicatView):
    read_scopes = ("invoices:read",)
    write_scopes = ("invoices:write",)

    @extend_schema(
        operation_id="expensicat_customers_retrieve",
        description=SCOPE_READ,
        summary="Get a customer",
        parameters=[IF_NONE_MATCH],
        responses=expensicat_responses({200: CUSTOMER_DATA, 304: NO_CONTENT}),
    )
    def get(self, request: Request, pk: str) -> Response:
        contact = contact_get(self.administration, pk)
        return tagged(request, self.data(render_customer(contact)), record_tag(contact))

    @extend_schema(
        operation_id="expensicat_customers_update",
        description=SCOPE_WRITE,
        summary="Update a customer",
        parameters=[IF_MATCH],
        request=CustomerUpdateInput,
        responses=expensicat_responses({200: CUSTOMER_DATA}, 412, 422),
    )
    def patch(self, request: Request, pk: str) -> Response:
        contact = contact_get(self.administration, pk)
        with fields_renamed(CUSTOMER_FIELD_NAMES):
            data = validate_input(CustomerUpdateInput, self.body(request), partial=True)
            contact = services.contact_update(
                contact=contact,
                actor=request.user,
                changes=_customer_changes(data),
                precondition=if_match(request),
            )
        return tagged(request, self.data(render_customer(contact)), record_tag(contact))

    @extend_schema(
        operation_id="expensicat_customers_destroy",
        description=SCOPE_WRITE,
        summary="Delete a customer",
        parameters=[IF_MATCH],
        responses=expensicat_responses({204: NO_CONTENT}, 412, 422),
    )
    def delete(self, request: Request, pk: str) -> Response:
        contact = contact_get(self.administration, pk)
        with fields_renamed(CUSTOMER_FIELD_NAMES):
            services.contact_delete(
                contact=contact, actor=request.user, precondition=if_match(request)
            )
        return Response(status=204)


# --- organization and members ------------------------------------------------------------------


# What OrganizationCurrentView answers, for the OpenAPI schema only (common/openapi.py).
@extend_schema_serializer(component_name="ExpensicatOrganization")
class OrganizationOutput(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    currency = serializers.CharField()
    time_zone = serializers.CharField()
    country = serializers.CharField()
    language = serializers.CharField()
    role = serializers.ChoiceField(
        choices=Membership.Role.choices, allow_null=True, help_text="The caller's own role"
    )
    prevent_overlapping_entries = serializers.BooleanField(
        help_text="Entries of one person that overlap are refused (touching ones are fine)."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def render_organization(organization: Administration, *, role: str | None) -> dict[str, Any]:
    return {
        "id": str(organization.pk),
        "name": organization.name,
        "currency": organization.currency,
        "time_zone": organization.time_zone,
        "country": organization.country,
        "language": organization.language,
        # The caller's own role: owners and admins see everyone's time entries.
        "role": role,
        "prevent_overlapping_entries": organization.prevent_overlapping_entries,
        "created_at": iso_utc(organization.created_at),
        "updated_at": iso_utc(organization.updated_at),
    }


class OrganizationCurrentView(ExpensicatView):
    read_scopes = write_scopes = ("team:read", "entries:read")

    @extend_schema(
        operation_id="expensicat_organizations_current",
        summary="Get the organization the request acts on",
        responses=expensicat_responses(
            {200: expensicat_data("ExpensicatOrganization", OrganizationOutput)}
        ),
    )
    def get(self, request: Request) -> Response:
        return self.data(render_organization(self.administration, role=self.role))


def render_member(membership: Membership) -> dict[str, Any]:
    user = membership.user
    return {
        # The user's id: the one time entries carry as user_id.
        "id": str(user.pk),
        "full_name": user.display_name,
        "email": user.email,
        "avatar_url": user.avatar_url or None,
        "role": membership.role,
        "joined_at": iso_utc(membership.created_at),
    }


# What render_member answers, for the OpenAPI schema only (common/openapi.py).
@extend_schema_serializer(component_name="ExpensicatMember")
class MemberOutput(serializers.Serializer):
    id = serializers.CharField(help_text="The user's id, as time entries carry it in user_id")
    full_name = serializers.CharField()
    email = serializers.EmailField()
    avatar_url = serializers.URLField(allow_null=True)
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    joined_at = serializers.DateTimeField()


class MemberListView(ExpensicatView):
    read_scopes = write_scopes = ("team:read",)

    @extend_schema(
        operation_id="expensicat_members_list",
        summary="List the organization's members",
        parameters=EXPENSICAT_PAGING,
        responses=expensicat_responses({200: expensicat_page("ExpensicatMember", MemberOutput)}),
    )
    def get(self, request: Request) -> Response:
        page = MEMBER_KEYSET.page_from_request(request)
        queryset = Membership.objects.for_administration(self.administration)
        memberships, next_cursor = MEMBER_KEYSET.paginate(queryset.select_related("user"), page)
        return self.page([render_member(m) for m in memberships], next_cursor)


urlpatterns = [
    expensicat_path("projects", ProjectListView, "ec-projects"),
    expensicat_path(rf"projects/(?P<pk>{ID})", ProjectDetailView, "ec-project"),
    expensicat_path("customers", CustomerListView, "ec-customers"),
    expensicat_path(rf"customers/(?P<pk>{ID})", CustomerDetailView, "ec-customer"),
    expensicat_path("organizations/current", OrganizationCurrentView, "ec-organization-current"),
    expensicat_path("members", MemberListView, "ec-members"),
]
