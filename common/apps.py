import sqlite3
from typing import Any
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.db.backends.signals import connection_created

# RFC 8252 section 7.3: a native app receives its code on a loopback address over plain http.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def is_loopback_http(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme.lower() == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


def allowed_redirect_schemes(application) -> list[str]:
    """django-oauth-toolkit's Application.get_allowed_schemes: the setting's schemes (https),
    and http too for an application whose http redirect URIs are all loopback ones. An
    application with any other http URI gets https only, so the toolkit's own validation
    (the admin, create_oauth_app) refuses that URI, and no redirect ever goes to plain http
    off the machine."""
    from oauth2_provider.settings import oauth2_settings

    schemes = list(oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES)
    http = [u for u in (application.redirect_uris or "").split() if u.lower().startswith("http:")]
    if http and "http" not in schemes and all(is_loopback_http(uri) for uri in http):
        schemes.append("http")
    return schemes


def sqlite_variable_limit(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Django takes SQLite to allow 999 variables per statement (its default before 3.32) and
    splits a bulk insert or update by that: 100 events of a bulk write would take two inserts.
    This build of SQLite says how many it allows (32766 by default since 3.32)."""
    if connection.vendor == "sqlite":
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        connection.features.max_query_params = limit


class CommonConfig(AppConfig):
    name = "common"

    def ready(self) -> None:
        # The toolkit allows http per application only through a method of its Application
        # model; swapping in a model of our own after its first migration is the upheaval its
        # documentation warns against, so the one method is replaced instead.
        from oauth2_provider.models import get_application_model

        get_application_model().get_allowed_schemes = allowed_redirect_schemes
        connection_created.connect(sqlite_variable_limit, dispatch_uid="sqlite_variable_limit")
