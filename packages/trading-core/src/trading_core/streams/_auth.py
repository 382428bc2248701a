"""Who is on a connection: the optional authentication hook of a stream endpoint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.websockets import WebSocket


@dataclass(frozen=True)
class Identity:
    """Who a connection acts for. Routes with ``per_identity=True`` key their topics by it, so a
    connection only ever shares a feed with connections of the same account."""

    account: str


class StreamRefused(Exception):
    """Raised by an authentication hook to refuse a connection during the handshake.

    The client gets an HTTP response with ``status_code`` and the body ``{"detail": message}``
    when the server supports the ASGI WebSocket denial-response extension (uvicorn does), else
    the handshake is closed with code 1008 and ``message`` as the reason.
    """

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


Authenticator = Callable[[WebSocket], Awaitable[Identity | None]]
"""An authentication hook: given the WebSocket before it is accepted (headers, query string,
client), return the connection's :class:`Identity`, ``None`` for an anonymous connection, or raise
:class:`StreamRefused`."""
