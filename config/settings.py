"""Settings for Uurwerk: one module, every difference between deployments comes from the
environment (see .env.example)."""

import os
from datetime import timedelta
from pathlib import Path
from tempfile import gettempdir
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

from common.limits import REQUEST_BODY_MAX_BYTES
from config.env import env_bool, env_int, env_list, env_str
from config.lean import install as install_lean_imports

# Before any app loads: requests, PyYAML and Pygments stay out of DRF, and cryptography waits for
# the first OpenID Connect key (config/lean.py).
install_lean_imports()

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    # Every signature (session JWTs, password-reset tokens, sessions) rests on this key: one
    # written here is public. Only a debug run (make run) or a test run (pytest sets
    # PYTEST_VERSION) may do without; django-insecure- makes check --deploy flag it.
    if not (DEBUG or env_str("PYTEST_VERSION")):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
            "string (python -c 'import secrets; print(secrets.token_urlsafe(50))'), or "
            "DEBUG=true for a local run."
        )
    SECRET_KEY = "django-insecure-development-key-set-SECRET_KEY-in-production"
# Behind a TLS-terminating proxy, Link headers must say https: trust its X-Forwarded-Proto.
BEHIND_TLS_PROXY = env_bool("TRUST_X_FORWARDED_PROTO", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Served over https (behind the proxy): redirect plain http, tell browsers to stay on https
# (HSTS) and send cookies only over https. Each can be set on its own; the defaults follow
# TRUST_X_FORWARDED_PROTO.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", BEHIND_TLS_PROXY)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if BEHIND_TLS_PROXY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", BEHIND_TLS_PROXY)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", BEHIND_TLS_PROXY)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", BEHIND_TLS_PROXY)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", BEHIND_TLS_PROXY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    # django.contrib.admin, its modules discovered on first use (config/apps.py).
    "config.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "oauth2_provider",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "common",
    "idempotency",
    "administrations",
    "invoices",
    "notes",
    "timeentries",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (admin, API docs) from the app itself, behind any proxy: README "Production".
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Sessions, the session's user and messages: not on the data APIs (common/middleware.py).
    "common.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "common.middleware.AuthenticationMiddleware",
    "common.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # 413 for an oversized body before anything reads it (README "Limits").
    "common.middleware.RequestBodyLimitMiddleware",
    # Innermost: the plainest of the hottest reads without DRF's dispatch (HOT_READS).
    "common.middleware.HotReadMiddleware",
]
# A path's pattern: the function that answers its plainest GETs, given the pattern's groups
# (common.middleware.HotReadMiddleware). Each pattern matches only paths its view's URL answers.
HOT_READS = {
    r"/api/v1/time-entries": "timeentries.api.expensicat.hot_list",
    r"/api/v2/(?P<administration_id>\d+)/time_entries/(?P<pk>\d+)(?:\.json)?": (
        "timeentries.api.moneybird.hot_get"
    ),
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "administrations.User"
# Moneybird's paths carry an optional ".json" suffix and no trailing slash.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database_from_url(url: str) -> dict:
    """Translate DATABASE_URL (postgres://user:pass@host:port/name or sqlite:///path)."""
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql", "pgsql"):
        return {
            # Django's, with a health check that costs no round trip (common/postgresql).
            "ENGINE": "common.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            # Persistent connections: a new connection per request costs more than the query.
            "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
        }
    if parsed.scheme == "sqlite":
        path = parsed.path[1:] if parsed.path.startswith("//") else parsed.path.lstrip("/")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path or BASE_DIR / "db.sqlite3",
            # SQLite as a server's database (README "Configuration"): readers don't block the
            # writer (WAL), a writer waits for the lock instead of failing at once (timeout,
            # seconds), and a transaction takes the write lock when it begins (IMMEDIATE):
            # two read-then-write transactions can then never deadlock into "database is
            # locked", which no timeout can resolve.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            },
            # A file, not Django's in-memory default, so that tests of concurrent requests
            # meet real locking; one per process, so that parallel runs don't collide.
            "TEST": {"NAME": str(Path(gettempdir()) / f"uurwerk-test-{os.getpid()}.sqlite3")},
        }
    raise ImproperlyConfigured(f"Unsupported DATABASE_URL scheme: {parsed.scheme!r}")


DATABASES = {
    "default": _database_from_url(env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Deployed: compressed files with hashed names (cached forever by browsers), which need
    # `manage.py collectstatic` before the server starts. A debug or test run serves them
    # from the apps' folders instead, as they are, and needs no collectstatic.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or env_str("PYTEST_VERSION")
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "administrations.auth.ApiTokenAuthentication",
        "common.auth.JWTAuthentication",
        "common.auth.OAuth2Authentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["common.auth.HasRequiredScopes"],
    "DEFAULT_RENDERER_CLASSES": ["common.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "common.errors.moneybird_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "common.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

# --- OpenAPI (common/openapi.py): /api/schema/, /api/docs/, /api/redoc/ ----------------------
SPECTACULAR_SETTINGS = {
    "TITLE": "Uurwerk API",
    "DESCRIPTION": (
        "Time tracking in two dialects over one set of records: Moneybird's (/api/v2, "
        "administrations, contacts, projects, users, time entries and notes) and Expensicat's "
        "(/api/v1, organization, members, customers, projects and time entries). Every call "
        "takes `Authorization: Bearer <credential>`: an API token, a session JWT from "
        "/api/auth/token or an OAuth2 access token. Each dialect answers errors in its own shape. "
        "An empty query parameter (`?time_zone=`) is the same as leaving it out."
    ),
    "VERSION": "1.0.0",
    # Only the two API dialects; sign-in and OAuth2 are form and redirect flows, not JSON APIs.
    "PREPROCESSING_HOOKS": ["common.openapi.only_api_dialects"],
    # The default hook (enums as components), then what the services enforce on bodies.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.openapi.enforced_body_rules",
    ],
    # Stripped before the first path segment names an operation's tag ("time_entries").
    "SCHEMA_PATH_PREFIX": r"/api/v[12]",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per set of choices, wherever a schema uses it.
    "ENUM_NAME_OVERRIDES": {
        "ProjectStateEnum": "administrations.models.Project.State",
        "SalesInvoiceStateEnum": "invoices.models.SalesInvoice.State",
        "MembershipRoleEnum": "administrations.models.Membership.Role",
        "ExpensicatErrorCodeEnum": "common.openapi.EXPENSICAT_ERROR_CODES",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The three bearer credentials share one header, so they are one scheme, not one per
    # authentication class.
    "AUTHENTICATION_WHITELIST": [],
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API token, a session JWT or an OAuth2 access token.",
            }
        }
    },
    "SECURITY": [{"bearerAuth": []}],
}

# Moneybird's default page size; the maximum is fixed by its API at 100.
MONEYBIRD_PER_PAGE_DEFAULT = env_int("MONEYBIRD_PER_PAGE_DEFAULT", 50)

# --- sign-in (common/signin.py): the login page, session JWTs and OAuth2 ---------------------
LOGIN_URL = "signin-login"
LOGIN_REDIRECT_URL = "signin-login"
LOGOUT_REDIRECT_URL = "signin-login"

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 14)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    # A password change ends every session JWT of that user.
    "CHECK_REVOKE_TOKEN": True,
}

OAUTH2_PROVIDER = {
    "SCOPES_BACKEND_CLASS": "common.signin.VocabularyScopes",
    "OAUTH2_VALIDATOR_CLASS": "common.signin.OAuth2Validator",
    "ACCESS_TOKEN_GENERATOR": "common.signin.oauth_token_generator",
    "REFRESH_TOKEN_GENERATOR": "common.signin.oauth_token_generator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("OAUTH_ACCESS_TOKEN_SECONDS", 3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int("OAUTH_REFRESH_TOKEN_DAYS", 90) * 86400,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    # PKCE of every client, confidential ones too (RFC 9700 section 2.1.1).
    "PKCE_REQUIRED": True,
    # Plain http redirect URIs only for loopback (RFC 8252 section 7.3, native apps):
    # common.apps allows http to an application whose http URIs are all 127.0.0.1, [::1] or
    # localhost; every other redirect URI must be https.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "ALLOW_LOCALHOST_LOOPBACK": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # RFC 9700 (OAuth 2.0 Security Best Current Practice), all enforced: no implicit or
    # password grant, S256 only, no tokens in query strings, `iss` in the authorization
    # response, and tokens stored only as a SHA-256 checksum (like API tokens).
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
}

# Requests per window (REQUESTS/SECONDS), per credential and per organization, per dialect.
# Moneybird documents 150 requests per 5 minutes.
RATE_LIMITS = {
    "moneybird": {
        "credential": env_str("RATE_LIMIT_MONEYBIRD", "150/300"),
        "organization": env_str("RATE_LIMIT_MONEYBIRD_ORGANIZATION", "1500/300"),
    },
    "expensicat": {
        "credential": env_str("RATE_LIMIT_EXPENSICAT", "300/60"),
        "organization": env_str("RATE_LIMIT_EXPENSICAT_ORGANIZATION", "3000/60"),
    },
}

# --- limits (common/limits.py, README "Limits") ----------------------------------------------
# Django's own cap for bodies it reads itself (forms, the admin, OAuth2's token endpoint): the
# API's limit, so that no path takes more.
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES

# --- logging ---------------------------------------------------------------------------------
# Everything at LOG_LEVEL and above goes to the console in every mode, above all each unhandled
# exception with its traceback (Django's default prints nothing with DEBUG off and mails it).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "level": env_str("LOG_LEVEL", "WARNING").upper(),
        }
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    # Django's logger keeps its level but loses its own handlers (console only with DEBUG on,
    # mail_admins): its records reach the root's console, once, whatever DEBUG says.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}
# How long an Idempotency-Key is remembered (common.idempotency); prune_idempotency_keys removes
# older ones.
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)
# Webhooks (webhooks/). The retry delays after each failed push, in seconds (Moneybird's: 5 s,
# 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, 24 h), each with ±10% jitter.
_RETRY_DEFAULT = "5,300,1800,7200,18000,36000,50400,72000,86400,86400"
WEBHOOK_RETRY_SCHEDULE = [
    int(s) for s in env_list("WEBHOOK_RETRY_SCHEDULE", _RETRY_DEFAULT.split(","))
]
# Receivers on loopback, private, link-local, ... addresses; off by default (SSRF), on for
# `make run`.
WEBHOOK_ALLOW_PRIVATE_HOSTS = env_bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", False)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# A webhook whose pushes have all failed for this long is deactivated (5 days).
WEBHOOK_DEACTIVATE_AFTER_SECONDS = env_int("WEBHOOK_DEACTIVATE_AFTER_SECONDS", 5 * 86400)
# How long a worker holds a claimed delivery before another may take it over.
WEBHOOK_LEASE_SECONDS = env_int("WEBHOOK_LEASE_SECONDS", 60)
# Scheme and host of this server, for the links inside a webhook's entity (no request there).
PUBLIC_URL = env_str("PUBLIC_URL", "http://127.0.0.1:8000")

# The tenant app's interface to the shared code (common.tenancy): common/ imports no app.
TENANCY_BACKEND = "administrations.tenancy"
