"""The order rules, written once. An API version picks how strictly they apply."""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum

from ._errors import Violation
from ._instruments import Instrument, exact, is_multiple, plain
from ._models import OrderRequest


class Strictness(StrEnum):
    """How an API version applies the rules."""

    BASIC = "basic"
    """Only what an order needs to be executable: a known symbol and the prices its type uses.
    Broker API v1's original contract."""
    STRICT = "strict"
    """Also: no price the type does not use, quantity in whole lots, prices on the tick. Broker API v2."""


LIMIT_RULES = frozenset({"printable", "finite", "max_quantity", "max_price", "buying_power"})
"""Rules that refuse an order under every strictness (nothing is stored, the client gets a 422):
the bounds that keep every number the broker computes with finite, a symbol that can be stored
(no control character, no lone surrogate), and buying power. Under
``BASIC`` the other rules store the order as rejected instead."""


def refuses(violations: list[Violation], strictness: Strictness) -> bool:
    """Whether ``violations`` refuse the order outright rather than store it as rejected."""
    return bool(violations) and (strictness is Strictness.STRICT or any(v.rule in LIMIT_RULES for v in violations))


def order_violations(
    order: OrderRequest, instruments: Mapping[str, Instrument], strictness: Strictness
) -> list[Violation]:
    """Every rule ``order`` breaks, in field order; empty when it may be placed."""
    strict = strictness is Strictness.STRICT
    found: list[Violation] = []
    instrument = instruments.get(order.symbol)
    if not order.symbol.isprintable():
        found.append(Violation("symbol", "printable", "symbol must be printable text, with no control character"))
    elif instrument is None:
        known = ", ".join(sorted(instruments))
        found.append(Violation("symbol", "unknown_symbol", f"unknown symbol {order.symbol!r}; known: {known}"))
    quantity = order.quantity
    if not math.isfinite(quantity):
        found.append(Violation("quantity", "finite", "quantity must be a finite number", None))
    elif quantity <= 0:
        found.append(Violation("quantity", "positive", "quantity must be greater than 0", quantity))
    elif instrument is not None and exact(quantity) > instrument.max_quantity:
        found.append(
            Violation(
                "quantity",
                "max_quantity",
                f"quantity {plain(quantity)} is more than the maximum {instrument.max_quantity} of one "
                f"{instrument.symbol} order",
                quantity,
            )
        )
    elif strict and instrument is not None and not is_multiple(quantity, instrument.lot_size):
        found.append(
            Violation(
                "quantity",
                "lot_size",
                f"quantity {plain(quantity)} is not a multiple of the lot size {instrument.lot_size} of "
                f"{instrument.symbol}",
                quantity,
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
        if not math.isfinite(price):
            found.append(Violation(name, "finite", f"{name} must be a finite number", None))
        elif price <= 0:
            found.append(Violation(name, "positive", f"{name} must be greater than 0", price))
        elif strict and not needed:
            found.append(Violation(name, "not_allowed", f"{name} is not allowed for {kind} orders", price))
        elif instrument is not None and exact(price) > instrument.max_price:
            found.append(
                Violation(
                    name,
                    "max_price",
                    f"{name} {plain(price)} is more than the maximum price {instrument.max_price} of "
                    f"{instrument.symbol}",
                    price,
                )
            )
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
