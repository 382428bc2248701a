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
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry, make_asgi_app
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.datastructures import URLPath
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trading_core import Lifecycle, midnight_utc

from .._asgi import ServedVersion, route_path
from .._caller import CallerKey
from .._plan._config import MetricsConfig
from ._multiprocess import MULTIPROC_ENV
from ._recorders import LocalRecorder, Recorder, Series, SharedRecorder

OTHER_CLIENTS = "other"
_clock = time.perf_counter


class Metrics:
    """The metrics of one app factory: counted in this process, or shared by every worker process
    when ``PROMETHEUS_MULTIPROC_DIR`` is set (see ``_recorders``)."""

    def __init__(self, config: MetricsConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock
        self.client = CallerKey.parse(config.client, shown=True)
        self.shared = bool(os.environ.get(MULTIPROC_ENV))
        self.recorder: Recorder = SharedRecorder() if self.shared else LocalRecorder()
        self._clients: set[str] = set()

    def instrument(self, app: ASGIApp, mount: ServedVersion, lifecycle: Lifecycle | None) -> ASGIApp:
        """``app`` with its requests counted and timed under ``mount``'s labels."""
        series = self.recorder.series(mount.module, mount.version, mount.global_version or "")
        return _Instrumented(self, series, app, mount, lifecycle)

    def rollout_observer(self, alias: str) -> Callable[[str], None]:
        recorder = self.recorder

        def observe(chosen: str) -> None:
            recorder.rollout(alias, chosen)

        return observe

    def count_deprecated(self, mount: ServedVersion, scope: Scope) -> None:
        client = self.client.label(scope)
        # A client label is a time series in every scrape: cap them, so that callers inventing
        # identities cannot grow the memory of the process (and of Prometheus) without bound.
        if client not in self._clients:
            if len(self._clients) >= self.config.max_clients:
                client = OTHER_CLIENTS
            else:
                self._clients.add(client)
        self.recorder.deprecated(mount.module, mount.version, client)

    def exposition(self) -> ASGIApp:
        """prometheus-client's own ASGI app (content negotiation, compression) over this factory's
        counts, or over every worker's files in multiprocess mode."""
        registry = self.recorder.registry
        if self.shared:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        app: ASGIApp = make_asgi_app(registry)
        return app

    def route(self, path: str | None = None) -> BaseRoute:
        """The route serving the metrics at ``path`` (by default the configured ``[metrics] path``)."""
        return MetricsRoute(path or self.config.path, self.exposition())


class _Instrumented:
    __slots__ = ("app", "deprecated_at", "metrics", "mount", "series")

    def __init__(
        self, metrics: Metrics, series: Series, app: ASGIApp, mount: ServedVersion, lifecycle: Lifecycle | None
    ) -> None:
        self.metrics = metrics
        self.series = series
        self.app = app
        self.mount = mount
        self.deprecated_at = midnight_utc(lifecycle.deprecation) if lifecycle is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.deprecated_at is not None and self.metrics.clock() >= self.deprecated_at:
            self.metrics.count_deprecated(self.mount, scope)
        if scope["type"] != "http":
            await self._websocket(scope, receive, send)
            return
        status = 500  # an exception before the response starts becomes a 500 further out

        # A plain function handing back send's awaitable, not a coroutine of its own: the app
        # awaits it just the same, and no coroutine is made and run per message (two a request).
        def send_status(message: Message) -> Awaitable[None]:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            return send(message)

        series = self.series
        start = _clock()
        try:
            await self.app(scope, receive, send_status)
        except HTTPException as exc:  # a router's 404 or 405, answered by the app's handlers further out
            status = exc.status_code
            raise
        finally:
            series.request(status, _clock() - start)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        counted = False

        async def send_status(message: Message) -> None:
            nonlocal counted
            if not counted:
                kind = message["type"]
                if kind == "websocket.accept":
                    counted = True
                    self.series.request(101, None)
                elif kind == "websocket.http.response.start":
                    counted = True
                    self.series.request(message["status"], None)
                elif kind == "websocket.close":  # closed before accepting: the server answers 403
                    counted = True
                    self.series.request(403, None)
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            if not counted:
                self.series.request(500, None)


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
