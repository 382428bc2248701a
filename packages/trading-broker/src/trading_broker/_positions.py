"""How a fill moves a net position: average in, realise P&L on the way out, flip past zero."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from ._instruments import exact
from ._models import Position, Side


def apply_fill(
    position: Position | None,
    *,
    account: str,
    symbol: str,
    side: Side,
    quantity: float,
    price: float,
    at: datetime,
) -> tuple[Position, float]:
    """The position after a fill of ``quantity`` at ``price``, and the P&L the fill realised.

    A fill on the side of the position (or on a flat one) averages the price in. A fill against it
    realises (price - average) on the quantity it closes, reduces the position, closes it at zero,
    and past zero opens the other side at the fill price. Quantities and prices are added as the
    decimals the client wrote, so a position sold off to its last lot is exactly 0.
    """
    held = exact(position.quantity) if position is not None else Decimal(0)
    average = exact(position.average_price) if position is not None else Decimal(0)
    realised_before = position.realised_pnl if position is not None else 0.0
    signed = exact(quantity) if side is Side.BUY else -exact(quantity)
    fill_price = exact(price)
    realised = Decimal(0)
    after = held + signed
    if held == 0 or (held > 0) == (signed > 0):
        new_average = (abs(held) * average + abs(signed) * fill_price) / abs(after)
    else:
        closed = min(abs(held), abs(signed))
        direction = 1 if held > 0 else -1
        realised = closed * (fill_price - average) * direction
        if after == 0:
            new_average = Decimal(0)
        elif (after > 0) == (held > 0):
            new_average = average
        else:
            new_average = fill_price
    updated = Position(
        account=account,
        symbol=symbol,
        quantity=float(after),
        average_price=float(new_average),
        realised_pnl=realised_before + float(realised),
        updated_at=at,
        version=position.version if position is not None else 0,
    )
    if position is not None:
        updated = replace(updated, last_price=position.last_price)
    return updated, float(realised)
