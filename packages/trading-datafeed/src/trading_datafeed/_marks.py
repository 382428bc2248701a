"""Chart marks derived from the bars themselves, so every source has them, the user's files too.

- A mark on each day whose close moved at least :data:`BIG_MOVE` times the average absolute
  daily move of the :data:`LOOKBACK` days before it: the days a chart reader wants pointed out.
- A timescale mark at the start of each calendar quarter, with the quarter's change.

Both depend only on the bars, so they are as deterministic as the bars are, and a mark does not
move or vanish when the chart asks for another range.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

from ._models import Bar

BIG_MOVE = 2.5
LOOKBACK = 20
"""Days of history a day's move is compared with; a day with fewer before it gets no mark."""


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
