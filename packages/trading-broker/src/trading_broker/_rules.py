"""The order rules, written once. An API version picks how strictly they apply."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from ._errors import Violation
from ._instruments import Instrument, is_multiple, plain
from ._models import OrderRequest


class Strictness(StrEnum):
    """How an API version applies the rules."""

    BASIC = "basic"
    """Only what an order needs to be executable: a known symbol and the prices its type uses.
    Broker API v1's original contract."""
    STRICT = "strict"
    """Also: no price the type does not use, quantity in whole lots, prices on the tick. Broker API v2."""


def order_violations(
    order: OrderRequest, instruments: Mapping[str, Instrument], strictness: Strictness
) -> list[Violation]:
    """Every rule ``order`` breaks, in field order; empty when it may be placed."""
    strict = strictness is Strictness.STRICT
    found: list[Violation] = []
    instrument = instruments.get(order.symbol)
    if instrument is None:
        known = ", ".join(sorted(instruments))
        found.append(Violation("symbol", "unknown_symbol", f"unknown symbol {order.symbol!r}; known: {known}"))
    if order.quantity <= 0:
        found.append(Violation("quantity", "positive", "quantity must be greater than 0", order.quantity))
    elif strict and instrument is not None and not is_multiple(order.quantity, instrument.lot_size):
        found.append(
            Violation(
                "quantity",
                "lot_size",
                f"quantity {plain(order.quantity)} is not a multiple of the lot size {instrument.lot_size} of "
                f"{instrument.symbol}",
                order.quantity,
            )
        )
    kind = order.order_type
    for name, price, needed in (
        ("limit_price", order.limit_price, kind.needs_limit_price),
        ("stop_price", order.stop_price, kind.needs_stop_price),
    ):
        if price is None:
            if needed:
                found.append(Violation(name, "required", f"{name} is required for {kind} orders"))
            continue
        if price <= 0:
            found.append(Violation(name, "positive", f"{name} must be greater than 0", price))
        elif strict and not needed:
            found.append(Violation(name, "not_allowed", f"{name} is not allowed for {kind} orders", price))
        elif strict and instrument is not None and not is_multiple(price, instrument.tick_size):
            found.append(
                Violation(
                    name,
                    "tick_size",
                    f"{name} {plain(price)} is not on the tick size {instrument.tick_size} of {instrument.symbol}",
                    price,
                )
            )
    return found
