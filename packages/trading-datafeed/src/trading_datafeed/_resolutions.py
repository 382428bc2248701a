"""Bar resolutions in TradingView's notation, and where their bars start (always in UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from ._errors import InvalidParameter

Unit = Literal["minute", "day", "week", "month"]

_DAY = 86_400
_WEEK = 7 * _DAY
# 1970-01-01 was a Thursday; weeks start on Monday, four days later.
_MONDAY = 4 * _DAY


@dataclass(frozen=True)
class Resolution:
    """A bar size: ``count`` minutes, or one day, week or month. Bars are stamped with the time
    they start: minutes on multiples of their length, days at 00:00 UTC, weeks on Monday 00:00 UTC,
    months on the 1st at 00:00 UTC."""

    code: str
    unit: Unit
    count: int = 1

    @property
    def seconds(self) -> int:
        """The nominal length (a month counts 30 days)."""
        return {"minute": 60 * self.count, "day": _DAY, "week": _WEEK, "month": 30 * _DAY}[self.unit]

    def floor(self, t: int) -> int:
        """The start of the bar that contains ``t``."""
        if self.unit == "month":
            d = datetime.fromtimestamp(t, UTC)
            return int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp())
        if self.unit == "week":
            return t - (t - _MONDAY) % _WEEK
        return t - t % self.seconds

    def ceil(self, t: int) -> int:
        """The start of the first bar that starts at or after ``t``."""
        start = self.floor(t)
        return start if start == t else self.next(start)

    def next(self, start: int) -> int:
        """The start of the bar after the one starting at ``start``."""
        if self.unit == "month":
            d = datetime.fromtimestamp(start, UTC)
            year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
            return int(datetime(year, month, 1, tzinfo=UTC).timestamp())
        return start + self.seconds

    def previous(self, start: int) -> int:
        """The start of the bar before the one starting at ``start``."""
        if self.unit == "month":
            d = datetime.fromtimestamp(start, UTC)
            year, month = (d.year - 1, 12) if d.month == 1 else (d.year, d.month - 1)
            return int(datetime(year, month, 1, tzinfo=UTC).timestamp())
        return start - self.seconds

    def number(self, t: int) -> int:
        """The bar that contains ``t``, numbered so that consecutive bars have consecutive numbers."""
        if self.unit == "month":
            d = datetime.fromtimestamp(t, UTC)
            return d.year * 12 + d.month - 1
        if self.unit == "week":
            return (t - _MONDAY) // _WEEK
        return t // self.seconds

    def start_of(self, number: int) -> int:
        """The start of the bar numbered ``number`` (see :meth:`number`)."""
        if self.unit == "month":
            year, month = divmod(number, 12)
            return int(datetime(year, month + 1, 1, tzinfo=UTC).timestamp())
        if self.unit == "week":
            return _MONDAY + number * _WEEK
        return number * self.seconds

    def is_multiple_of(self, base: Resolution) -> bool:
        """Whether bars of this resolution can be built from bars of ``base``."""
        if base.unit == "minute":
            return self.unit != "minute" or self.count % base.count == 0
        if base.unit == "day":
            return self.unit in ("day", "week", "month")
        return self == base


MINUTES = (1, 5, 15, 30, 60, 240)
RESOLUTIONS: dict[str, Resolution] = {
    **{str(m): Resolution(str(m), "minute", m) for m in MINUTES},
    "1D": Resolution("1D", "day"),
    "1W": Resolution("1W", "week"),
    "1M": Resolution("1M", "month"),
}
"""Every resolution the datafeed serves, by canonical code."""

_ALIASES = {"D": "1D", "W": "1W", "M": "1M"}


def parse_resolution(code: str) -> Resolution:
    """The resolution named by ``code`` (``"5"``, ``"60"``, ``"D"`` or ``"1D"``...)."""
    canonical = _ALIASES.get(code.strip().upper(), code.strip().upper())
    resolution = RESOLUTIONS.get(canonical)
    if resolution is None:
        raise InvalidParameter("resolution", f"unsupported resolution {code!r}; supported: {', '.join(RESOLUTIONS)}")
    return resolution
