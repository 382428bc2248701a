"""The host's clock: real time, or real time shifted to start at a configured moment.

Lifecycle dates (deprecation, sunset) are compared with this clock on every request, so a
staging deployment or a test can start the host "on" a given date (``TRADING_NOW`` or ``now`` in
the config) and watch versions cross their dates while it runs.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Unix seconds now; started at ``start`` if given, then running at the speed of real time."""

    __slots__ = ("_offset", "start")

    def __init__(self, start: datetime | None = None) -> None:
        self.start = _aware(start) if start is not None else None
        self._offset = self.start.timestamp() - time.time() if self.start is not None else 0.0

    @property
    def shifted(self) -> bool:
        """Whether this clock was set to another time than the real one."""
        return self.start is not None

    def __call__(self) -> float:
        return time.time() + self._offset


def _aware(moment: datetime) -> datetime:
    """A moment without a UTC offset is read as UTC, like the lifecycle dates."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
