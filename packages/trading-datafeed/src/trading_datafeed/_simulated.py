"""A deterministic simulated market: prices are a pure function of (symbol, time).

No randomness and no state: the same request gives the same bars in every process, today and
tomorrow, and a bar's open always equals the previous bar's close at every resolution.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from ._models import Bar, Quote, SymbolInfo
from ._resolutions import RESOLUTIONS, Resolution

MARKET_START = int(datetime(2000, 1, 3, tzinfo=UTC).timestamp())
"""The first second of simulated history (a Monday): no bar starts earlier."""

_MASK = (1 << 64) - 1
_DAY = 86_400
# Value noise at several time scales, each (seconds between knots, amplitude relative to the
# symbol's daily volatility), so the path wiggles within an hour and trends over months.
_SCALES: tuple[tuple[int, float], ...] = (
    (300, 0.08),
    (3_600, 0.25),
    (6 * 3_600, 0.5),
    (2 * _DAY, 1.2),
    (16 * _DAY, 3.0),
    (128 * _DAY, 7.0),
)
_INSIDE = 4
"""Points sampled inside a bar, besides its open and close, to find its high and low."""
_BLOCK = 256
"""Closed bars are computed and kept in blocks of this many consecutive bars."""


def _noise(seed: int, scale: int, knot: int) -> float:
    """A stable number in [-1, 1) for a knot; Python's ``hash`` is salted per process, so not that.

    SplitMix64's finaliser (a cheap, well-spread integer hash) applied twice, written out: this is
    the innermost call of the market, and the two calls cost more than the arithmetic.
    """
    x = (((scale << 40) ^ (knot & _MASK)) + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    x = ((seed ^ x ^ (x >> 31)) + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return (x ^ (x >> 31)) / 2**63 - 1.0


_unit = lru_cache(maxsize=65_536)(_noise)
""":func:`_noise` of the path's knots, which neighbouring bars and requests share."""


def _seed(ticker: str) -> int:
    return int.from_bytes(hashlib.blake2b(ticker.encode(), digest_size=8).digest(), "big")


@dataclass(frozen=True)
class SimulatedSymbol:
    """A symbol of the simulated market and the parameters of its price path."""

    info: SymbolInfo
    price: float
    """The centre of the price path."""
    volatility: float
    """Typical daily move, as a fraction of the price."""
    daily_volume: float


def _stock(ticker: str, description: str, price: float, volume: float, exchange: str = "NASDAQ") -> SimulatedSymbol:
    info = SymbolInfo(ticker, description, "stock", exchange, pricescale=100, currency_code="USD")
    return SimulatedSymbol(info, price, 0.018, volume)


def _pair(
    ticker: str, description: str, kind: str, exchange: str, scale: int, price: float, vol: float, volume: float
) -> SimulatedSymbol:
    info = SymbolInfo(ticker, description, kind, exchange, pricescale=scale, currency_code=ticker[-3:])
    return SimulatedSymbol(info, price, vol, volume)


BUILTIN_SYMBOLS: tuple[SimulatedSymbol, ...] = (
    _stock("AAPL", "Apple Inc.", 190.0, 55e6),
    _stock("MSFT", "Microsoft Corporation", 410.0, 22e6),
    _stock("GOOGL", "Alphabet Inc. Class A", 170.0, 25e6),
    _stock("AMZN", "Amazon.com Inc.", 180.0, 40e6),
    _stock("TSLA", "Tesla Inc.", 250.0, 95e6),
    _stock("NVDA", "NVIDIA Corporation", 120.0, 300e6),
    _stock("SPY", "SPDR S&P 500 ETF Trust", 520.0, 60e6, exchange="NYSEARCA"),
    _pair("EURUSD", "Euro / US Dollar", "forex", "FX", 100_000, 1.085, 0.005, 0.0),
    _pair("GBPUSD", "British Pound / US Dollar", "forex", "FX", 100_000, 1.27, 0.006, 0.0),
    _pair("USDJPY", "US Dollar / Japanese Yen", "forex", "FX", 1_000, 150.0, 0.006, 0.0),
    _pair("BTCUSD", "Bitcoin / US Dollar", "crypto", "CRYPTO", 100, 65_000.0, 0.035, 30_000.0),
    _pair("ETHUSD", "Ether / US Dollar", "crypto", "CRYPTO", 100, 3_500.0, 0.045, 400_000.0),
)
"""The symbols of the embedded simulated market. They trade around the clock (session ``24x7``,
timezone ``Etc/UTC``), so every bar time has a bar and daily bars start at 00:00 UTC."""


class SimulatedMarket:
    """Bars and quotes of :data:`BUILTIN_SYMBOLS` (or given symbols), from :data:`MARKET_START` to now.

    A closed bar never changes, so closed bars are kept, in blocks of 256 consecutive bars, up to
    ``cached_bars`` of them (at least one block; the least recently used blocks go first). The bar
    forming now and each quote are computed once per second of ``now`` and shared by every request
    and stream of that second. Safe to call from several threads.
    """

    kind = "simulated"

    def __init__(self, symbols: Sequence[SimulatedSymbol] = BUILTIN_SYMBOLS, *, cached_bars: int = 100_000) -> None:
        self._symbols = {s.info.ticker: s for s in symbols}
        self._seeds = {ticker: _seed(ticker) for ticker in self._symbols}
        self._blocks: OrderedDict[tuple[str, str, int], tuple[int, list[Bar]]] = OrderedDict()
        self._max_blocks = max(1, cached_bars // _BLOCK)
        self._lock = threading.Lock()
        # The bar forming now per (ticker, resolution) and the quote per ticker, with the second
        # they were built at: many requests and every stream of the same second share them.
        self._forming: dict[tuple[str, str], tuple[int, int, Bar]] = {}
        self._quotes: dict[str, tuple[int, Quote]] = {}

    def symbols(self) -> list[SymbolInfo]:
        return [s.info for s in self._symbols.values()]

    def cached_bars(self) -> int:
        """How many closed bars are kept now."""
        with self._lock:
            return sum(len(bars) for _, bars in self._blocks.values())

    def price(self, ticker: str, t: float) -> float:
        """The unrounded price of ``ticker`` at second ``t``: the path every bar and quote samples."""
        return self._path(ticker, [t])[0]

    def bars(
        self, ticker: str, resolution: Resolution, *, end: int, start: int | None, limit: int, now: float
    ) -> list[Bar]:
        if ticker not in self._symbols or limit <= 0:
            return []
        second = int(now)
        lowest = MARKET_START if start is None else max(start, MARKET_START)
        # Nothing after now: the last bar is the one forming now, built up to now. A range that
        # ends before the market opened has no bar; it is answered before any flooring, since a
        # month's floor of a time before year 1 (``to`` or ``from`` at their minimum) is no datetime.
        top = min(end - 1, second)
        if top < lowest:
            return []
        last = resolution.floor(top)
        if last < lowest:
            return []
        first = resolution.number(resolution.ceil(lowest))
        final = resolution.number(last)
        first = max(first, final - limit + 1)
        if first > final:
            return []
        forming = resolution.next(last) > second
        bars = self._closed(ticker, resolution, first, final if forming else final + 1)
        if forming:
            bars.append(self._forming_bar(ticker, resolution, last, second))
        return bars

    def quote(self, ticker: str, now: float) -> Quote | None:
        if ticker not in self._symbols:
            return None
        second = int(now)
        found = self._quotes.get(ticker)
        if found is not None and found[0] == second:
            return found[1]
        info = self._symbols[ticker].info
        day = RESOLUTIONS["1D"]
        today = self._forming_bar(ticker, day, day.floor(second), second)
        quote = Quote(
            last=today.close,
            ask=info.round_price(today.close + info.tick),
            bid=info.round_price(today.close - info.tick),
            open=today.open,
            high=today.high,
            low=today.low,
            # The path is continuous: yesterday closed where today opened.
            prev_close=today.open,
            volume=today.volume,
        )
        self._quotes[ticker] = (second, quote)
        return quote

    def _closed(self, ticker: str, resolution: Resolution, first: int, stop: int) -> list[Bar]:
        """The closed bars numbered ``first`` to ``stop - 1``, from the kept blocks or computed."""
        out: list[Bar] = []
        for block in range(first // _BLOCK, (stop - 1) // _BLOCK + 1) if first < stop else ():
            key = (ticker, resolution.code, block)
            with self._lock:
                found = self._blocks.get(key)
                if found is not None:
                    self._blocks.move_to_end(key)
            low = max(first, block * _BLOCK)
            high = min(stop, (block + 1) * _BLOCK)
            if found is None:
                # A block starts with the market: its first bar is the market's first at this resolution.
                origin = max(block * _BLOCK, resolution.number(resolution.ceil(MARKET_START)))
                found = (origin, self._compute(ticker, resolution, origin, high))
            elif found[0] + len(found[1]) < high:
                # Bars closed since the block was kept: compute only those.
                origin, kept = found
                found = (origin, kept + self._compute(ticker, resolution, origin + len(kept), high))
            else:
                origin, kept = found
                out += kept[low - origin : high - origin]
                continue
            with self._lock:
                self._blocks[key] = found
                self._blocks.move_to_end(key)
                while len(self._blocks) > self._max_blocks:
                    self._blocks.popitem(last=False)
            origin, kept = found
            out += kept[low - origin : high - origin]
        return out

    def _compute(self, ticker: str, resolution: Resolution, first: int, stop: int) -> list[Bar]:
        """The closed bars numbered ``first`` to ``stop - 1``; neighbours share their open and close."""
        if first >= stop:
            return []
        starts = [resolution.start_of(n) for n in range(first, stop + 1)]
        times: list[float] = []
        for begin, end in itertools.pairwise(starts):
            span = end - begin
            times += [begin + span * i / (_INSIDE + 1) for i in range(_INSIDE + 1)]
        # The close of a bar is the open of the next (the same second); the last close ends the list.
        times.append(starts[-1] + 0 / (_INSIDE + 1))
        path = self._path(ticker, times)
        build = self._builder(ticker, resolution)
        step = _INSIDE + 1
        return [
            build(begin, end - begin, path[i * step : i * step + step + 1])
            for i, (begin, end) in enumerate(itertools.pairwise(starts))
        ]

    def _forming_bar(self, ticker: str, resolution: Resolution, start: int, second: int) -> Bar:
        """The bar starting at ``start`` built from the path up to ``second`` (now)."""
        key = (ticker, resolution.code)
        found = self._forming.get(key)
        if found is not None and found[0] == start and found[1] == second:
            return found[2]
        span = max(second - start, 0)
        path = self._path(ticker, [start + span * i / (_INSIDE + 1) for i in range(_INSIDE + 2)])
        bar = self._builder(ticker, resolution)(start, span, path)
        self._forming[key] = (start, second, bar)
        return bar

    def _path(self, ticker: str, times: Sequence[float]) -> list[float]:
        """The unrounded prices at ``times`` (ascending for speed, any order for correctness).

        Each scale adds its smoothstep between two knots; a knot's noise is looked up once for the
        run of times between the same two knots. The sums are made scale by scale in the order of
        :data:`_SCALES`, as one price at a time would make them, so every float is the same.
        """
        symbol = self._symbols[ticker]
        seed = self._seeds[ticker]
        moves = [0.0] * len(times)
        for scale, amplitude in _SCALES:
            knot = None
            a = d = 0.0
            for i, t in enumerate(times):
                whole, offset = divmod(t, scale)
                if whole != knot:
                    knot = whole
                    a = _unit(seed, scale, int(whole))
                    d = _unit(seed, scale, int(whole) + 1) - a
                x = offset / scale
                moves[i] += amplitude * (a + d * x * x * (3 - 2 * x))
        price, volatility, exp = symbol.price, symbol.volatility, math.exp
        return [price * exp(volatility * move) for move in moves]

    def _builder(self, ticker: str, resolution: Resolution) -> Callable[[int, int, Sequence[float]], Bar]:
        """A function building a bar from its start, its length in seconds and its sampled path."""
        symbol = self._symbols[ticker]
        info = symbol.info
        seed = self._seeds[ticker]
        seconds = resolution.seconds
        tick = info.tick
        decimals = max(0, math.ceil(math.log10(info.pricescale)))
        volatility, daily_volume = symbol.volatility, symbol.daily_volume
        floor, ceil, sqrt = math.floor, math.ceil, math.sqrt

        def build(start: int, span: int, path: Sequence[float]) -> Bar:
            # Wicks beyond the sampled points stand for the moves between samples; their size grows
            # with the bar's length like a random walk's range.
            reach = volatility * sqrt(span / _DAY) * 0.25
            up = reach * (1 + _noise(seed, seconds, start)) / 2
            down = reach * (1 + _noise(seed, seconds + 1, start)) / 2
            # The rounding of SymbolInfo.round_price, floor_price and ceil_price, without the calls.
            open_ = round(round(path[0] / tick) * tick, decimals)
            close = round(round(path[-1] / tick) * tick, decimals)
            high = max(round(ceil(max(path) * (1 + up) / tick - 1e-9) * tick, decimals), open_, close)
            low = min(round(floor(min(path) * (1 - down) / tick + 1e-9) * tick, decimals), open_, close)
            activity = 0.75 + 0.5 * (1 + _noise(seed, seconds + 2, start)) / 2
            volume = float(round(daily_volume * span / _DAY * activity))
            return Bar(start, open_, high, low, close, volume)

        return build
