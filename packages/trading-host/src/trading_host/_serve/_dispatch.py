"""The hot path: find a request's module version by its URL prefix with a dict lookup.

Starlette matches routes by scanning a list, so a host that flattened every module version into
one router would slow down with each version added. This route looks the ``/{global}/{module}``
(or standalone ``/{version}``) prefix up in a dict, then matches the request against that
version's routes only, so the cost is the same at 1 and at 100 versions, and about what the same
routes cost in a hand-written app.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import APIRouter
from starlette.datastructures import URL, URLPath
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import BaseRoute, Match, NoMatchFound, Route, WebSocketRoute, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

from trading_core import is_included_router, served_routes

from .._asgi import ROLLOUT_KEY, SCOPE_KEY, ServedVersion, route_path
from ._errors import HANDLERS_KEY, PROBLEM_MEDIA_TYPE, HostHandlers
from ._limits import MessageLimit, TooLarge, counted
from ._startup import StartupFailed

ROUTE_KEY = "trading_api.route"
TARGET_KEY = "trading_api.target"
REDIRECT_KEY = "trading_api.redirect"
# A path segment that looks like a global version (see NotServed).
_LOOKS_VERSIONED = re.compile(r"^v[0-9]+$")


def _segments(prefix: str) -> int:
    return prefix.count("/")


def prefixed(routes: Sequence[BaseRoute], prefix: str) -> list[BaseRoute]:
    """Views of a module version's routes with ``prefix`` in front of their paths.

    A view is a shallow copy that shares the route's endpoint, dependencies and response models
    and only gets its path recompiled, so building one costs a regex, not a second FastAPI route.
    Matching a request against full paths spares a second router pass and a root path per
    request, which is what a ``Mount`` of the module's router would cost.
    """
    views: list[BaseRoute] = []
    for route in routes:
        if is_included_router(route):
            views.append(Included(route, prefix))
            continue
        if not isinstance(route, Route | WebSocketRoute):
            where = getattr(route, "path", None)
            raise TypeError(
                f"a {type(route).__name__}{f' at {where!r}' if where is not None else ''} under {prefix}: a module's "
                "routes must be HTTP or WebSocket routes (APIRoute, APIWebSocketRoute, or those of an APIRouter "
                "included with include_router), not mounts or hosts"
            )
        view = copy.copy(route)
        view.path = prefix + route.path
        view.path_regex, view.path_format, view.param_convertors = compile_path(view.path)
        views.append(view)
    return views


class Included(BaseRoute):
    """A router that a module version included with ``include_router``, under ``prefix``.

    From FastAPI 0.137, ``include_router`` keeps the included router as one route that serves its
    routes itself, with the prefix, dependencies and tags of every inclusion combined (before, it
    copied the routes, which :func:`prefixed` views like any other). Re-including it under the
    prefix with FastAPI's own ``include_router`` keeps all of that FastAPI's to apply.
    """

    def __init__(self, route: BaseRoute, prefix: str) -> None:
        holder = APIRouter()
        holder.routes.append(route)
        outer = APIRouter()
        outer.include_router(holder, prefix=prefix)
        (self._route,) = outer.routes
        # The methods of each path, for the 405's Allow header (see MethodNotAllowed).
        self._allowed = [
            (compile_path(served.path)[0], served.methods)
            for served in served_routes(outer.routes)
            if served.methods and served.path is not None
        ]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        return self._route.matches(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return self._route.url_path_for(name, **path_params)

    def methods_for(self, path: str) -> set[str]:
        """The HTTP methods its routes accept at ``path``."""
        return {m for regex, methods in self._allowed if regex.match(path) for m in methods}


@dataclass(frozen=True)
class Target:
    """What a prefix leads to: the app that runs the matched route (with the host's wrappers for
    this mount, if any), the mount, and the mount's prefixed route views."""

    app: ASGIApp
    mount: ServedVersion
    routes: Sequence[BaseRoute]


async def run_route(scope: Scope, receive: Receive, send: Send) -> None:
    """The innermost app of every target: run the route :class:`VersionRoutes` matched, or answer
    as a router does when none did (a redirect for a trailing slash, else 404 or a closed socket)."""
    route = scope.get(ROUTE_KEY)
    if route is not None:
        await route.handle(scope, receive, send)
        return
    redirect = scope.get(REDIRECT_KEY)
    if redirect is not None:
        await RedirectResponse(redirect)(scope, receive, send)
    elif scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1000, "reason": ""})
    else:
        # Raised, as a router's not-found is, so the app's exception handlers answer it.
        raise HTTPException(status_code=404)


class Chooser(Protocol):
    """What a rollout alias needs from the rollout: a global version per request, and a header saying so."""

    def choose(self, scope: Scope) -> str: ...

    def announce(self, send: Send, chosen: str) -> Send: ...


class Index(Protocol):
    """Answers a request with one global version's part of the landing page."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send, global_version: str) -> None: ...


class Starter(Protocol):
    """What the dispatcher needs from the runtime: whether the modules run, and a way to start them
    for a request that came before any lifespan ran (see ``Runtime.start_without_lifespan``)."""

    started: bool

    async def start_without_lifespan(self) -> None: ...


async def _start_modules(starter: Starter, scope: Scope, receive: Receive, send: Send) -> bool:
    """Start the modules for this request; answer it and return ``False`` if one cannot start."""
    try:
        await starter.start_without_lifespan()
    except StartupFailed as failed:  # logged by the runtime; this request gets the reason
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1011, "reason": "the Trading API cannot start"})
        else:
            body = {
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": failed.problem.message,
                "fix": failed.problem.fix,
            }
            await JSONResponse(body, status_code=503, media_type=PROBLEM_MEDIA_TYPE)(scope, receive, send)
        return False
    return True


class MethodNotAllowed:
    """Stands in for the matched route when a path exists but not with the request's method: a
    405 whose ``Allow`` lists every method of the path (a router names only its first route's)."""

    __slots__ = ("allow",)

    def __init__(self, routes: Sequence[BaseRoute], path: str) -> None:
        methods: set[str] = set()
        for route in routes:
            if isinstance(route, Included):
                methods |= route.methods_for(path)
            else:
                methods |= getattr(route, "methods", None) or set()
        self.allow = ", ".join(sorted(methods))

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Raised, as a route's 405 is, so the version's and the app's handlers answer it.
        raise HTTPException(status_code=405, headers={"Allow": self.allow})


class VersionRoutes(BaseRoute):
    """Routes ``{prefix}/...`` to the target registered for that prefix.

    ``aliases`` maps an alias prefix (``/api/latest/broker``) to the target prefix per global
    version (``{"v1": "/api/v1/broker", ...}``); ``chooser`` picks the global version of each
    request to an alias. Looked up only when no target matches, so other requests pay nothing.
    ``max_body_size`` bounds request bodies and WebSocket messages (see ``_limits``). Requests
    run with the host's exception handlers in front of the app's (see ``_errors``).
    """

    def __init__(
        self,
        targets: Mapping[str, Target],
        *,
        aliases: Mapping[str, Mapping[str, str]] | None = None,
        chooser: Chooser | None = None,
        max_body_size: int | None = None,
        starter: Starter | None = None,
    ) -> None:
        self._starter = starter
        self._max_body_size = max_body_size
        self._too_large = TooLarge(max_body_size) if max_body_size is not None else None
        self._handlers = HostHandlers()
        self._targets = dict(targets)
        self._aliases = {alias: dict(by_version) for alias, by_version in (aliases or {}).items()}
        self._chooser = chooser if self._aliases else None
        self._depths = sorted({_segments(prefix) for prefix in self._targets}, reverse=True)
        # url_for names: "<global>:<module>:<route>" in a monolith, "<version>:<route>" standalone.
        self._names = {
            (f"{t.mount.global_version}:{t.mount.module}" if t.mount.global_version else t.mount.version): prefix
            for prefix, t in self._targets.items()
            # Standalone: "<version>" is the module at /{version}, not core at /core/{version}.
            if t.mount.global_version or prefix == f"/{t.mount.version}"
        }
        if any(t.mount.global_version is None for t in self._targets.values()):
            self._names.update({f"{t.mount.module}:{t.mount.version}": p for p, t in self._targets.items()})

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] not in ("http", "websocket"):
            return Match.NONE, {}
        path = route_path(scope) if scope.get("root_path") else scope["path"]
        for depth in self._depths:
            end = 0
            for _ in range(depth):
                end = path.find("/", end + 1)
                if end == -1:
                    end = len(path)
                    break
            target = self._targets.get(path[:end])
            if target is not None:
                return Match.FULL, _select(target, scope, path)
            if self._chooser is not None and path[:end] in self._aliases:
                return self._match_alias(scope, path, end)
        return Match.NONE, {}

    def _match_alias(self, scope: Scope, path: str, end: int) -> tuple[Match, Scope]:
        assert self._chooser is not None
        chosen = self._chooser.choose(scope)
        prefix = self._aliases[path[:end]].get(chosen)
        if prefix is None:  # the chosen global version does not serve this module: the 404 says what is served
            return Match.NONE, {}
        # The request continues as a request to the chosen version, as a gateway's rewrite would.
        root_path = scope.get("root_path", "")
        rewritten = {**scope, "path": root_path + prefix + path[end:]}
        child = _select(self._targets[prefix], rewritten, prefix + path[end:])
        child["path"] = rewritten["path"]
        child[ROLLOUT_KEY] = chosen
        return Match.FULL, child

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        starter = self._starter
        if starter is not None and not starter.started and not await _start_modules(starter, scope, receive, send):
            return
        # Costs no call: the handler tables are built once per app, the headers read in place.
        outer = scope.get(HANDLERS_KEY)
        if outer is not None:
            handlers = self._handlers
            scope[HANDLERS_KEY] = handlers.tables if outer[0] is handlers.outer else handlers.adopt(outer)
        limit = self._max_body_size
        if limit is not None:
            if scope["type"] == "http":
                for name, value in scope["headers"]:
                    if name == b"content-length":
                        try:
                            if int(value) > limit:
                                scope[ROUTE_KEY] = self._too_large
                        except ValueError:
                            pass
                        break
                    if name == b"transfer-encoding":
                        receive = counted(receive, limit)
                        break
            else:
                await self._websocket(scope, receive, send, limit)
                return
        if self._chooser is not None and ROLLOUT_KEY in scope:
            send = self._chooser.announce(send, scope[ROLLOUT_KEY])
        await scope[TARGET_KEY].app(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        guard = MessageLimit(receive, limit)
        closing = send
        if self._chooser is not None and ROLLOUT_KEY in scope:
            send = self._chooser.announce(send, scope[ROLLOUT_KEY])
        try:
            await scope[TARGET_KEY].app(scope, guard.receive, send)
        except WebSocketDisconnect:
            if not guard.tripped:
                raise  # the app's to answer for; the disconnect the guard made up is the host's
        if guard.tripped:
            await guard.close(closing)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        label, _, route_name = name.rpartition(":")
        prefix = self._names.get(label)
        if prefix is not None:
            for route in self._targets[prefix].routes:
                try:
                    return route.url_path_for(route_name, **path_params)
                except NoMatchFound:
                    pass
        raise NoMatchFound(name, path_params)


def _select(target: Target, scope: Scope, path: str) -> Scope:
    """The child scope for a request under ``target``: its route's, as a router would pick it
    (the first full match, else the first partial one, which answers 405 naming the methods of
    every partial match), plus the mount."""
    partial: Scope | None = None
    partials: list[BaseRoute] | None = None
    for route in target.routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            child["route"] = child[ROUTE_KEY] = route
            child[SCOPE_KEY] = target.mount
            child[TARGET_KEY] = target
            return child
        if match is Match.PARTIAL:
            if partials is None:
                child["route"] = route
                partial, partials = child, [route]
            else:
                partials.append(route)
    if partial is not None and partials is not None:
        partial[ROUTE_KEY] = MethodNotAllowed(partials, path)
        partial[SCOPE_KEY] = target.mount
        partial[TARGET_KEY] = target
        return partial
    child = {SCOPE_KEY: target.mount, ROUTE_KEY: None, TARGET_KEY: target}
    if scope["type"] == "http" and path != target.mount.prefix + "/":
        # A router redirects /orders/ to /orders (and back) when only the other form exists.
        other = path[:-1] if path.endswith("/") else path + "/"
        probe = {**scope, "path": scope.get("root_path", "") + other}
        if any(route.matches(probe)[0] is not Match.NONE for route in target.routes):
            child[REDIRECT_KEY] = str(URL(scope=probe))
    return child


class Rooted(BaseRoute):
    """``route``, an app-level route of the platform (the module documents), served below ``root``
    in a user's app: the request reaches it with ``root`` added to its root path, as a mount would
    hand it on, so it answers and writes its links as it does at the top of an app of its own."""

    def __init__(self, route: BaseRoute, root: str) -> None:
        self._route = route
        self._root = root

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = route_path(scope)
        if not path.startswith(self._root + "/"):
            return Match.NONE, {}
        root_path = scope.get("root_path", "") + self._root
        match, child = self._route.matches({**scope, "root_path": root_path})
        return (match, {**child, "root_path": root_path}) if match is not Match.NONE else (match, child)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)


class NotServed(BaseRoute):
    """Answers every other request under the API prefix with a 404 that says what is missing and
    lists what is served (``served``), or, for ``{prefix}/{global}`` of a served global version,
    with that version's part of the landing page (``index``).

    With an empty prefix it answers every path, unless ``claim_all`` is off (an app the user
    shares, :func:`embed`): then only paths under a served global version or alias, or under a
    segment that looks like one (``/v3/...``), so that the user's own paths stay theirs.
    """

    def __init__(
        self,
        prefix: str,
        served: Mapping[str, Any],
        *,
        index: Index | None = None,
        claim_all: bool = True,
    ) -> None:
        self._prefix = prefix
        self._served = dict(served)
        self._index = index
        self._rows: Mapping[str, Mapping[str, str]] = self._served.get("global_versions", {})
        self._aliases: Mapping[str, Any] = self._served.get("aliases", {})
        self._claim_all = claim_all or bool(prefix)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] not in ("http", "websocket"):
            return Match.NONE, {}
        path = route_path(scope)
        if not self._prefix:
            first = self._first(path)
            if self._claim_all or first in self._rows or first in self._aliases or _LOOKS_VERSIONED.match(first):
                return Match.FULL, {}
            return Match.NONE, {}
        if path == self._prefix or path.startswith(self._prefix + "/"):
            return Match.FULL, {}
        return Match.NONE, {}

    def _first(self, path: str) -> str:
        return path[len(self._prefix) :].lstrip("/").partition("/")[0]

    def explain(self, path: str) -> tuple[str, str | None]:
        """What is missing at ``path``, and the global version whose index it names, if it does."""
        segments = path[len(self._prefix) :].lstrip("/").split("/")
        first = segments[0]
        module = segments[1] if len(segments) > 1 else ""
        if "standalone" in self._served:
            serves = ", ".join(f"{m} {v}" for m, v in self._served["standalone"].items())
            return f"no API version is served at {path}; this deployment serves {serves}", None
        if first in self._rows:
            row = self._rows[first]
            if not module and len(segments) <= 2:
                return "", first
            if module not in row:
                return f"no module {module} in global version {first} at {path}; {first} serves: {', '.join(row)}", None
            return f"no route of {module} {row[module]} in global version {first} at {path}", None
        if first in self._aliases:
            return f"no module {module} at {path} in the global version the alias {first} chose for this caller", None
        served = ", ".join([*self._rows, *self._aliases]) or "none"
        if not first:
            return f"no API version is served at {path}; served: {served}", None
        return f"no global version {first} is served at {path}; served: {served}", None

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail, index = self.explain(route_path(scope))
        if scope["type"] == "websocket":
            reason = (detail or "no API version is served at this path").encode()[:123].decode("utf-8", "ignore")
            await send({"type": "websocket.close", "code": 1008, "reason": reason})
            return
        if index is not None:
            if self._index is not None:
                await self._index(scope, receive, send, index)
                return
            detail = f"no API version is served at {route_path(scope)}"
        body = {"detail": detail, "served": self._served}
        await JSONResponse(body, status_code=404)(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        # Names nothing; BaseRoute's default raises NotImplementedError, which breaks url_for of
        # every route after this one (a user's own routes in an embedding app).
        raise NoMatchFound(name, path_params)
