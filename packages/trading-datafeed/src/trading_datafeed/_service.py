"""The datafeed's logic, shared by every API version served in a process."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ._errors import InvalidParameter, UnknownGroup, UnknownSymbol
from ._marks import KeptMarks, Mark, TimescaleMark, quarters
from ._models import Bar, MarketData, Quote, SymbolInfo
from ._resolutions import RESOLUTIONS, Resolution, parse_resolution


@dataclass(frozen=True)
class History:
    """Bars for a history request; with no bars, ``next_time`` is the latest bar before the range."""

    bars: list[Bar]
    next_time: int | None = None


@dataclass(frozen=True)
class QuoteResult:
    """One symbol of a quotes request, by the name it was asked for."""

    name: str
    symbol: SymbolInfo | None
    quote: Quote | None
    error: str | None = None


class DatafeedService:
    """Symbols, bar history and quotes over a :class:`MarketData` source."""

    def __init__(self, market: MarketData, *, clock: Callable[[], float] | None = None, max_bars: int = 5_000) -> None:
        self.market = market
        self._clock = clock if clock is not None else time.time
        self.max_bars = max_bars
        self._marks = KeptMarks(market)

    def now(self) -> int:
        """The server's time in Unix seconds."""
        return int(self._clock())

    def resolutions(self) -> list[Resolution]:
        """Every resolution some symbol supports, finest first."""
        supported = {r for s in self.market.symbols() for r in s.resolutions}
        return [r for r in RESOLUTIONS.values() if r in supported]

    def exchanges(self) -> list[str]:
        return sorted({s.exchange for s in self.market.symbols()})

    def symbol_types(self) -> list[str]:
        return sorted({s.type for s in self.market.symbols()})

    def symbol(self, name: str) -> SymbolInfo:
        """The symbol named ``TICKER`` or ``EXCHANGE:TICKER`` (any case); :class:`UnknownSymbol` otherwise."""
        exchange, _, ticker = name.strip().upper().rpartition(":")
        for info in self.market.symbols():
            if info.ticker.upper() == ticker and (not exchange or info.exchange.upper() == exchange):
                return info
        raise UnknownSymbol(name)

    def series(self, symbol: str, resolution: str) -> tuple[SymbolInfo, Resolution]:
        """The symbol and resolution named, when the symbol is served at that resolution."""
        info = self.symbol(symbol)
        parsed = parse_resolution(resolution)
        if not info.supports(parsed):
            supported = ", ".join(r.code for r in info.resolutions)
            raise InvalidParameter(
                "resolution", f"resolution {resolution!r} is not served for {info.ticker}; served: {supported}"
            )
        return info, parsed

    def group(self, name: str | None) -> list[SymbolInfo]:
        """The symbols of an exchange (any case), or every symbol for ``None``."""
        if name is None:
            return list(self.market.symbols())
        found = [s for s in self.market.symbols() if s.exchange.upper() == name.strip().upper()]
        if not found:
            raise UnknownGroup(name, self.exchanges())
        return found

    def search(self, query: str, *, type: str = "", exchange: str = "", limit: int = 30) -> list[SymbolInfo]:
        """Symbols whose ticker or description contains ``query``, tickers starting with it first."""
        needle = query.strip().upper()
        found = [
            s
            for s in self.market.symbols()
            if (not type or s.type == type)
            and (not exchange or s.exchange.upper() == exchange.upper())
            and (needle in s.ticker.upper() or needle in s.description.upper() or needle == s.full_name.upper())
        ]
        found.sort(key=lambda s: (not s.ticker.upper().startswith(needle), s.ticker))
        return found[:limit]

    def history(
        self, symbol: str, resolution: str, *, start: int | None, end: int, countback: int | None = None
    ) -> History:
        """Bars stamped in ``[start, end)``; with ``countback``, the ``countback`` bars before ``end``
        whatever ``start`` says. At most :attr:`max_bars` bars, the latest ones."""
        info, parsed = self.series(symbol, resolution)
        if countback is not None:
            if countback < 1:
                raise InvalidParameter("countback", "countback must be 1 or more")
            start = None
            limit = min(countback, self.max_bars)
        elif start is None:
            raise InvalidParameter("from", "give 'from' or 'countback'")
        elif start >= end:
            raise InvalidParameter("from", f"'from' ({start}) must be earlier than 'to' ({end})")
        else:
            limit = self.max_bars
        now = self._clock()
        bars = self.market.bars(info.ticker, parsed, end=end, start=start, limit=limit, now=now)
        if bars:
            return History(bars)
        if start is None:
            return History([])
        before = self.market.bars(info.ticker, parsed, end=start, start=None, limit=1, now=now)
        return History([], before[0].time if before else None)

    def quotes(self, names: list[str]) -> list[QuoteResult]:
        """A quote per requested name, in order; an unknown name gets an error entry, not a failure."""
        now = self._clock()
        results = []
        for name in names:
            try:
                info = self.symbol(name)
            except UnknownSymbol as exc:
                results.append(QuoteResult(name, None, None, str(exc)))
                continue
            quote = self.market.quote(info.ticker, now)
            error = None if quote is not None else f"no data for {info.ticker}"
            results.append(QuoteResult(name, info, quote, error))
        return results

    def marks(self, symbol: str, *, start: int, end: int) -> list[Mark]:
        """The symbol's big daily moves stamped in ``[start, end)`` (the latest :attr:`max_bars` days)."""
        info = self.symbol(symbol)
        _check_range(start, end)
        day = RESOLUTIONS["1D"]
        if not info.supports(day):
            return []
        now = self._clock()
        inside = self.market.bars(info.ticker, day, end=end, start=start, limit=self.max_bars, now=now)
        # Each day is compared with the days before it, however far back they are, so a day's mark
        # does not depend on the range the chart asked for (and can be kept).
        return self._marks.big_moves(info.ticker, inside, start=start, end=end, now=now)

    def timescale_marks(self, symbol: str, *, start: int, end: int) -> list[TimescaleMark]:
        """A mark at the start of each quarter in ``[start, end)``, with the quarter's change."""
        info = self.symbol(symbol)
        _check_range(start, end)
        month = RESOLUTIONS["1M"]
        if not info.supports(month):
            return []
        # From the quarter before the range, to measure the first quarter's change from its close.
        begin = datetime.fromtimestamp(max(start, 0), UTC)
        quarter_month = (begin.month - 1) // 3 * 3 + 1
        year, first_month = (begin.year, quarter_month - 3) if quarter_month > 3 else (begin.year - 1, 10)
        since = int(datetime(year, first_month, 1, tzinfo=UTC).timestamp())
        months = self.market.bars(info.ticker, month, end=end, start=since, limit=self.max_bars, now=self._clock())
        return quarters(info.ticker, months, start=start, end=end)

    async def live_bars(
        self, ticker: str, resolution: Resolution, *, interval: float, phase: float = 0.0
    ) -> AsyncIterator[Bar]:
        """The bar forming now (for a file, its last bar), now and then every ``interval`` seconds
        (see :func:`ticks` for ``phase``)."""
        async for _ in ticks(interval, phase):
            now = self._clock()
            bars = self.market.bars(ticker, resolution, end=int(now) + 1, start=None, limit=1, now=now)
            if bars:
                yield bars[-1]

    async def live_quotes(
        self, names: list[str], *, interval: float, phase: float = 0.0
    ) -> AsyncIterator[list[QuoteResult]]:
        """The quotes of ``names``, now and then every ``interval`` seconds (see :func:`ticks`)."""
        async for _ in ticks(interval, phase):
            yield self.quotes(names)


async def ticks(interval: float, phase: float = 0.0) -> AsyncIterator[None]:
    """Now, then every ``interval`` seconds at the moments ``phase`` (a fraction of ``interval``,
    in [0, 1)) into each period of the event loop's clock (see :func:`_next_tick`).

    Feeds that tick with different phases spread their work over the interval: thousands of feeds
    started together do not all wake at once and hold the event loop for one long stretch, each
    second, while a request waits.
    """
    loop = asyncio.get_running_loop()
    previous = loop.time()
    while True:
        yield
        now = loop.time()
        previous = _next_tick(now, previous, interval, phase)
        await asyncio.sleep(previous - now)


def _next_tick(now: float, previous: float, interval: float, phase: float) -> float:
    """When the tick after one at ``previous`` is due, at ``now``: the next moment ``phase`` into a
    period that is at least half an interval after ``previous`` (never two updates much closer
    than the interval; a late tick is not made up for)."""
    offset = (phase % 1.0) * interval
    due = (math.floor((now - offset) / interval) + 1) * interval + offset
    return due + interval if due - previous < interval / 2 else due


def _check_range(start: int, end: int) -> None:
    if start >= end:
        raise InvalidParameter("from", f"'from' ({start}) must be earlier than 'to' ({end})")
