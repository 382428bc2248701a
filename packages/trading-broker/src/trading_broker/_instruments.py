"""The instruments the broker trades: lot size, tick size, the largest order, and a reference
price for the simulator."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext

QUANTITY_CEILING = 1_000_000_000
"""No instrument takes an order for more: the bound of ``quantity`` in every version's wire format."""
PRICE_CEILING = 1_000_000_000
"""No instrument takes a price above it: the bound of ``limit_price`` and ``stop_price`` on the wire."""
# Enough digits for any quotient of two floats (at most about 10^308 / 10^-324), so that exact
# decimal arithmetic on them never signals; see is_multiple.
_WIDE = Context(prec=700, Emax=999_999, Emin=-999_999)


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
    max_quantity: Decimal = Decimal(1_000_000)
    """The largest quantity one order may have (at most :data:`QUANTITY_CEILING`)."""
    max_price: Decimal = Decimal(1_000_000)
    """The largest limit or stop price an order may have (at most :data:`PRICE_CEILING`)."""

    def __post_init__(self) -> None:
        if not 0 < self.max_quantity <= QUANTITY_CEILING or not 0 < self.max_price <= PRICE_CEILING:
            raise ValueError(
                f"{self.symbol}: max_quantity must be in (0, {QUANTITY_CEILING}] and max_price in (0, {PRICE_CEILING}]"
            )


def _instrument(
    symbol: str, description: str, kind: str, lot: str, tick: str, price: float, max_quantity: int, max_price: int
) -> Instrument:
    return Instrument(
        symbol, description, kind, Decimal(lot), Decimal(tick), price, Decimal(max_quantity), Decimal(max_price)
    )


BUILTIN_INSTRUMENTS: dict[str, Instrument] = {
    i.symbol: i
    for i in (
        _instrument("AAPL", "Apple Inc.", "stock", "1", "0.01", 190.0, 1_000_000, 1_000_000),
        _instrument("MSFT", "Microsoft Corporation", "stock", "1", "0.01", 410.0, 1_000_000, 1_000_000),
        _instrument("GOOGL", "Alphabet Inc. Class A", "stock", "1", "0.01", 170.0, 1_000_000, 1_000_000),
        _instrument("AMZN", "Amazon.com Inc.", "stock", "1", "0.01", 180.0, 1_000_000, 1_000_000),
        _instrument("TSLA", "Tesla Inc.", "stock", "1", "0.01", 250.0, 1_000_000, 1_000_000),
        _instrument("NVDA", "NVIDIA Corporation", "stock", "1", "0.01", 120.0, 1_000_000, 1_000_000),
        _instrument("SPY", "SPDR S&P 500 ETF Trust", "fund", "1", "0.01", 520.0, 1_000_000, 1_000_000),
        _instrument("EURUSD", "Euro / US Dollar", "forex", "1000", "0.00001", 1.085, 100_000_000, 1_000),
        _instrument("GBPUSD", "British Pound / US Dollar", "forex", "1000", "0.00001", 1.27, 100_000_000, 1_000),
        _instrument("USDJPY", "US Dollar / Japanese Yen", "forex", "1000", "0.001", 150.0, 100_000_000, 100_000),
        _instrument("BTCUSD", "Bitcoin / US Dollar", "crypto", "0.0001", "0.01", 65000.0, 10_000, 10_000_000),
        _instrument("ETHUSD", "Ether / US Dollar", "crypto", "0.001", "0.01", 3500.0, 100_000, 1_000_000),
    )
}
"""The instruments of the embedded simulated market, by symbol."""


def exact(value: float) -> Decimal:
    """``value`` as the decimal a client wrote: its shortest form, so 0.1 is 0.1 and not 0.1000000000000000055."""
    return Decimal(repr(value))


def is_multiple(value: float, step: Decimal) -> bool:
    """Whether ``value`` is a whole multiple of ``step``, judged on its shortest decimal form so
    that a float like 0.1 counts as the 0.1 the client wrote. Never raises for a finite float: the
    default context's 28 digits would signal ``DivisionImpossible`` for a quotient past them."""
    if not math.isfinite(value):
        return False
    with localcontext(_WIDE):
        return exact(value) % step == 0


def plain(value: float | None) -> str:
    """``value`` as a person writes it: ``150`` rather than ``150.0``, ``0.00001`` rather than ``1e-05``."""
    if value is None:
        return "none"
    return format(exact(value).normalize(), "f")
