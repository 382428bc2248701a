"""A router's routes as FastAPI serves them, included routers expanded, on every FastAPI release.

Up to FastAPI 0.136, ``include_router`` copied the included router's routes, prefix applied, into
the including router's ``routes``. From 0.137 it keeps the included router as one route (its own
``_IncludedRouter`` type) and works its routes out on demand, with the prefix, dependencies and tags
of every inclusion combined. Whoever reads a ``ModuleApi``'s routes (the host's dispatcher, the
conformance kit, the stream documents) reads them through :func:`served_routes`, so a version split
across files with ``self.include_router(orders_router)`` is served and checked on every release.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.routing import BaseRoute


def is_included_router(route: BaseRoute) -> bool:
    """Whether ``route`` is a router included by FastAPI 0.137 or later, which serves its routes itself.

    FastAPI names its type privately, so it is recognised by the method that lists the routes it
    serves (``effective_route_contexts``), present from 0.137 to today's release.
    """
    return callable(getattr(route, "effective_route_contexts", None))


@dataclass(frozen=True)
class ServedRoute:
    """One route as served: ``route`` as declared (an ``APIRoute``, an ``APIWebSocketRoute``...) and
    ``served``, what FastAPI serves for it, which has the path with every inclusion's prefix and,
    for an ``APIRoute``, the effective ``methods``, ``operation_id``, ``unique_id``,
    ``include_in_schema``, ``endpoint`` and ``param_convertors``. They are the same object for a
    route declared on the router itself (and for every route on FastAPI before 0.137)."""

    route: BaseRoute
    served: Any

    @property
    def path(self) -> str | None:
        """The path the route is served at, relative to the router (``/x/orders``); ``None`` for a
        route that has none (a ``Host``)."""
        path = getattr(self.served, "path", None)
        return path if isinstance(path, str) else None

    @property
    def methods(self) -> frozenset[str]:
        """The HTTP methods of the route; empty for a WebSocket route."""
        return frozenset(getattr(self.served, "methods", None) or ())


def served_routes(routes: Iterable[BaseRoute]) -> list[ServedRoute]:
    """Every route of ``routes`` (a router's ``routes``) as it is served, the routes of included
    routers, and of routers included in those, in their place."""
    found: list[ServedRoute] = []
    for route in routes:
        if not is_included_router(route):
            found.append(ServedRoute(route, route))
            continue
        for context in route.effective_route_contexts():  # type: ignore[attr-defined]
            # A Starlette route (WebSocket, mount...) is served as a copy with the full path; an
            # APIRoute as the context itself, which carries its effective attributes.
            served = getattr(context, "starlette_route", None) or context
            found.append(ServedRoute(context.original_route, served))
    return found
