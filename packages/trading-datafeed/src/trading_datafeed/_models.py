"""The datafeed's domain objects: symbols, bars and quotes, independent of the UDF wire format."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ._resolutions import RESOLUTIONS, Resolution


@dataclass(frozen=True)
class SymbolInfo:
    """A symbol the feed serves. ``ticker`` is its unique id; ``exchange:ticker`` its full name."""

    ticker: str
    description: str
    type: str
    exchange: str
    pricescale: int
    minmov: int = 1
    timezone: str = "Etc/UTC"
    session: str = "24x7"
    resolutions: tuple[Resolution, ...] = tuple(RESOLUTIONS.values())
    data_status: str = "streaming"
    volume_precision: int = 0
    currency_code: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.exchange}:{self.ticker}"

    @property
    def tick(self) -> float:
        return self.minmov / self.pricescale

    def supports(self, resolution: Resolution) -> bool:
        return resolution in self.resolutions

    def round_price(self, price: float) -> float:
        """``price`` on this symbol's tick."""
        return round(round(price / self.tick) * self.tick, _decimals(self.pricescale))

    def floor_price(self, price: float) -> float:
        return round(math.floor(price / self.tick + 1e-9) * self.tick, _decimals(self.pricescale))

    def ceil_price(self, price: float) -> float:
        return round(math.ceil(price / self.tick - 1e-9) * self.tick, _decimals(self.pricescale))


def _decimals(pricescale: int) -> int:
    return max(0, math.ceil(math.log10(pricescale)))


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar, stamped with the second it starts (UTC)."""

    time: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True)
class Quote:
    """The state of a symbol's current trading day."""

    last: float
    ask: float
    bid: float
    open: float
    high: float
    low: float
    prev_close: float
    volume: float

    @property
    def change(self) -> float:
        return self.last - self.prev_close

    @property
    def change_percent(self) -> float:
        return 100 * self.change / self.prev_close if self.prev_close else 0.0


class MarketData(Protocol):
    """A source of symbols, bars and quotes: the simulated market or the user's files."""

    kind: str
    """A short name of the source, for health reports: ``simulated``, ``csv``."""

    def symbols(self) -> Sequence[SymbolInfo]:
        """Every symbol of the source."""

    def bars(
        self, ticker: str, resolution: Resolution, *, end: int, start: int | None, limit: int, now: float
    ) -> list[Bar]:
        """The latest ``limit`` bars of ``ticker`` stamped in ``[start, end)``, oldest first;
        ``start=None`` means from the first bar. ``now`` bounds a live source."""

    def quote(self, ticker: str, now: float) -> Quote | None:
        """The current quote of ``ticker``, or ``None`` when the source has no data for it."""
