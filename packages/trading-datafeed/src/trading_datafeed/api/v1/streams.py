"""Datafeed API v1 streams at ``/ws``: ``bars`` (the bar forming now) and ``quotes``, pushed every
``stream_interval`` seconds from the same source as the UDF routes."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Collection
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.websockets import WebSocket

from trading_core.streams import Authenticator, Identity, StreamRefused, StreamRoute, SubscriptionRefused

from ..._errors import DatafeedError
from ..._models import Quote
from ..._module import DatafeedModule
from ..._resolutions import RESOLUTIONS
from ..._service import QuoteResult
from ._schemas import MAX_QUOTES, QuoteFailed, QuoteOk, Quotes, _number


class BarsParams(BaseModel):
    """``bars.subscribe``: one symbol at one resolution."""

    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(description="TICKER or EXCHANGE:TICKER, any case")
    resolution: str = Field(description="1, 5, 15, 30, 60, 240, 1D, 1W or 1M (D, W and M too)")


class BarUpdate(BaseModel):
    """``bars.update``: the bar forming now, as ``/history`` would give it; ``time`` in Unix seconds."""

    symbol: str
    resolution: str
    time: int
    open: float
    high: float
    low: float
    close: float
    volume: int | float


class QuotesParams(BaseModel):
    """``quotes.subscribe``: symbols, as a list or one comma-separated string."""

    model_config = ConfigDict(extra="forbid")

    symbols: list[str] = Field(min_length=1, max_length=MAX_QUOTES, description="TICKER or EXCHANGE:TICKER each")

    @field_validator("symbols", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value


class QuotesUpdate(BaseModel):
    """``quotes.update``: every subscribed symbol's quote, in the items of ``/quotes``."""

    d: list[QuoteOk | QuoteFailed]


def _phase(*parts: str) -> float:
    """Where in each interval a topic's feed ticks, in [0, 1): spread over the interval by the
    topic, so that feeds started together do not all wake at once."""
    return zlib.crc32("\x1f".join(parts).encode()) / 2**32


class _QuoteItems:
    """The wire item of each symbol's quote, built once per quote and shared by every feed whose
    topic holds the symbol (the market gives the same quote object all through a second)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[Quote, QuoteOk | QuoteFailed]] = {}

    def get(self, result: QuoteResult) -> QuoteOk | QuoteFailed:
        found = self._items.get(result.name)
        if found is not None and found[0] is result.quote:
            return found[1]
        item = Quotes.item(result)
        if result.quote is not None:
            self._items[result.name] = (result.quote, item)
        return item


def check_origin(origins: Collection[str]) -> Authenticator:
    """Refuse handshakes from browser pages of other origins than ``origins`` (the ``cors_origins``
    setting; ``"*"`` allows any); a browser sends its page's ``Origin`` and, unlike for HTTP, does
    not enforce CORS on WebSockets."""
    allowed = frozenset(origins)
    any_origin = "*" in allowed

    async def authenticate(websocket: WebSocket) -> Identity | None:
        origin = websocket.headers.get("origin")
        if origin is not None and not any_origin and origin not in allowed:
            raise StreamRefused(403, f"origin {origin} may not open the datafeed's streams; add it to cors_origins")
        return None

    return authenticate


def stream_routes(module: DatafeedModule) -> list[StreamRoute[Any, Any]]:
    """The ``bars`` and ``quotes`` routes over the module's service."""
    service = module.service
    interval = module.settings.stream_interval

    def normalize_bars(params: BarsParams) -> BarsParams:
        try:
            info, resolution = service.series(params.symbol, params.resolution)
        except DatafeedError as exc:
            raise SubscriptionRefused(str(exc)) from exc
        return BarsParams(symbol=info.ticker, resolution=resolution.code)

    async def bars(params: BarsParams, _: Identity | None) -> AsyncIterator[BarUpdate]:
        resolution = RESOLUTIONS[params.resolution]
        phase = _phase(params.symbol, params.resolution)
        async for bar in service.live_bars(params.symbol, resolution, interval=interval, phase=phase):
            yield BarUpdate(
                symbol=params.symbol,
                resolution=params.resolution,
                time=bar.time,
                open=bar.open,
                high=bar.high,
                low=bar.low,
                close=bar.close,
                volume=_number(bar.volume),
            )

    def normalize_quotes(params: QuotesParams) -> QuotesParams:
        try:
            tickers = {service.symbol(name).ticker for name in params.symbols}
        except DatafeedError as exc:
            raise SubscriptionRefused(str(exc)) from exc
        return QuotesParams(symbols=sorted(tickers))

    items = _QuoteItems()

    async def quotes(params: QuotesParams, _: Identity | None) -> AsyncIterator[QuotesUpdate]:
        phase = _phase(*params.symbols)
        async for results in service.live_quotes(params.symbols, interval=interval, phase=phase):
            # The items are validated models already: no need to check them again per feed.
            yield QuotesUpdate.model_construct(d=[items.get(result) for result in results])

    return [
        StreamRoute(
            "bars",
            BarsParams,
            BarUpdate,
            bars,
            normalize=normalize_bars,
            summary="The bar forming now, every stream_interval seconds",
        ),
        StreamRoute(
            "quotes",
            QuotesParams,
            QuotesUpdate,
            quotes,
            normalize=normalize_quotes,
            summary="Quotes of the symbols, every stream_interval seconds",
        ),
    ]
