from urllib.parse import urlsplit

from django.apps import AppConfig

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


class CommonConfig(AppConfig):
    name = "common"

    def ready(self) -> None:
        # The toolkit allows http per application only through a method of its Application
        # model; swapping in a model of our own after its first migration is the upheaval its
        # documentation warns against, so the one method is replaced instead.
        from oauth2_provider.models import get_application_model

        get_application_model().get_allowed_schemes = allowed_redirect_schemes
