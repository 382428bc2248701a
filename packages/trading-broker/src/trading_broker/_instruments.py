"""The instruments the broker trades: lot size, tick size and a reference price for the simulator."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Instrument:
    """A tradable symbol. Quantities are multiples of ``lot_size``, prices multiples of ``tick_size``."""

    symbol: str
    description: str
    kind: str
    lot_size: Decimal
    tick_size: Decimal
    reference_price: float
    """Centre of the simulated market for this symbol."""


def _instrument(symbol: str, description: str, kind: str, lot: str, tick: str, price: float) -> Instrument:
    return Instrument(symbol, description, kind, Decimal(lot), Decimal(tick), price)


BUILTIN_INSTRUMENTS: dict[str, Instrument] = {
    i.symbol: i
    for i in (
        _instrument("AAPL", "Apple Inc.", "stock", "1", "0.01", 190.0),
        _instrument("MSFT", "Microsoft Corporation", "stock", "1", "0.01", 410.0),
        _instrument("GOOGL", "Alphabet Inc. Class A", "stock", "1", "0.01", 170.0),
        _instrument("AMZN", "Amazon.com Inc.", "stock", "1", "0.01", 180.0),
        _instrument("TSLA", "Tesla Inc.", "stock", "1", "0.01", 250.0),
        _instrument("NVDA", "NVIDIA Corporation", "stock", "1", "0.01", 120.0),
        _instrument("SPY", "SPDR S&P 500 ETF Trust", "fund", "1", "0.01", 520.0),
        _instrument("EURUSD", "Euro / US Dollar", "forex", "1000", "0.00001", 1.085),
        _instrument("GBPUSD", "British Pound / US Dollar", "forex", "1000", "0.00001", 1.27),
        _instrument("USDJPY", "US Dollar / Japanese Yen", "forex", "1000", "0.001", 150.0),
        _instrument("BTCUSD", "Bitcoin / US Dollar", "crypto", "0.0001", "0.01", 65000.0),
        _instrument("ETHUSD", "Ether / US Dollar", "crypto", "0.001", "0.01", 3500.0),
    )
}
"""The instruments of the embedded simulated market, by symbol."""


def exact(value: float) -> Decimal:
    """``value`` as the decimal a client wrote: its shortest form, so 0.1 is 0.1 and not 0.1000000000000000055."""
    return Decimal(repr(value))


def is_multiple(value: float, step: Decimal) -> bool:
    """Whether ``value`` is a whole multiple of ``step``, judged on its shortest decimal form so
    that a float like 0.1 counts as the 0.1 the client wrote."""
    return exact(value) % step == 0


def plain(value: float | None) -> str:
    """``value`` as a person writes it: ``150`` rather than ``150.0``, ``0.00001`` rather than ``1e-05``."""
    if value is None:
        return "none"
    return format(exact(value).normalize(), "f")
