"""What a server worker doesn't import (README "Performance", worker memory). Two import hooks,
installed by config/settings.py before any app loads; neither changes what any code can use.

Django REST framework's `rest_framework.compat` imports requests, PyYAML and Pygments whenever
they are installed (they are: the webhooks and imports use requests, drf-spectacular's YAML
schema uses PyYAML), for features this project doesn't use: DRF's own RequestsClient (tests),
its OpenAPIRenderer (drf-spectacular renders the schema with its own PyYAML import) and the
browsable API's syntax highlighting (the only renderer is common.renderers.JSONRenderer). They
were ~5 MiB in every worker, requests alone (with urllib3, charset_normalizer, idna and
http.cookiejar) ~3.5 MiB. `rest_framework.compat` is made to see them as absent while it is
imported, and only it: every other import of them, earlier or later, is unaffected.

django-oauth-toolkit's models and utils import `jwcrypto.jwk`, and with it most of
`cryptography` (~3 MiB, and its large compiled extension), for OpenID Connect keys that only its
own views and its OAuth2 validator ever use; and its models take one exception class from
oauthlib's `oauth2.rfc6749`, whose parent packages import all of OAuth2 (clients, endpoints,
grant types, device flow: ~0.8 MiB). Those modules (DEFERRED) run on the first use of one of
their attributes instead, as if they had been imported then; a package's submodules import as
usual without running it.
"""

import importlib.abc
import importlib.machinery
import sys
import threading
from types import ModuleType

COMPAT = "rest_framework.compat"
HIDDEN_FROM_COMPAT = ("requests", "yaml", "pygments")
DEFERRED = frozenset({"jwcrypto.jwk", "oauthlib.oauth2", "oauthlib.oauth2.rfc6749.endpoints"})


class _CompatLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # A None entry in sys.modules makes `import name` raise ImportError, which compat takes
        # for "not installed".
        hidden = [name for name in HIDDEN_FROM_COMPAT if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]
        try:
            self.loader.exec_module(module)
        finally:
            for name in hidden:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]


_loading = threading.RLock()
_IMPORT_ATTRIBUTES = frozenset(
    {"__name__", "__loader__", "__package__", "__spec__", "__path__", "__file__", "__cached__"}
)


class _DeferredModule(ModuleType):
    """A module whose code runs when an attribute it doesn't have yet is first asked for."""

    def __getattr__(self, name: str):
        # Only reached for a missing attribute. The import system probes these before it sets
        # them; asking for one of them must not run the module.
        if name in _IMPORT_ATTRIBUTES:
            raise AttributeError(name)
        spec = self.__spec__
        loader = spec.loader if spec is not None else None
        with _loading:
            if isinstance(loader, _DeferredLoader) and not loader.started:
                loader.started = True  # a circular access while it runs sees what exists so far
                loader.loader.exec_module(self)
        return ModuleType.__getattribute__(self, name)


class _DeferredLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader
        self.started = False

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return _DeferredModule(spec.name)

    def exec_module(self, module: ModuleType) -> None:
        pass  # later: _DeferredModule.__getattr__


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != COMPAT and fullname not in DEFERRED:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return spec
        if fullname == COMPAT:
            spec.loader = _CompatLoader(spec.loader)
        else:
            spec.loader = _DeferredLoader(spec.loader)
        return spec


def install() -> None:
    """Install the hooks, once."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
