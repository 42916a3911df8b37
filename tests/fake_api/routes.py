"""The routing table: API path (relative to /open_api/v1.3/) -> handler."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .params import Params

if TYPE_CHECKING:
    from .server import FakeMarketingAPI

API_PREFIX = "/open_api/v1.3/"


@dataclass(frozen=True)
class Call:
    """One request that passed the QPS limit and auth, as a handler sees it."""

    api: FakeMarketingAPI
    path: str
    method: str
    params: Params
    access_token: str | None


# A handler returns the envelope's `data` and raises errors.ApiError for API-level failures.
Handler = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    """An endpoint: path (with trailing slash), allowed methods, whether it needs Access-Token.

    `qps_limit`: the endpoint's own QPS tier, enforced on top of the app's (None: only the app's).
    """

    path: str
    handler: Handler
    methods: frozenset[str] = frozenset({"GET"})
    needs_token: bool = True
    qps_limit: int | None = None


def default_routes() -> list[Route]:
    """Collect ROUTES from every public module of this package (so a new module plugs itself in)."""
    routes: list[Route] = []
    package = importlib.import_module(__package__ or "")
    for name in sorted(info.name for info in pkgutil.iter_modules(package.__path__)):
        if not name.startswith("_"):
            module = importlib.import_module(f"{__package__}.{name}")
            routes.extend(getattr(module, "ROUTES", ()))
    return routes
