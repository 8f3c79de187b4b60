"""gunicorn settings for production: `gunicorn -c config/gunicorn.py config.wsgi` (README.md,
"Production"); workers and the address are given on the command line.

The master loads Django and imports every view before it forks (preload_app and the hook below),
so the workers share those pages with it instead of each importing everything on its first
request. gc.freeze() then moves the loaded objects out of the collector's sight: a collection in a
worker would otherwise write to every object's header and so copy the shared pages one by one.
What only the admin, sign-in, OAuth2 or the OpenAPI pages need is not imported here but on first
use (config/urls.py, config/apps.py, config/lean.py), so that it is in no API worker's memory.
"""

import gc

preload_app = True
worker_class = "sync"


def when_ready(server) -> None:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - importing the URLconf imports every API view
    # The cache (the rate limiter's counters): Django's Redis backend builds its client, and
    # imports redis-py (~4 MiB), on first use; built here, every worker shares it instead of
    # importing it on its first request. It opens no connection (redis-py's pools are made per
    # process, on the first command).
    from django.core.cache import caches

    for cache in caches.all():
        getattr(cache, "_cache", None)
    gc.freeze()
