"""Chart marks derived from the bars themselves, so every source has them, the user's files too.

- A mark on each day whose close moved at least :data:`BIG_MOVE` times the average absolute
  daily move of the :data:`LOOKBACK` days before it: the days a chart reader wants pointed out.
- A timescale mark at the start of each calendar quarter, with the quarter's change.

Both depend only on the bars, so they are as deterministic as the bars are, and a mark does not
move or vanish when the chart asks for another range.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from ._models import Bar, MarketData
from ._resolutions import RESOLUTIONS

BIG_MOVE = 2.5
LOOKBACK = 20
"""Days of history a day's move is compared with; a day with fewer before it gets no mark."""
_BLOCK_DAYS = 256
"""The marks of closed days are kept per block of this many days."""


@dataclass(frozen=True)
class Mark:
    """A mark on a bar (TradingView's ``Mark``)."""

    id: str
    time: int
    color: str
    text: str
    label: str
    label_font_color: str


@dataclass(frozen=True)
class TimescaleMark:
    """A mark on the time scale (TradingView's ``TimescaleMark``)."""

    id: str
    time: int
    color: str
    label: str
    tooltip: tuple[str, ...]


def _percent(change: float) -> str:
    return f"{change * 100:+.2f}%"


def big_moves(ticker: str, days: list[Bar], *, start: int, end: int) -> list[Mark]:
    """Marks for the big daily moves among ``days`` (oldest first, including up to
    :data:`LOOKBACK` days before ``start``) stamped in ``[start, end)``.

    A day's average move is the sum of the :data:`LOOKBACK` moves before it, added afresh for each
    day rather than kept as a running sum, so its last bits, and the mark, do not depend on where
    ``days`` begins: the marks can be computed a block of days at a time and kept.
    """
    sizes = [abs(b.close / a.close - 1) if a.close else 0.0 for a, b in itertools.pairwise(days)]
    marks = []
    for i in range(LOOKBACK, len(sizes)):
        day = days[i + 1]
        if not start <= day.time < end:
            continue
        typical = sum(sizes[i - LOOKBACK : i]) / LOOKBACK
        before = days[i]
        move = day.close / before.close - 1 if before.close else 0.0
        if typical > 0 and abs(move) >= BIG_MOVE * typical:
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
    return marks


class KeptMarks:
    """:func:`big_moves` of a market, with the marks of closed days kept per block of days (a
    closed day's bar, and so its mark, never changes), at most ``blocks`` blocks (the least
    recently used go first). Safe to call from several threads."""

    def __init__(self, market: MarketData, *, blocks: int = 4_096) -> None:
        self.market = market
        self._blocks: OrderedDict[tuple[str, int], tuple[int, list[Mark]]] = OrderedDict()
        self._max_blocks = blocks
        self._lock = threading.Lock()

    def big_moves(self, ticker: str, days: list[Bar], *, start: int, end: int, now: float) -> list[Mark]:
        """The marks of ``days`` (the market's daily bars of ``ticker`` in ``[start, end)``, oldest
        first) stamped in ``[start, end)``: what :func:`big_moves` gives for them and the
        :data:`LOOKBACK` days before them."""
        if not days:
            return []
        day = RESOLUTIONS["1D"]
        today = day.floor(int(now))  # the days before today's have closed
        closed = bisect.bisect_left(days, today, key=lambda bar: bar.time)
        low, high = max(start, days[0].time), min(end, today)
        marks: list[Mark] = []
        if closed:
            first, last = day.number(days[0].time) // _BLOCK_DAYS, day.number(days[closed - 1].time) // _BLOCK_DAYS
            for block in range(first, last + 1):
                marks += [m for m in self._block(ticker, block, today, now) if low <= m.time < high]
        if closed < len(days):
            # Days not closed yet (today's, forming): computed afresh, after the days before them.
            first = days[closed].time
            before = self.market.bars(ticker, day, end=first, start=None, limit=LOOKBACK + 1, now=now)
            marks += big_moves(ticker, before + days[closed:], start=start, end=end)
        return marks

    def _block(self, ticker: str, block: int, today: int, now: float) -> list[Mark]:
        """The marks of the closed days of a block."""
        day = RESOLUTIONS["1D"]
        begin = day.start_of(block * _BLOCK_DAYS)
        until = min(day.start_of((block + 1) * _BLOCK_DAYS), today)
        key = (ticker, block)
        with self._lock:
            found = self._blocks.get(key)
            if found is not None:
                self._blocks.move_to_end(key)
        if found is not None and found[0] >= until:
            return found[1]
        inside = self.market.bars(ticker, day, end=until, start=begin, limit=_BLOCK_DAYS, now=now)
        before = self.market.bars(ticker, day, end=begin, start=None, limit=LOOKBACK + 1, now=now)
        marks = big_moves(ticker, before + inside, start=begin, end=until)
        with self._lock:
            self._blocks[key] = (until, marks)
            self._blocks.move_to_end(key)
            while len(self._blocks) > self._max_blocks:
                self._blocks.popitem(last=False)
        return marks


def quarters(ticker: str, months: list[Bar], *, start: int, end: int) -> list[TimescaleMark]:
    """A mark at the start of each quarter in ``[start, end)`` from monthly bars (oldest first,
    including the quarter before ``start``), with the quarter's change so far."""
    closes: dict[tuple[int, int], tuple[float, float]] = {}  # quarter -> (its first open, its last close)
    for bar in months:
        moment = datetime.fromtimestamp(bar.time, UTC)
        quarter = (moment.year, (moment.month - 1) // 3)
        first_open = closes[quarter][0] if quarter in closes else bar.open
        closes[quarter] = (first_open, bar.close)
    marks = []
    previous_close: float | None = None
    for (year, index), (first_open, last_close) in sorted(closes.items()):
        time = int(datetime(year, 3 * index + 1, 1, tzinfo=UTC).timestamp())
        base = previous_close if previous_close is not None else first_open
        previous_close = last_close
        if not start <= time < end:
            continue
        change = last_close / base - 1 if base else 0.0
        marks.append(
            TimescaleMark(
                id=f"{ticker}-Q{index + 1}-{year}",
                time=time,
                color="green" if change >= 0 else "red",
                label=str(index + 1),
                tooltip=(f"Q{index + 1} {year}", f"{ticker} {_percent(change)}, closing at {last_close:g}"),
            )
        )
    return marks
