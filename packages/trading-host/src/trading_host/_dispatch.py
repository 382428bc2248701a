"""The hot path: find a request's module version by its URL prefix with a dict lookup.

Starlette matches routes by scanning a list, so a host that flattened every module version into
one router would slow down with each version added. This route looks the ``/{global}/{module}``
(or standalone ``/{version}``) prefix up in a dict and hands the request to that version's own
router, the way a Starlette ``Mount`` would, so the cost is the same at 1 and at 100 versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import URLPath
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import ASGIApp, Receive, Scope, Send

SCOPE_KEY = "trading_api.mount"
"""The scope key under which a request's :class:`Mount` is found, for middleware and endpoints."""


@dataclass(frozen=True)
class Mount:
    """Where a request landed: its global version (``None`` in standalone mode), module and version."""

    global_version: str | None
    module: str
    version: str
    prefix: str


def route_path(scope: Scope) -> str:
    """The request path below the app's root path (Starlette keeps its own helper private)."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path) and (len(path) == len(root_path) or path[len(root_path)] == "/"):
        return path[len(root_path) :]
    return path


def _segments(prefix: str) -> int:
    return prefix.count("/")


class VersionRoutes(BaseRoute):
    """Routes ``{prefix}/...`` to the ASGI app registered for that prefix."""

    def __init__(self, targets: Mapping[str, tuple[ASGIApp, Mount]]) -> None:
        self._targets = dict(targets)
        self._depths = sorted({_segments(prefix) for prefix in self._targets}, reverse=True)
        # url_for names: "<global>:<module>:<route>" in a monolith, "<version>:<route>" standalone.
        self._names = {
            (f"{m.global_version}:{m.module}" if m.global_version else m.version): prefix
            for prefix, (_, m) in self._targets.items()
            # Standalone: "<version>" is the module at /{version}, not core at /core/{version}.
            if m.global_version or prefix == f"/{m.version}"
        }
        if any(m.global_version is None for _, m in self._targets.values()):
            self._names.update({f"{m.module}:{m.version}": p for p, (_, m) in self._targets.items()})

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] not in ("http", "websocket"):
            return Match.NONE, {}
        path = route_path(scope)
        for depth in self._depths:
            end = 0
            for _ in range(depth):
                end = path.find("/", end + 1)
                if end == -1:
                    end = len(path)
                    break
            target = self._targets.get(path[:end])
            if target is not None:
                app, mount = target
                root_path = scope.get("root_path", "")
                return Match.FULL, {
                    "root_path": root_path + mount.prefix,
                    "app_root_path": scope.get("app_root_path", root_path),
                    "endpoint": app,
                    SCOPE_KEY: mount,
                }
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        app, _ = self._targets[scope[SCOPE_KEY].prefix]
        await app(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        label, _, route_name = name.rpartition(":")
        prefix = self._names.get(label)
        if prefix is None:
            raise NoMatchFound(name, path_params)
        app, _ = self._targets[prefix]
        inner = app.url_path_for(route_name, **path_params)  # type: ignore[attr-defined]
        return URLPath(path=prefix + str(inner), protocol=inner.protocol)


class NotServed(BaseRoute):
    """Answers every other request under the API prefix with a 404 that lists what is served."""

    def __init__(self, prefix: str, served: Mapping[str, Any]) -> None:
        self._prefix = prefix
        self._served = dict(served)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] not in ("http", "websocket"):
            return Match.NONE, {}
        path = route_path(scope)
        if not self._prefix or path == self._prefix or path.startswith(self._prefix + "/"):
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "no API version is served at this path"})
            return
        body = {"detail": f"no API version is served at {route_path(scope)}", "served": self._served}
        await JSONResponse(body, status_code=404)(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        # Names nothing; BaseRoute's default raises NotImplementedError, which breaks url_for of
        # every route after this one (a user's own routes in an embedding app).
        raise NoMatchFound(name, path_params)
