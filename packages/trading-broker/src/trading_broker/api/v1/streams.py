"""Broker API v1 streams at ``/ws``: the default account's ``orders``, ``positions``,
``executions`` and ``equity``, each update the body v1's REST endpoints answer for that object."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.websockets import WebSocket

from trading_core.streams import Authenticator, Identity, StreamRefused, StreamRoute

from ..._module import BrokerModule
from .._streams import broker_stream_routes
from ._schemas import WIRE


def stream_routes(module: BrokerModule) -> list[StreamRoute[Any, Any]]:
    """The four routes, all following the default account (one shared topic per route and filter)."""
    account = module.default_account
    return broker_stream_routes(
        module.service,
        WIRE,
        account_of=lambda _: account,
        per_identity=False,
        equity_interval=module.settings.equity_interval,
    )


def check_origin(allowed: list[str]) -> Authenticator:
    """Refuse handshakes from web pages of other sites than the server's own and ``allowed``.

    v1 has no authentication, and a browser lets any page open a WebSocket to any server (it
    enforces no CORS on them), so without this a page of any site could read the default
    account's orders from a server on the user's machine. Clients that are not browsers send no
    ``Origin`` and are let through.
    """
    anyone = "*" in allowed
    listed = frozenset(allowed)

    async def authenticate(websocket: WebSocket) -> Identity | None:
        origin = websocket.headers.get("origin")
        if origin is None or anyone:
            return None
        origin = origin.strip().rstrip("/").lower()
        if origin in listed or urlsplit(origin).netloc == websocket.headers.get("host", "").lower():
            return None
        raise StreamRefused(
            403,
            f"pages of {origin} may not open broker API v1's streams, which have no authentication; "
            "add the origin to stream_origins in [modules.broker], or use API v2",
        )

    return authenticate
