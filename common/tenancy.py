"""The tenant app, as the shared code sees it: `settings.TENANCY_BACKEND` names a module (here
administrations.tenancy) with `Administration`, `administration_for_user`,
`administrations_for_user`, `member_role` and `ELEVATED_ROLES`. common/ depends on nothing
above it; the app that owns tenants plugs itself in, as AUTH_USER_MODEL does for users."""

from functools import cache
from importlib import import_module
from types import ModuleType

from django.conf import settings


@cache
def tenancy() -> ModuleType:
    return import_module(settings.TENANCY_BACKEND)
