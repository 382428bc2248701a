"""The request body limit (``[server] max_body_size``) of the module versions the host serves.

The dispatcher reads a request's headers before running it: a ``Content-Length`` over the limit
is answered 413 at once, before a byte of the body is read; a chunked body is counted as it
arrives and answered 413 as soon as it passes the limit; a body with a ``Content-Length`` within
the limit is never longer (the server holds the client to it), so it costs nothing more. A
WebSocket message over the limit closes the socket with 1009, as ``trading-host serve`` has
uvicorn do (``ws_max_size``) before the message is even read; with another server, the host does
it on the message the server hands over.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

CLOSE_TOO_BIG = 1009
"""The WebSocket close code for a message too big to process (RFC 6455)."""


def too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"the request body is larger than the {limit} bytes this server accepts")


class TooLarge:
    """Stands in for the matched route of a request whose ``Content-Length`` is over the limit: the
    413 is raised, as a route's errors are, so that the version's and the app's handlers answer
    it, inside the version's wrappers (deprecation headers, metrics)."""

    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        self.limit = limit

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise too_large(self.limit)


def counted(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises a 413 once the body has passed ``limit`` bytes. FastAPI lets an
    ``HTTPException`` raised while it reads the body through, so the handlers answer it."""
    seen = 0

    async def receive_counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(limit)
        return message

    return receive_counted


class MessageLimit:
    """A WebSocket's ``receive`` that hands the app a disconnect (code 1009) instead of a message
    over ``limit`` bytes; the dispatcher then closes the socket with 1009 once the app returns."""

    __slots__ = ("_receive", "limit", "tripped")

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive = receive
        self.limit = limit
        self.tripped = False

    async def receive(self) -> Message:
        if self.tripped:
            return {"type": "websocket.disconnect", "code": CLOSE_TOO_BIG}
        message: Message = await self._receive()
        if message["type"] == "websocket.receive" and _size_over(message, self.limit):
            self.tripped = True
            return {"type": "websocket.disconnect", "code": CLOSE_TOO_BIG}
        return message

    async def close(self, send: Send) -> None:
        reason = f"a message may hold at most {self.limit} bytes"
        with suppress(RuntimeError, OSError):  # the app closed the socket itself, or the client is gone
            await send({"type": "websocket.close", "code": CLOSE_TOO_BIG, "reason": reason})


def _size_over(message: Message, limit: int) -> bool:
    data: Any = message.get("bytes")
    if data is not None:
        return len(data) > limit
    text: str = message.get("text") or ""
    # A character is 1 to 4 bytes of UTF-8: encode only when the length alone cannot tell.
    return len(text) > limit or (len(text) * 4 > limit and len(text.encode("utf-8", "surrogatepass")) > limit)
