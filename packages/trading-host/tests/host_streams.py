"""Modules with WebSocket streams, built from objects, for the AsyncAPI and specs tests.

``ticker`` v1 has one stream endpoint with a shared route (``ticks``) and a per-account one
(``balances``, authenticated by a ``token`` query parameter); v2 has two endpoints. ``quiet`` has
no streams; ``clash`` has streams and declares ``/asyncapi.json`` itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.websockets import WebSocket

from trading_core import Module, ModuleApi
from trading_core.streams import Identity, StreamRoute, SubscriptionRefused, add_stream_endpoint

__all__ = ["ClashV1", "QuietV1", "TickerModule", "TickerV1", "TickerV2"]

SYMBOLS = ("AAPL", "MSFT")


class TickParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(description="A ticker, any case")


class Tick(BaseModel):
    """One price of one symbol."""

    symbol: str
    price: float
    note: str | None = None


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Balance(BaseModel):
    """The cash of the subscriber's account."""

    account: str
    cash: float


def _normalize(params: TickParams) -> TickParams:
    symbol = params.symbol.strip().upper()
    if symbol not in SYMBOLS:
        raise SubscriptionRefused(f"unknown symbol {params.symbol!r}")
    return TickParams(symbol=symbol)


async def _ticks(params: TickParams, identity: Identity | None) -> AsyncIterator[Tick]:
    yield Tick(symbol=params.symbol, price=1.5)
    await asyncio.Event().wait()  # runs until the last subscriber leaves
    yield Tick(symbol=params.symbol, price=0.0)  # never reached


async def _balances(params: NoParams, identity: Identity | None) -> AsyncIterator[Balance]:
    assert identity is not None
    yield Balance(account=identity.account, cash=100.0)
    await asyncio.Event().wait()
    yield Balance(account=identity.account, cash=0.0)  # never reached


async def _token(websocket: WebSocket) -> Identity | None:
    token = websocket.query_params.get("token")
    return Identity(token) if token else None


def _routes() -> list[StreamRoute[Any, Any]]:
    return [
        StreamRoute("ticks", TickParams, Tick, _ticks, normalize=_normalize, summary="Prices of one symbol"),
        StreamRoute("balances", NoParams, Balance, _balances, per_identity=True),
    ]


class TickerModule(Module):
    name = "ticker"
    description = "Prices, streamed."


class TickerV1(ModuleApi):
    module = TickerModule
    version = "v1"

    def __init__(self, module: TickerModule) -> None:
        super().__init__(module)

        @self.get("/symbols", operation_id="listSymbols")
        async def list_symbols() -> list[str]:
            return list(SYMBOLS)

        add_stream_endpoint(self, _routes(), authenticate=_token)


class TickerV2(ModuleApi):
    module = TickerModule
    version = "v2"

    def __init__(self, module: TickerModule) -> None:
        super().__init__(module)

        @self.get("/symbols", operation_id="listSymbols")
        async def list_symbols() -> list[str]:
            return list(SYMBOLS)

        add_stream_endpoint(self, _routes()[:1])
        add_stream_endpoint(self, _routes()[1:], path="/private/ws", authenticate=_token, name="private")


class QuietModule(Module):
    name = "quiet"


class QuietV1(ModuleApi):
    module = QuietModule
    version = "v1"

    def __init__(self, module: QuietModule) -> None:
        super().__init__(module)

        @self.get("/hello", operation_id="hello")
        async def hello() -> dict[str, str]:
            return {"hello": "world"}


class ClashModule(Module):
    name = "clash"


class ClashV1(ModuleApi):
    module = ClashModule
    version = "v1"

    def __init__(self, module: ClashModule) -> None:
        super().__init__(module)

        @self.get("/asyncapi.json")
        async def mine() -> dict[str, str]:
            return {"mine": "yes"}

        add_stream_endpoint(self, _routes()[:1])
