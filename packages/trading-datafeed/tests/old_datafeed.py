"""The simulated market as trading-datafeed 1.0 computed it (before the caches of issue 8), kept
verbatim, constants and symbols included, so the tests can check that today's answers are the same,
float for float."""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from trading_datafeed import RESOLUTIONS, Bar, Quote, Resolution, SymbolInfo
from trading_datafeed._marks import BIG_MOVE, LOOKBACK, Mark

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


def _mix(x: int) -> int:
    """SplitMix64's finaliser: a cheap, well-spread integer hash."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


@lru_cache(maxsize=65_536)
def _unit(seed: int, scale: int, knot: int) -> float:
    """A stable number in [-1, 1) for a knot; Python's ``hash`` is salted per process, so not that."""
    return _mix(seed ^ _mix((scale << 40) ^ (knot & _MASK))) / 2**63 - 1.0


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


class OldMarket:
    """The simulated market of trading-datafeed 1.0: one price at a time, nothing kept."""

    kind = "simulated"

    def __init__(self, symbols: Sequence[SimulatedSymbol] = BUILTIN_SYMBOLS) -> None:
        self._symbols = {s.info.ticker: s for s in symbols}
        self._seeds = {ticker: _seed(ticker) for ticker in self._symbols}

    def symbols(self) -> list[SymbolInfo]:
        return [s.info for s in self._symbols.values()]

    def price(self, ticker: str, t: float) -> float:
        """The unrounded price of ``ticker`` at second ``t``: the path every bar and quote samples."""
        symbol = self._symbols[ticker]
        seed = self._seeds[ticker]
        move = 0.0
        for scale, amplitude in _SCALES:
            knot, offset = divmod(t, scale)
            a = _unit(seed, scale, int(knot))
            b = _unit(seed, scale, int(knot) + 1)
            x = offset / scale
            move += amplitude * (a + (b - a) * x * x * (3 - 2 * x))
        return symbol.price * math.exp(symbol.volatility * move)

    def bars(
        self, ticker: str, resolution: Resolution, *, end: int, start: int | None, limit: int, now: float
    ) -> list[Bar]:
        if ticker not in self._symbols or limit <= 0:
            return []
        # Nothing after now: the last bar is the one forming now, built up to now.
        last = resolution.floor(min(end - 1, int(now)))
        lowest = MARKET_START if start is None else max(start, MARKET_START)
        if last < lowest:
            return []
        first = resolution.ceil(lowest)
        times: list[int] = []
        t = last
        while t >= first and len(times) < limit:
            times.append(t)
            t = resolution.previous(t)
        return [self._bar(ticker, resolution, t, min(resolution.next(t), int(now))) for t in reversed(times)]

    def quote(self, ticker: str, now: float) -> Quote | None:
        if ticker not in self._symbols:
            return None
        info = self._symbols[ticker].info
        day = RESOLUTIONS["1D"]
        today = self._bar(ticker, day, day.floor(int(now)), int(now))
        return Quote(
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

    def _bar(self, ticker: str, resolution: Resolution, start: int, end: int) -> Bar:
        """The bar starting at ``start``, built from the path up to ``end`` (its close, or now)."""
        symbol = self._symbols[ticker]
        info = symbol.info
        span = max(end - start, 0)
        path = [self.price(ticker, start + span * i / (_INSIDE + 1)) for i in range(_INSIDE + 2)]
        seed = self._seeds[ticker]
        # Wicks beyond the sampled points stand for the moves between samples; their size grows
        # with the bar's length like a random walk's range.
        reach = symbol.volatility * math.sqrt(span / _DAY) * 0.25
        up = reach * (1 + _unit(seed, resolution.seconds, start)) / 2
        down = reach * (1 + _unit(seed, resolution.seconds + 1, start)) / 2
        open_, close = info.round_price(path[0]), info.round_price(path[-1])
        high = max(info.ceil_price(max(path) * (1 + up)), open_, close)
        low = min(info.floor_price(min(path) * (1 - down)), open_, close)
        activity = 0.75 + 0.5 * (1 + _unit(seed, resolution.seconds + 2, start)) / 2
        volume = float(round(symbol.daily_volume * span / _DAY * activity))
        return Bar(start, open_, high, low, close, volume)


def old_marks(market: OldMarket, ticker: str, *, start: int, end: int, now: float, max_bars: int = 5_000) -> list[Mark]:
    """``DatafeedService.marks`` of trading-datafeed 1.0 over :class:`OldMarket`."""
    day = RESOLUTIONS["1D"]
    inside = market.bars(ticker, day, end=end, start=start, limit=max_bars, now=now)
    if not inside:
        return []
    before = market.bars(ticker, day, end=inside[0].time, start=None, limit=LOOKBACK + 1, now=now)
    return big_moves(ticker, before + inside, start=start, end=end)


def big_moves(ticker: str, days: list[Bar], *, start: int, end: int) -> list[Mark]:
    """Marks for the big daily moves among ``days`` (oldest first, including up to
    :data:`LOOKBACK` days before ``start``) stamped in ``[start, end)``."""
    moves = [b.close / a.close - 1 if a.close else 0.0 for a, b in itertools.pairwise(days)]
    marks = []
    window = 0.0  # the sum of the absolute moves of the LOOKBACK days before day i
    for i, move in enumerate(moves):
        day = days[i + 1]
        if i >= LOOKBACK:
            typical = window / LOOKBACK
            if start <= day.time < end and typical > 0 and abs(move) >= BIG_MOVE * typical:
                up = move > 0
                date = datetime.fromtimestamp(day.time, UTC).date().isoformat()
                marks.append(
                    Mark(
                        id=f"{ticker}-{day.time}",
                        time=day.time,
                        color="green" if up else "red",
                        text=f"{ticker} {'rose' if up else 'fell'} {abs(move) * 100:.2f}% on {date}, to {day.close:g}; "
                        f"{abs(move) / typical:.1f} times its {LOOKBACK}-day average move",
                        label="U" if up else "D",
                        label_font_color="white",
                    )
                )
            window -= abs(moves[i - LOOKBACK])
        window += abs(move)
    return marks
