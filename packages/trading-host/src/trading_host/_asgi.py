"""The bottom of the host: the request's scope keys and the small ASGI helpers every layer shares.

Nothing here imports the rest of the host, so the dispatcher, the wrappers and the documents all
read a request's :class:`ServedVersion` and answer with extra headers the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import Message, Scope, Send

SCOPE_KEY = "trading_api.mount"
"""The scope key under which a request's :class:`ServedVersion` is found, for middleware and endpoints."""
ROLLOUT_KEY = "trading_api.rollout"
"""The scope key holding the global version a rollout alias chose for this request."""

Headers = Sequence[tuple[bytes, bytes]]
# The messages that open a response: an HTTP response, a WebSocket accept, a WebSocket denial.
_STARTS = frozenset({"http.response.start", "websocket.accept", "websocket.http.response.start"})


@dataclass(frozen=True)
class ServedVersion:
    """Where a request landed: its global version (``None`` in standalone mode), module and version,
    and the URL prefix the module version is served under."""

    global_version: str | None
    module: str
    version: str
    prefix: str


def with_headers(send: Send, headers: Headers) -> Send:
    """``send`` that adds ``headers`` to the response's start, to a WebSocket handshake's accept, or
    to its denial response."""

    async def send_with_headers(message: Message) -> None:
        if message["type"] in _STARTS:
            message = {**message, "headers": [*message.get("headers", ()), *headers]}
        await send(message)

    return send_with_headers


def route_path(scope: Scope) -> str:
    """The request path below the app's root path (Starlette keeps its own helper private)."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path) and (len(path) == len(root_path) or path[len(root_path)] == "/"):
        return path[len(root_path) :]
    return path
