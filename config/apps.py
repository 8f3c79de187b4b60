"""The admin app, configured to find its modules on first use.

Django's own AdminConfig imports every app's admin.py when the app registry loads (autodiscover),
and with them the admin's forms, changelists and views: memory in every server worker, which
answers the API and, almost always, no admin page (README "Performance", worker memory). Here the
admin's URLconf (config/urls_admin.py) discovers them when a request first reaches /admin/, and
the admin's system checks do so before they look at the registered ModelAdmins, so that
`manage.py check` checks exactly what it did before.
"""

import threading

from django.contrib.admin.apps import SimpleAdminConfig
from django.contrib.admin.checks import check_admin_app, check_dependencies
from django.core import checks

_discovered = False
_lock = threading.Lock()


def discover_admin() -> None:
    """Import every app's admin module (admin.autodiscover), then hide the plumbing models from
    all but superusers; once per process."""
    global _discovered
    with _lock:
        if _discovered:
            return
        from django.contrib import admin

        from common.admin import tuck_away_internals

        admin.autodiscover()
        tuck_away_internals()
        _discovered = True


def check_discovered_admin_app(app_configs, **kwargs) -> list[checks.CheckMessage]:
    discover_admin()
    return check_admin_app(app_configs, **kwargs)


class AdminConfig(SimpleAdminConfig):
    """django.contrib.admin (name and label unchanged) without autodiscover in ready()."""

    def ready(self) -> None:
        # SimpleAdminConfig.ready() registers these two; the second one discovers first.
        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(check_discovered_admin_app, checks.Tags.admin)
