"""Writes for tenants, members, contacts, projects and tokens. Every function runs in one
transaction and records its audit event in it.

One module per seam; this package re-exports their public names, so that callers say
`from administrations import services` and `services.contact_create(...)` whichever module
holds it."""

from administrations.services.contacts import (
    CONTACT_FIELDS,
    CONTACT_NAME_REQUIRED,
    CONTACT_OPTION_FIELDS,
    CONTACT_PERSON_FIELDS,
    contact_archive,
    contact_create,
    contact_delete,
    contact_person_create,
    contact_person_delete,
    contact_person_update,
    contact_update,
)
from administrations.services.projects import (
    PROJECT_BUDGET_MAX,
    PROJECT_FIELDS,
    PROJECT_NAME_MAX,
    project_create,
    project_delete,
    project_update,
)
from administrations.services.tenants import (
    administration_create,
    administration_suspension_set,
    administration_update,
    member_add,
    member_remove,
)
from administrations.services.tokens import (
    DEFAULT_SCOPES,
    KNOWN_SCOPES,
    oauth_application_create,
    token_create,
    token_revoke,
)
from administrations.services.users import USER_FIELDS, user_get_or_create, user_update

__all__ = [
    "CONTACT_FIELDS",
    "CONTACT_NAME_REQUIRED",
    "CONTACT_OPTION_FIELDS",
    "CONTACT_PERSON_FIELDS",
    "DEFAULT_SCOPES",
    "KNOWN_SCOPES",
    "PROJECT_BUDGET_MAX",
    "PROJECT_FIELDS",
    "PROJECT_NAME_MAX",
    "USER_FIELDS",
    "administration_create",
    "administration_suspension_set",
    "administration_update",
    "contact_archive",
    "contact_create",
    "contact_delete",
    "contact_person_create",
    "contact_person_delete",
    "contact_person_update",
    "contact_update",
    "member_add",
    "member_remove",
    "oauth_application_create",
    "project_create",
    "project_delete",
    "project_update",
    "token_create",
    "token_revoke",
    "user_get_or_create",
    "user_update",
]
