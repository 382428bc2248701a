"""The hot path: find a request's module version by its URL prefix with a dict lookup.

Starlette matches routes by scanning a list, so a host that flattened every module version into
one router would slow down with each version added. This route looks the ``/{global}/{module}``
(or standalone ``/{version}``) prefix up in a dict and hands the request to that version's own
router, the way a Starlette ``Mount`` would, so the cost is the same at 1 and at 100 versions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.datastructures import URLPath
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SCOPE_KEY = "trading_api.mount"
"""The scope key under which a request's :class:`Mount` is found, for middleware and endpoints."""
ROLLOUT_KEY = "trading_api.rollout"
"""The scope key holding the global version a rollout alias chose for this request."""

Headers = Sequence[tuple[bytes, bytes]]
# The messages that open a response: an HTTP response, a WebSocket accept, a WebSocket denial.
_STARTS = frozenset({"http.response.start", "websocket.accept", "websocket.http.response.start"})


def with_headers(send: Send, headers: Headers) -> Send:
    """``send`` that adds ``headers`` to the response's start, to a WebSocket handshake's accept, or
    to its denial response."""

    async def send_with_headers(message: Message) -> None:
        if message["type"] in _STARTS:
            message = {**message, "headers": [*message.get("headers", ()), *headers]}
        await send(message)

    return send_with_headers


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


class Chooser(Protocol):
    """What a rollout alias needs from the rollout: a global version per request, and a header saying so."""

    def choose(self, scope: Scope) -> str: ...

    def announce(self, send: Send, chosen: str) -> Send: ...


class VersionRoutes(BaseRoute):
    """Routes ``{prefix}/...`` to the ASGI app registered for that prefix.

    ``routers`` are the routers that ``url_for`` names resolve in, when a target is a router
    wrapped in more ASGI (metrics, a lifecycle); by default the targets themselves.
    ``aliases`` maps an alias prefix (``/api/latest/broker``) to the target prefix per global
    version (``{"v1": "/api/v1/broker", ...}``); ``chooser`` picks the global version of each
    request to an alias. Looked up only when no target matches, so other requests pay nothing.
    """

    def __init__(
        self,
        targets: Mapping[str, tuple[ASGIApp, Mount]],
        *,
        routers: Mapping[str, ASGIApp] | None = None,
        aliases: Mapping[str, Mapping[str, str]] | None = None,
        chooser: Chooser | None = None,
    ) -> None:
        self._targets = dict(targets)
        self._routers = {prefix: app for prefix, (app, _) in self._targets.items()}
        self._routers.update(routers or {})
        self._aliases = {alias: dict(by_version) for alias, by_version in (aliases or {}).items()}
        self._chooser = chooser if self._aliases else None
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
            if self._chooser is not None and path[:end] in self._aliases:
                return self._match_alias(scope, path[:end])
        return Match.NONE, {}

    def _match_alias(self, scope: Scope, alias: str) -> tuple[Match, Scope]:
        assert self._chooser is not None
        chosen = self._chooser.choose(scope)
        prefix = self._aliases[alias].get(chosen)
        if prefix is None:  # the chosen global version does not serve this module: the 404 says what is served
            return Match.NONE, {}
        app, mount = self._targets[prefix]
        root_path = scope.get("root_path", "")
        return Match.FULL, {
            "root_path": root_path + alias,
            "app_root_path": scope.get("app_root_path", root_path),
            "endpoint": app,
            SCOPE_KEY: mount,
            ROLLOUT_KEY: chosen,
        }

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        app, _ = self._targets[scope[SCOPE_KEY].prefix]
        chosen = scope.get(ROLLOUT_KEY)
        if chosen is not None and self._chooser is not None:
            send = self._chooser.announce(send, chosen)
        await app(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        label, _, route_name = name.rpartition(":")
        prefix = self._names.get(label)
        if prefix is None:
            raise NoMatchFound(name, path_params)
        inner = self._routers[prefix].url_path_for(route_name, **path_params)  # type: ignore[attr-defined]
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
