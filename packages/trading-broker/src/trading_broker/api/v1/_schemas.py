"""Broker API v1 wire format: what v1 clients send and receive."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from ..._models import OrderStatus, OrderType, Side
from .._schemas import (
    MODIFICATION_SCHEMA,
    ModifyOrderBody,
    PlaceOrderBody,
    PositionBody,
    Price,
    Quantity,
    ResponseBody,
    Symbol,
    WireFormat,
)


class PreOrder(PlaceOrderBody):
    """An order to place. Only ``symbol`` and ``quantity`` are required."""

    # The docs pages' "Try it out" starts from the first example: it must be an order the broker
    # places (the seed's own), not a generated {"symbol": "string"}.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"symbol": "AAPL", "quantity": 100, "order_type": "MARKET"},
                {"symbol": "MSFT", "quantity": 10, "order_type": "LIMIT", "side": "SELL", "limit_price": 500},
            ]
        }
    )

    symbol: Symbol
    quantity: Quantity
    order_type: OrderType = OrderType.MARKET
    side: Side = Side.BUY
    limit_price: Price | None = Field(default=None, description="Required for LIMIT and STOP_LIMIT orders")
    stop_price: Price | None = Field(default=None, description="Required for STOP and STOP_LIMIT orders")


class OrderModification(ModifyOrderBody):
    """New values for a working order; fields left out keep their value."""

    model_config = ConfigDict(
        json_schema_extra={**MODIFICATION_SCHEMA, "examples": [{"quantity": 50}, {"limit_price": 480}]}
    )

    quantity: Quantity | None = None
    limit_price: Price | None = None
    stop_price: Price | None = None


class PlacedOrder(ResponseBody):
    """An order as broker API v1 reports it."""

    id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: float
    limit_price: float | None
    stop_price: float | None
    status: OrderStatus
    reason: str | None = Field(description="Why the order has its status, for example why it was rejected")


class ExecutionReport(ResponseBody):
    """One fill of an order."""

    id: str
    order_id: str
    symbol: str
    side: Side
    quantity: float
    price: float
    time: datetime


class OpenPosition(PositionBody):
    """The net position in one symbol: ``side`` BUY is long, SELL short; ``quantity`` is the size."""

    symbol: str
    side: Side
    quantity: float
    average_price: float
    unrealised_pnl: float = Field(description="What closing the position at the last price would realise")


class AccountBalance(ResponseBody):
    """The account's money: equity is the balance plus the unrealised P&L of the open positions."""

    account: str
    balance: float
    equity: float


WIRE = WireFormat(PlacedOrder, ExecutionReport, OpenPosition, AccountBalance)

# A broker event as v1's model of its subject, and as JSON: the bodies v1's REST endpoints answer
# for the same object (an order, an execution, a position, the account); v1's streams send them.
event_model = WIRE.model
event_payload = WIRE.payload
