"""Buying power: how much an account may still hold, and whether an order fits in it.

The rule, one for longs and shorts: an account may hold open positions and working orders worth
at most ``leverage`` x its equity. An order needs buying power for the part of it that opens or
adds to a position (its quantity beyond what it closes of the opposite position, after the
account's other working orders on its side have closed what they would), valued at its price: the
limit price of a LIMIT or STOP_LIMIT order, the stop price of a STOP order, the last price of a
MARKET order. The buying power left is ``leverage x equity`` less the open positions at their last
prices and the working orders, valued the same way. An order that only reduces a position needs
none, so an account can always close what it holds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from ._errors import Violation
from ._instruments import plain
from ._models import OrderRequest, Position, Side

RULE = "buying_power"
# Floating-point sums of exact decimals may land a hair above what they add up to.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Working:
    """The working orders of one account in one symbol and side, added up."""

    symbol: str
    side: Side
    quantity: float
    notional: float
    """The sum of each order's quantity times its price."""


def reference_price(order: OrderRequest, last: float | None) -> float | None:
    """The price an order is valued at: its limit, else its stop, else (a market order) the last price."""
    if order.order_type.needs_limit_price:
        return order.limit_price
    if order.order_type.needs_stop_price:
        return order.stop_price
    return last


def opening(side: Side, quantity: float, held: float) -> float:
    """The part of ``quantity`` on ``side`` that opens or adds to a position, ``held`` being the
    net position (positive long, negative short)."""
    closable = max(0.0, -held) if side is Side.BUY else max(0.0, held)
    return max(0.0, quantity - closable)


@dataclass(frozen=True)
class BuyingPower:
    """An account's buying power: what it has, what its positions and working orders take."""

    leverage: float
    equity: float
    in_positions: float
    in_orders: float

    @property
    def left(self) -> float:
        return self.leverage * self.equity - self.in_positions - self.in_orders


def buying_power(
    *, leverage: float, equity: float, positions: Iterable[Position], working: Iterable[Working]
) -> BuyingPower:
    """The buying power of an account from its equity, its valued positions and its working orders."""
    positions = list(positions)
    held = {p.symbol: p.quantity for p in positions}
    # A position without a last price is valued at its average price.
    in_positions = sum(abs(p.quantity) * (p.average_price if p.last_price is None else p.last_price) for p in positions)
    in_orders = 0.0
    for w in working:
        if w.quantity > 0:
            in_orders += opening(w.side, w.quantity, held.get(w.symbol, 0.0)) * (w.notional / w.quantity)
    return BuyingPower(leverage, equity, in_positions, in_orders)


def needed(order: OrderRequest, price: float, *, held: float, same_side: float) -> float:
    """The buying power ``order`` needs: its opening part, after the working orders on its side
    (``same_side`` in all), valued at ``price``."""
    return (opening(order.side, same_side + order.quantity, held) - opening(order.side, same_side, held)) * price


def violation(
    account: str,
    order: OrderRequest,
    price: float,
    power: BuyingPower,
    *,
    held: float,
    same_side: float,
    before: float = 0.0,
) -> Violation | None:
    """The ``buying_power`` violation of ``order``, or ``None`` when it fits. ``before`` is what the
    order needed before a modification (which is not in ``power``): a modification that needs no
    more than that is never refused."""
    need = needed(order, price, held=held, same_side=same_side)
    if need <= 0 or need <= before:
        return None
    left = power.left
    if math.isfinite(left) and math.isfinite(need) and need <= left + _TOLERANCE * max(1.0, abs(left)):
        return None
    return Violation(
        "quantity",
        RULE,
        f"not enough buying power: this order needs {_money(need)} ({plain(order.quantity)} {order.symbol} at "
        f"{plain(price)}) and account {account!r} has {_money(max(left, 0.0))} left: leverage {power.leverage:g} x "
        f"equity {_money(power.equity)}, less {_money(power.in_positions)} in open positions and "
        f"{_money(power.in_orders)} in working orders",
        order.quantity,
    )


def _money(value: float) -> str:
    return f"{value:,.2f}" if math.isfinite(value) else str(value)
