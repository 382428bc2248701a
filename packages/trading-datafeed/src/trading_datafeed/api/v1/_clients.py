"""Who a request comes from, and the bound on one client's stream connections.

A client is the address the server sees (the ASGI scope's ``client``): behind a reverse proxy,
uvicorn puts the address from ``X-Forwarded-For`` there when the proxy is trusted
(``--forwarded-allow-ips``, 127.0.0.1 by default), so every user behind the proxy is told apart.
"""

from __future__ import annotations

from collections import Counter

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

CLOSE_TOO_MANY_CONNECTIONS = 1008
"""The close code of a stream connection refused for its client's bound (policy violation)."""


def client_of(scope: Scope) -> str:
    """The address a request or connection comes from."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class LimitConnections:
    """ASGI middleware: each client holds at most ``most`` WebSocket connections at once (counted
    in ``counts``, shared by every version of the process); one more is accepted and closed at
    once with code 1008 and a reason a browser can read."""

    def __init__(self, app: ASGIApp, *, counts: Counter[str], most: int) -> None:
        self.app = app
        self.counts = counts
        self.most = most

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        client = client_of(scope)
        if self.counts[client] >= self.most:
            websocket = WebSocket(scope, receive, send)
            await websocket.accept()
            reason = f"too many stream connections from {client}: at most {self.most} at once"
            await websocket.close(CLOSE_TOO_MANY_CONNECTIONS, reason.encode()[:123].decode(errors="ignore"))
            return
        self.counts[client] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.counts[client] -= 1
            if not self.counts[client]:
                del self.counts[client]
