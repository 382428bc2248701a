"""Where the broker gets the last price of a symbol: by default a deterministic simulated market."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Protocol

from ._instruments import BUILTIN_INSTRUMENTS, Instrument


class PriceSource(Protocol):
    """Gives the last traded price of a symbol at a moment, or ``None`` for a symbol it cannot price."""

    def last_price(self, symbol: str, at: datetime) -> float | None: ...


# The simulated price wanders on three time scales (an hour, a day, a week) so that it moves
# between placements but stays within a few percent of the instrument's reference price.
_SCALES: tuple[tuple[int, float], ...] = ((3_600, 0.004), (86_400, 0.015), (7 * 86_400, 0.03))


def _unit(seed: str) -> float:
    """A stable number in [-1, 1] for ``seed``; Python's own ``hash`` is salted per process."""
    digest = hashlib.blake2b(seed.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**63 - 1.0


def _smooth_noise(symbol: str, scale: int, t: float) -> float:
    """Value noise: stable random knots every ``scale`` seconds, eased in between."""
    knot, offset = divmod(t, scale)
    a = _unit(f"{symbol}|{scale}|{int(knot)}")
    b = _unit(f"{symbol}|{scale}|{int(knot) + 1}")
    x = offset / scale
    x = x * x * (3 - 2 * x)
    return a + (b - a) * x


class SimulatedPrices:
    """A deterministic market: the same symbol at the same minute always has the same price.

    No randomness and no state, so every process and every replica agrees on a price, and a test
    that fixes the clock fixes the price.
    """

    def __init__(self, instruments: Mapping[str, Instrument] = BUILTIN_INSTRUMENTS) -> None:
        self._instruments = dict(instruments)

    def last_price(self, symbol: str, at: datetime) -> float | None:
        instrument = self._instruments.get(symbol)
        if instrument is None:
            return None
        # Whole minutes: the price is constant within a minute, like a slow tape.
        t = float(int(at.timestamp()) // 60 * 60)
        log_move = sum(amplitude * _smooth_noise(symbol, scale, t) for scale, amplitude in _SCALES)
        price = Decimal(repr(instrument.reference_price * math.exp(log_move)))
        ticks = (price / instrument.tick_size).to_integral_value(ROUND_HALF_EVEN)
        return float(max(ticks, Decimal(1)) * instrument.tick_size)
