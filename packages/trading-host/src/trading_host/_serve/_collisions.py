"""A user's route where the embedded platform serves: an error at ``embed()`` and at start-up.

In a user's app the platform's routes and the user's share one router, where the first route that
matches answers. A user route on a path the platform serves would silently win (before ours) or
lose (after ours, which answer every path under the prefix, if only with a 404): both are
mistakes, so both are refused, naming the two routes and the fix.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from starlette.routing import BaseRoute, Host, Match, Mount

from trading_core import served_routes

from .._problems import Problem


@dataclass(frozen=True)
class Space:
    """A path the platform serves, and every path below it; ``what`` names it in messages."""

    path: str
    what: str

    def holds(self, path: str) -> bool:
        return path == self.path or path.startswith(self.path.rstrip("/") + "/")


def _describe(route: BaseRoute, path: str, methods: Collection[str]) -> str:
    kind = f"{'/'.join(sorted(methods))} " if methods else ""
    if isinstance(route, Mount):
        kind = "mount "
    name = getattr(route, "name", None)
    return f"{kind}{path or '/'}" + (f" ({name})" if name else "")


def collisions(routes: Sequence[BaseRoute], ours: Collection[BaseRoute], spaces: Sequence[Space]) -> list[Problem]:
    """Every route of ``routes`` (an app's, ours included) that is not one of ``ours`` and either
    lies in one of ``spaces`` or, placed before ours, would answer a request to one of them."""
    own = {id(route) for route in ours}
    first_ours = next((i for i, route in enumerate(routes) if id(route) in own), len(routes))
    problems: list[Problem] = []
    for index, route in enumerate(routes):
        if id(route) in own or isinstance(route, Host):
            continue
        # An included router (FastAPI 0.137+) is one route: its routes are checked one by one.
        for served in served_routes([route]):
            path = served.path
            if path is None:
                continue
            if isinstance(served.route, Mount):
                clash = next((s for s in spaces if s.holds(path) or s.path.startswith(path.rstrip("/") + "/")), None)
            else:
                clash = next((s for s in spaces if s.holds(path)), None)
            if clash is None and index < first_ours and served.served is route:
                probe = {"type": "http", "method": "GET", "path": "", "root_path": "", "headers": []}
                clash = next((s for s in spaces if route.matches({**probe, "path": s.path})[0] is not Match.NONE), None)
            if clash is not None:
                theirs = _describe(served.route, path, served.methods)
                problems.append(
                    Problem(
                        "embed-route-collision",
                        f"your route {theirs} collides with the Trading API's {clash.what} at {clash.path}: "
                        "in one app, one of them would silently answer for both",
                        "move your route to another path, or embed the Trading API elsewhere "
                        "(embed(app, prefix=...), and metrics_path=... for the metrics)",
                    )
                )
    return problems
