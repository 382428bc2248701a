"""What the host does to every request of a deprecated module version; no endpoint does it itself.

From the deprecation date, every HTTP response and the WebSocket handshake carry::

    Deprecation: @1793491200                                  (RFC 9745: Unix seconds)
    Sunset: Tue, 01 Jun 2027 00:00:00 GMT                     (RFC 8594: an HTTP-date)
    Link: </docs/broker/migration-v1-to-v2>; rel="deprecation", </docs/...>; rel="sunset",
          </api/v2/broker>; rel="successor-version"
    X-API-Deprecation, X-API-Sunset-Date, X-API-Migration-Guide  (the seed's headers)

From the sunset date, an HTTP request gets 410 Gone with an ``application/problem+json`` body
(RFC 9457) naming the successor and the guide, and a WebSocket handshake is refused: with a real
410 response where the server offers the ASGI ``websocket.http.response`` extension (uvicorn
does), else closed with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

# FastAPI's own routing runs endpoints through this, so it is there wherever FastAPI is.
from starlette._exception_handler import wrap_app_handling_exceptions
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from trading_core import Lifecycle, midnight_utc

from .._asgi import Headers, ServedVersion, with_headers

PROBLEM_TYPE = "urn:trading-api:problem:version-sunset"
PROBLEM_MEDIA_TYPE = b"application/problem+json"
# A WebSocket close reason must fit in a control frame: 123 bytes of UTF-8 at most (RFC 6455).
_REASON_LIMIT = 123


def http_date(moment: float) -> str:
    """An IMF-fixdate, such as ``Tue, 01 Jun 2027 00:00:00 GMT``."""
    return format_datetime(datetime.fromtimestamp(moment, UTC), usegmt=True)


def _local(url: str, root_path: str) -> str:
    """A path on this deployment gets the app's root path in front, an absolute URL stays as it is."""
    return root_path + url if url.startswith("/") else url


class DeprecatedVersion:
    """The ASGI app of a module version with a lifecycle: passes requests through unchanged
    before the deprecation date, adds the headers until the sunset date, answers 410 from then."""

    __slots__ = (
        "_gone",
        "_headers",
        "app",
        "clock",
        "deprecated_at",
        "lifecycle",
        "mount",
        "successor_url",
        "sunset_at",
    )

    def __init__(
        self,
        app: ASGIApp,
        mount: ServedVersion,
        lifecycle: Lifecycle,
        clock: Callable[[], float],
        successor_url: str | None,
    ) -> None:
        self.app = app
        self.mount = mount
        self.lifecycle = lifecycle
        self.clock = clock
        self.successor_url = successor_url
        self.deprecated_at = midnight_utc(lifecycle.deprecation)
        self.sunset_at = midnight_utc(lifecycle.sunset)
        # Built once per root path (one, in practice), not per request.
        self._headers: dict[str, list[tuple[bytes, bytes]]] = {}
        self._gone: dict[str, tuple[bytes, str]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        now = self.clock()
        if now < self.deprecated_at:
            await self.app(scope, receive, send)
            return
        root_path = scope.get("app_root_path", scope.get("root_path", ""))
        headers = self._headers.get(root_path)
        if headers is None:
            headers = self._headers[root_path] = self.headers(root_path)
        if now >= self.sunset_at:
            await self.refuse(scope, receive, send, headers, root_path)
            return
        # A router answers "no such route" (404, 405) by raising, for the app's exception handlers
        # further out, which would send the answer past these headers: run the handlers here.
        conn = Request(scope, receive) if scope["type"] == "http" else WebSocket(scope, receive, send)
        await wrap_app_handling_exceptions(self.app, conn)(scope, receive, with_headers(send, headers))

    def headers(self, root_path: str = "") -> list[tuple[bytes, bytes]]:
        """The deprecation headers, local URLs under ``root_path``."""
        lifecycle, mount = self.lifecycle, self.mount
        guide = _local(lifecycle.migration_guide, root_path)
        links = [f'<{guide}>; rel="deprecation"', f'<{guide}>; rel="sunset"']
        if self.successor_url is not None:
            links.append(f'<{_local(self.successor_url, root_path)}>; rel="successor-version"')
        values = {
            "deprecation": f"@{int(self.deprecated_at)}",
            "sunset": http_date(self.sunset_at),
            "link": ", ".join(links),
            "x-api-deprecation": (
                f"{mount.module.title()} API {mount.version} is deprecated. "
                f"Migrate to {lifecycle.successor} by {lifecycle.sunset.isoformat()}"
            ),
            "x-api-sunset-date": lifecycle.sunset.isoformat(),
            "x-api-migration-guide": guide,
        }
        return [(name.encode(), value.encode("latin-1")) for name, value in values.items()]

    def problem(self, root_path: str = "") -> dict[str, Any]:
        """The 410 body: RFC 9457 members, and the lifecycle as extension members."""
        lifecycle, mount = self.lifecycle, self.mount
        guide = _local(lifecycle.migration_guide, root_path)
        where = f" at {_local(self.successor_url, root_path)}" if self.successor_url else ""
        return {
            "type": PROBLEM_TYPE,
            "title": "API version sunset",
            "status": 410,
            "detail": (
                f"{mount.module} {mount.version} was sunset on {lifecycle.sunset.isoformat()} and is no longer "
                f"served. Use {mount.module} {lifecycle.successor}{where}; migration guide: {guide}"
            ),
            "module": mount.module,
            "version": mount.version,
            "sunset": lifecycle.sunset.isoformat(),
            "successor": lifecycle.successor,
            "successor_url": _local(self.successor_url, root_path) if self.successor_url else None,
            "migration_guide": guide,
        }

    def _gone_response(self, root_path: str) -> tuple[bytes, str]:
        found = self._gone.get(root_path)
        if found is None:
            lifecycle, mount = self.lifecycle, self.mount
            reason = f"{mount.module} {mount.version} sunset {lifecycle.sunset}; use {lifecycle.successor}: "
            reason += _local(lifecycle.migration_guide, root_path)
            # Cut at a character boundary: the reason is UTF-8 text, whatever the guide holds.
            reason = reason.encode()[:_REASON_LIMIT].decode(errors="ignore")
            found = self._gone[root_path] = (json.dumps(self.problem(root_path)).encode(), reason)
        return found

    async def refuse(self, scope: Scope, receive: Receive, send: Send, headers: Headers, root_path: str) -> None:
        body, reason = self._gone_response(root_path)
        start = [(b"content-type", PROBLEM_MEDIA_TYPE), (b"content-length", str(len(body)).encode()), *headers]
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 410, "headers": start})
            await send({"type": "http.response.body", "body": body})
            return
        await receive()  # websocket.connect
        if "websocket.http.response" in scope.get("extensions", {}):
            await send({"type": "websocket.http.response.start", "status": 410, "headers": start})
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 1008, "reason": reason})
