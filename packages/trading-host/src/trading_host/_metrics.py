"""Usage metrics in Prometheus format at ``/metrics``, with prometheus-client.

- ``trading_api_requests_total{module, version, global_version, status_class}``: requests and
  WebSocket handshakes (an accepted handshake is ``1xx``: 101 Switching Protocols);
- ``trading_api_request_duration_seconds{module, version, global_version}``: HTTP latency;
- ``trading_api_deprecated_requests_total{module, version, client}``: calls to a version past its
  deprecation date, by client (the API key's hash, or a configured header or cookie), so a team
  can see who still has to migrate;
- ``trading_api_rollout_requests_total{alias, global_version}``: where a rollout alias sent callers.

With several worker processes, prometheus-client's multiprocess mode adds up every worker's
numbers: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder before the workers start
(``trading-host serve --workers N`` does it for you).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, make_asgi_app
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.datastructures import URLPath
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trading_core import Lifecycle, midnight_utc

from ._caller import CallerKey
from ._config import MetricsConfig
from ._dispatch import Mount, route_path
from ._multiprocess import MULTIPROC_ENV

OTHER_CLIENTS = "other"
_CLASSES = {n: f"{n}xx" for n in range(1, 6)}


class Metrics:
    """The metrics of one app factory, in a registry of their own (so that several apps in one
    process, as in tests, do not collide in prometheus-client's global registry)."""

    def __init__(self, config: MetricsConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock
        self.client = CallerKey.parse(config.client, shown=True)
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "trading_api_requests",
            "Requests and WebSocket handshakes, by module version, global version and status class.",
            ["module", "version", "global_version", "status_class"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "trading_api_request_duration_seconds",
            "Time to answer an HTTP request, body included.",
            ["module", "version", "global_version"],
            registry=self.registry,
        )
        self.deprecated = Counter(
            "trading_api_deprecated_requests",
            "Calls to a module version past its deprecation date, by client.",
            ["module", "version", "client"],
            registry=self.registry,
        )
        self.rollout = Counter(
            "trading_api_rollout_requests",
            "Requests through a rollout alias, by the global version chosen.",
            ["alias", "global_version"],
            registry=self.registry,
        )
        self._clients: set[str] = set()

    def instrument(self, app: ASGIApp, mount: Mount, lifecycle: Lifecycle | None) -> ASGIApp:
        """``app`` with its requests counted and timed under ``mount``'s labels."""
        return _Instrumented(self, app, mount, lifecycle)

    def rollout_observer(self, alias: str) -> Callable[[str], None]:
        def observe(chosen: str) -> None:
            self.rollout.labels(alias, chosen).inc()

        return observe

    def count_deprecated(self, mount: Mount, scope: Scope) -> None:
        client = self.client.label(scope)
        # A client label is a time series in every scrape: cap them, so that callers inventing
        # identities cannot grow the memory of the process (and of Prometheus) without bound.
        if client not in self._clients:
            if len(self._clients) >= self.config.max_clients:
                client = OTHER_CLIENTS
            else:
                self._clients.add(client)
        self.deprecated.labels(mount.module, mount.version, client).inc()

    def exposition(self) -> ASGIApp:
        """prometheus-client's own ASGI app (content negotiation, compression) over this factory's
        registry, or over every worker's files in multiprocess mode."""
        registry = self.registry
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        app: ASGIApp = make_asgi_app(registry)
        return app

    def route(self) -> BaseRoute:
        return MetricsRoute(self.config.path, self.exposition())


class _Instrumented:
    __slots__ = ("_by_class", "app", "deprecated_at", "labels", "latency", "metrics", "mount")

    def __init__(self, metrics: Metrics, app: ASGIApp, mount: Mount, lifecycle: Lifecycle | None) -> None:
        self.metrics = metrics
        self.app = app
        self.mount = mount
        self.labels = (mount.module, mount.version, mount.global_version or "")
        self.latency = metrics.latency.labels(*self.labels)
        self.deprecated_at = midnight_utc(lifecycle.deprecation) if lifecycle is not None else None
        self._by_class: dict[int, Any] = {}

    def _count(self, status: int) -> None:
        kind = status // 100 if 100 <= status < 600 else 5
        child = self._by_class.get(kind)
        if child is None:
            child = self._by_class[kind] = self.metrics.requests.labels(*self.labels, _CLASSES[kind])
        child.inc()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.deprecated_at is not None and self.metrics.clock() >= self.deprecated_at:
            self.metrics.count_deprecated(self.mount, scope)
        if scope["type"] != "http":
            await self._websocket(scope, receive, send)
            return
        status = 500  # an exception before the response starts becomes a 500 further out
        start = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except HTTPException as exc:  # a router's 404 or 405, answered by the app's handlers further out
            status = exc.status_code
            raise
        finally:
            self.latency.observe(time.perf_counter() - start)
            self._count(status)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        counted = False

        async def send_status(message: Message) -> None:
            nonlocal counted
            if not counted:
                kind = message["type"]
                if kind == "websocket.accept":
                    counted = True
                    self._count(101)
                elif kind == "websocket.http.response.start":
                    counted = True
                    self._count(message["status"])
                elif kind == "websocket.close":  # closed before accepting: the server answers 403
                    counted = True
                    self._count(403)
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            if not counted:
                self._count(500)


class MetricsRoute(BaseRoute):
    """``GET {path}``: the metrics, in the format the scraper asks for."""

    def __init__(self, path: str, app: ASGIApp) -> None:
        self.path = path
        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and route_path(scope) == self.path:
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            response = Response("method not allowed", status_code=405, headers={"Allow": "GET, HEAD"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)
