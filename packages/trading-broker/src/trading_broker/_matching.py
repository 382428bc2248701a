"""When a working order fills, given the last price: the paper broker's trigger and fill rules."""

from __future__ import annotations

from dataclasses import dataclass

from ._models import Order, OrderType, Side


@dataclass(frozen=True)
class Decision:
    """What the last price does to a working order."""

    triggers_stop: bool
    """The stop of a STOP or STOP_LIMIT order is reached now."""
    fill_price: float | None
    """The price the remaining quantity fills at, or ``None`` when it keeps working."""


def _stop_reached(side: Side, stop: float, last: float) -> bool:
    # A buy stop protects against a rise, a sell stop against a fall.
    return last >= stop if side is Side.BUY else last <= stop


def _limit_reached(side: Side, limit: float, last: float) -> bool:
    return last <= limit if side is Side.BUY else last >= limit


def evaluate(order: Order, last: float) -> Decision:
    """Apply the rules: market fills at last; a limit fills when last is at or better than the limit;
    a stop triggers when last reaches it and then acts as market (STOP) or limit (STOP_LIMIT).
    Fills are at the last price, which is never worse than the limit."""
    triggers = False
    kind = order.order_type
    if kind.needs_stop_price and not order.stop_triggered:
        assert order.stop_price is not None, "the rules require a stop price for this order type"
        triggers = _stop_reached(order.side, order.stop_price, last)
        if not triggers:
            return Decision(False, None)
    if kind is OrderType.MARKET or kind is OrderType.STOP:
        return Decision(triggers, last)
    assert order.limit_price is not None, "the rules require a limit price for this order type"
    return Decision(triggers, last if _limit_reached(order.side, order.limit_price, last) else None)
