"""The user's own OHLCV data: one CSV file per symbol in a folder.

Each file ``<TICKER>.csv`` has a header row with ``time`` (or ``date``, ``datetime``,
``timestamp``), ``open``, ``high``, ``low``, ``close`` and optionally ``volume``. Times are Unix
seconds (or milliseconds) or ISO 8601 dates and date-times (UTC unless they say otherwise). The
finest spacing between rows is the file's resolution; coarser resolutions are aggregated from it.
"""

from __future__ import annotations

import bisect
import csv
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ._errors import DataFileError
from ._models import Bar, Quote, SymbolInfo
from ._resolutions import MINUTES, RESOLUTIONS, Resolution

_TIME_COLUMNS = ("time", "date", "datetime", "timestamp")
_PRICE_COLUMNS = ("open", "high", "low", "close")
_MILLISECONDS = 10**11
"""Numeric times above this are milliseconds (10**11 seconds is in the year 5138)."""


def _parse_time(text: str) -> int:
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp())
    return int(number / 1000) if abs(number) >= _MILLISECONDS else int(number)


def _decimals(text: str) -> int:
    _, _, fraction = text.strip().partition(".")
    return len(fraction.rstrip("0"))


@dataclass
class _Series:
    info: SymbolInfo
    base: Resolution
    bars: list[Bar]
    aggregated: dict[str, tuple[list[int], list[Bar]]] = field(default_factory=dict)

    def at(self, resolution: Resolution) -> tuple[list[int], list[Bar]]:
        """The bars at ``resolution`` (and their times, for bisecting), aggregated once and kept."""
        found = self.aggregated.get(resolution.code)
        if found is None:
            bars = self.bars if resolution == self.base else _aggregate(self.bars, resolution)
            found = self.aggregated[resolution.code] = ([b.time for b in bars], bars)
        return found


def _aggregate(bars: list[Bar], resolution: Resolution) -> list[Bar]:
    out: list[Bar] = []
    for bar in bars:
        start = resolution.floor(bar.time)
        if out and out[-1].time == start:
            last = out[-1]
            out[-1] = Bar(
                start,
                last.open,
                max(last.high, bar.high),
                min(last.low, bar.low),
                bar.close,
                last.volume + bar.volume,
            )
        else:
            out.append(Bar(start, bar.open, bar.high, bar.low, bar.close, bar.volume))
    return out


def _base_resolution(path: Path, times: list[int]) -> Resolution:
    gaps = [b - a for a, b in itertools.pairwise(times)]
    step = min(gaps) if gaps else (86_400 if times[0] % 86_400 == 0 else 60)
    if step >= 86_400:
        resolution = RESOLUTIONS["1D"]
    elif step % 60 == 0 and step // 60 in MINUTES:
        resolution = RESOLUTIONS[str(step // 60)]
    else:
        supported = ", ".join(f"{m} min" for m in MINUTES)
        raise DataFileError(f"{path}: rows are {step} s apart; use a spacing of {supported}, or a day or more")
    misaligned = next((t for t in times if resolution.floor(t) != t), None)
    if misaligned is not None:
        raise DataFileError(
            f"{path}: bar time {misaligned} does not start a {resolution.code} bar "
            "(minute bars start on multiples of their length, daily bars at 00:00 UTC)"
        )
    return resolution


def read_csv(path: Path, *, exchange: str = "CSV") -> tuple[SymbolInfo, Resolution, list[Bar]]:
    """Read one OHLCV file: its symbol, resolution and bars, oldest first."""
    ticker = path.stem.upper()
    bars: list[Bar] = []
    decimals = 0
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = {name.strip().lower(): name for name in reader.fieldnames or ()}
        time_column = next((columns[c] for c in _TIME_COLUMNS if c in columns), None)
        missing = [c for c in _PRICE_COLUMNS if c not in columns]
        if time_column is None or missing:
            need = ", ".join(["time", *missing] if time_column is None else missing)
            raise DataFileError(f"{path}: the header row lacks {need}")
        for row in reader:
            line = reader.line_num
            try:
                time = _parse_time(row[time_column])
                o, h, low, c = (float(row[columns[name]]) for name in _PRICE_COLUMNS)
                volume_text = row[columns["volume"]] if "volume" in columns else ""
                volume = float(volume_text) if volume_text and volume_text.strip() else 0.0
            except (AttributeError, TypeError, ValueError) as exc:
                raise DataFileError(f"{path}:{line}: {exc}") from exc
            if not low <= min(o, c) <= max(o, c) <= h:
                raise DataFileError(f"{path}:{line}: expected low <= open, close <= high")
            decimals = max(decimals, *(_decimals(row[columns[name]]) for name in _PRICE_COLUMNS))
            bars.append(Bar(time, o, h, low, c, volume))
    if not bars:
        raise DataFileError(f"{path}: no rows")
    bars.sort(key=lambda b: b.time)
    times = [b.time for b in bars]
    duplicate = next((a for a, b in itertools.pairwise(times) if a == b), None)
    if duplicate is not None:
        raise DataFileError(f"{path}: two rows for time {duplicate}")
    base = _base_resolution(path, times)
    info = SymbolInfo(
        ticker=ticker,
        description=ticker,
        type="stock",
        exchange=exchange,
        pricescale=10 ** min(decimals, 10),
        session="24x7",
        resolutions=tuple(r for r in RESOLUTIONS.values() if r.is_multiple_of(base)),
        data_status="endofday",
    )
    return info, base, bars


class CsvMarket:
    """Symbols, bars and quotes read from the ``*.csv`` files of a folder by :meth:`load`."""

    kind = "csv"

    def __init__(self, folder: Path, *, exchange: str = "CSV") -> None:
        self.folder = folder
        self.exchange = exchange
        self._series: dict[str, _Series] = {}

    def load(self) -> None:
        """Read every file; raises :class:`DataFileError` naming the first bad file and line."""
        series: dict[str, _Series] = {}
        for path in sorted(self.folder.glob("*.csv")):
            info, base, bars = read_csv(path, exchange=self.exchange)
            if info.ticker in series:
                raise DataFileError(f"{path}: a second file for symbol {info.ticker}")
            series[info.ticker] = _Series(info, base, bars)
        if not series:
            raise DataFileError(f"{self.folder}: no *.csv files to serve")
        self._series = series

    def symbols(self) -> Sequence[SymbolInfo]:
        return [s.info for s in self._series.values()]

    def bars(
        self, ticker: str, resolution: Resolution, *, end: int, start: int | None, limit: int, now: float
    ) -> list[Bar]:
        series = self._series.get(ticker)
        if series is None or not series.info.supports(resolution) or limit <= 0:
            return []
        times, bars = series.at(resolution)
        high = bisect.bisect_left(times, end)
        low = 0 if start is None else bisect.bisect_left(times, start)
        return bars[max(low, high - limit) : high]

    def quote(self, ticker: str, now: float) -> Quote | None:
        series = self._series.get(ticker)
        if series is None:
            return None
        info = series.info
        _, days = series.at(RESOLUTIONS["1D"])
        today = days[-1]
        previous = days[-2].close if len(days) > 1 else today.open
        return Quote(
            last=today.close,
            ask=info.round_price(today.close + info.tick),
            bid=info.round_price(today.close - info.tick),
            open=today.open,
            high=today.high,
            low=today.low,
            prev_close=previous,
            volume=today.volume,
        )
