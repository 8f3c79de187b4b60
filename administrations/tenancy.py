"""What the shared code (common/) needs to know of tenants, given to it by settings
(TENANCY_BACKEND names this module) so that common/ imports nothing from the apps above it:
the dialects' base views resolve the administration of a request, and read the caller's role,
through these; the admin pages find a record's time zone through the model."""

from administrations.models import Administration, Membership, User
from administrations.selectors import administration_for_user, administrations_for_user

__all__ = [
    "ELEVATED_ROLES",
    "Administration",
    "administration_for_user",
    "administrations_for_user",
    "member_role",
]

# Owners and admins see and change everyone's records in their administration; members their own.
ELEVATED_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


def member_role(administration: Administration, user: User) -> str | None:
    """The user's role in the administration, None when not a member."""
    memberships = Membership.objects.for_administration(administration).filter(user=user)
    return memberships.values_list("role", flat=True).first()
