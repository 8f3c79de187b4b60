"""Expensicat's /api/v1 projects, customers (our contacts), organizations/current and members,
over administrations.services and the tenant-scoped selectors."""

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from administrations import services
from administrations.models import Administration, Contact, Membership, Project
from administrations.selectors import contact_get, project_get
from common.api import IdField, validate_input
from common.api.expensicat import ID, ExpensicatView, expensicat_path, fields_renamed
from common.pagination import Keyset
from common.timefmt import iso_utc

PROJECT_KEYSET = Keyset(Project, "id")
CUSTOMER_KEYSET = Keyset(Contact, "id")
MEMBER_KEYSET = Keyset(Membership, "id")


def _id(value: int | None) -> str | None:
    return None if value is None else str(value)


# --- projects ----------------------------------------------------------------------------------

# Expensicat's project fields as the services name them, and back (for error details).
PROJECT_SERVICE_NAMES = {"customer_id": "contact_id", "archived": "state"}
PROJECT_FIELD_NAMES = {v: k for k, v in PROJECT_SERVICE_NAMES.items()}


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
        "customer_id": _id(project.contact_id),
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


def _project(administration: Administration, pk: int | str) -> Project:
    project = project_get(administration, pk)
    # Joined for the rendering; project_get has already proved it is this organization's.
    return Project.objects.select_related("contact").get(pk=project.pk)


class ProjectListView(ExpensicatView):
    read_scopes = ("entries:read",)
    write_scopes = ("entries:write",)

    def get(self, request: Request) -> Response:
        page = PROJECT_KEYSET.page_from_request(request)
        queryset = Project.objects.filter(administration=self.administration)
        projects, next_cursor = PROJECT_KEYSET.paginate(queryset.select_related("contact"), page)
        return self.page([render_project(p) for p in projects], next_cursor)

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


class ProjectDetailView(ExpensicatView):
    read_scopes = ("entries:read",)
    write_scopes = ("entries:write",)

    def get(self, request: Request, pk: str) -> Response:
        return self.data(render_project(_project(self.administration, pk)))

    def patch(self, request: Request, pk: str) -> Response:
        project = project_get(self.administration, pk)
        with fields_renamed(PROJECT_FIELD_NAMES):
            data = validate_input(ProjectInput, self.body(request), partial=True)
            services.project_update(
                project=project, actor=request.user, changes=_project_changes(data)
            )
        return self.data(render_project(_project(self.administration, pk)))

    def delete(self, request: Request, pk: str) -> Response:
        """204 when the project is gone; a project that time entries still use is archived
        instead (the services' rule), and answered with its archived state."""
        project = project_get(self.administration, pk)
        archived = services.project_delete(project=project, actor=request.user)
        if archived is None:
            return Response(status=204)
        return self.data(render_project(_project(self.administration, pk)))


# --- customers ---------------------------------------------------------------------------------

# Expensicat's single customer name is the contact's company name.
CUSTOMER_SERVICE_NAMES = {"name": "company_name"}
CUSTOMER_FIELD_NAMES = {"company_name": "name"}


class CustomerCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True)
    phone = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=64)


class CustomerUpdateInput(CustomerCreateInput):
    archived = serializers.BooleanField(required=False)


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


class CustomerListView(ExpensicatView):
    read_scopes = ("entries:read",)
    write_scopes = ("entries:write",)

    def get(self, request: Request) -> Response:
        page = CUSTOMER_KEYSET.page_from_request(request)
        queryset = Contact.objects.filter(administration=self.administration)
        contacts, next_cursor = CUSTOMER_KEYSET.paginate(queryset, page)
        return self.page([render_customer(c) for c in contacts], next_cursor)

    def post(self, request: Request) -> Response:
        with fields_renamed(CUSTOMER_FIELD_NAMES):
            data = validate_input(CustomerCreateInput, self.body(request))
            contact = services.contact_create(
                administration=self.administration, actor=request.user, **_customer_changes(data)
            )
        return self.data(render_customer(contact), status=201)


class CustomerDetailView(ExpensicatView):
    read_scopes = ("entries:read",)
    write_scopes = ("entries:write",)

    def get(self, request: Request, pk: str) -> Response:
        return self.data(render_customer(contact_get(self.administration, pk)))

    def patch(self, request: Request, pk: str) -> Response:
        contact = contact_get(self.administration, pk)
        with fields_renamed(CUSTOMER_FIELD_NAMES):
            data = validate_input(CustomerUpdateInput, self.body(request), partial=True)
            contact = services.contact_update(
                contact=contact, actor=request.user, changes=_customer_changes(data)
            )
        return self.data(render_customer(contact))

    def delete(self, request: Request, pk: str) -> Response:
        contact = contact_get(self.administration, pk)
        with fields_renamed(CUSTOMER_FIELD_NAMES):
            services.contact_delete(contact=contact, actor=request.user)
        return Response(status=204)


# --- organization and members ------------------------------------------------------------------


class OrganizationCurrentView(ExpensicatView):
    read_scopes = write_scopes = ("team:read", "entries:read")

    def get(self, request: Request) -> Response:
        organization = self.administration
        return self.data(
            {
                "id": str(organization.pk),
                "name": organization.name,
                "currency": organization.currency,
                "time_zone": organization.time_zone,
                "country": organization.country,
                "language": organization.language,
                # The caller's own role: owners and admins see everyone's time entries.
                "role": self.role,
                "created_at": iso_utc(organization.created_at),
                "updated_at": iso_utc(organization.updated_at),
            }
        )


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


class MemberListView(ExpensicatView):
    read_scopes = write_scopes = ("team:read",)

    def get(self, request: Request) -> Response:
        page = MEMBER_KEYSET.page_from_request(request)
        queryset = Membership.objects.filter(administration=self.administration)
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
