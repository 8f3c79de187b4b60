"""gunicorn settings for production: `gunicorn -c config/gunicorn.py config.wsgi` (README.md,
"Production"); workers and the address are given on the command line.

The master loads Django and imports every view before it forks (preload_app and the hook below),
so the workers share those pages with it instead of each importing everything on its first
request. gc.freeze() then moves the loaded objects out of the collector's sight: a collection in a
worker would otherwise write to every object's header and so copy the shared pages one by one.
"""

import gc

preload_app = True
worker_class = "sync"


def when_ready(server) -> None:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - importing the URLconf imports every view
    gc.freeze()
