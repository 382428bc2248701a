"""Broker API v2 wire format: every field of a v1 order, plus fills, timestamps and history."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from ..._models import OrderStatus, OrderType, Side
from .._schemas import (
    MODIFICATION_SCHEMA,
    ModifyOrderBody,
    PlaceOrderBody,
    PositionBody,
    ResponseBody,
    StrictPrice,
    StrictQuantity,
    Symbol,
    WireFormat,
)


class PreOrderV2(PlaceOrderBody):
    """An order to place. Unknown fields are refused, so a typo is not silently ignored."""

    # The docs pages' "Try it out" starts from the first example: an order the broker places.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"symbol": "AAPL", "quantity": 100, "order_type": "MARKET", "side": "BUY"},
                {"symbol": "MSFT", "quantity": 10, "order_type": "LIMIT", "side": "SELL", "limit_price": 500},
            ]
        },
    )

    symbol: Symbol = Field(description="A symbol the broker trades")
    quantity: StrictQuantity = Field(
        description="A whole number of the symbol's lots, at most the symbol's maximum order quantity"
    )
    order_type: OrderType = OrderType.MARKET
    side: Side = Side.BUY
    limit_price: StrictPrice | None = Field(
        default=None,
        description="On the symbol's tick, at most its maximum price; required for LIMIT and STOP_LIMIT, refused "
        "otherwise",
    )
    stop_price: StrictPrice | None = Field(
        default=None,
        description="On the symbol's tick, at most its maximum price; required for STOP and STOP_LIMIT, refused "
        "otherwise",
    )


class OrderModificationV2(ModifyOrderBody):
    """New values for a working order; fields left out keep their value. At least one field."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={**MODIFICATION_SCHEMA, "examples": [{"quantity": 50}, {"limit_price": 480}]},
    )

    quantity: StrictQuantity | None = None
    limit_price: StrictPrice | None = None
    stop_price: StrictPrice | None = None


class ExecutionV2(ResponseBody):
    """One fill."""

    id: str
    quantity: float
    price: float
    time: datetime


class StatusChangeV2(ResponseBody):
    """One entry of an order's status history."""

    status: OrderStatus
    time: datetime
    reason: str | None


class PlacedOrderV2(ResponseBody):
    """An order as broker API v2 reports it: a superset of the v1 order."""

    id: str
    account: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: float
    limit_price: float | None
    stop_price: float | None
    status: OrderStatus
    reason: str | None = Field(description="Why the order has its status, for example why it was rejected")
    stop_triggered: bool = Field(description="The stop of a STOP or STOP_LIMIT order has been reached")
    filled_quantity: float
    average_fill_price: float | None
    executions: list[ExecutionV2]
    created_at: datetime
    updated_at: datetime
    status_history: list[StatusChangeV2]


class ExecutionReportV2(ResponseBody):
    """One fill of an order: every field of a v1 execution, plus the account and the P&L it realised."""

    id: str
    order_id: str
    account: str
    symbol: str
    side: Side
    quantity: float
    price: float
    time: datetime
    realised_pnl: float = Field(description="Profit or loss this fill realised by reducing or closing a position")


class OpenPositionV2(PositionBody):
    """The net position in one symbol: every field of a v1 position, plus its valuation."""

    account: str
    symbol: str
    side: Side
    quantity: float = Field(description="The size held; 0 once the position is closed")
    average_price: float
    unrealised_pnl: float = Field(description="What closing the position at the last price would realise")
    realised_pnl: float = Field(description="Profit or loss realised in this symbol since the account first traded it")
    last_price: float | None
    updated_at: datetime


class AccountBalanceV2(ResponseBody):
    """The account's money: every field of the v1 account, plus its P&L."""

    account: str
    balance: float = Field(description="The initial balance plus every realised profit and loss")
    equity: float = Field(description="The balance plus the unrealised P&L of the open positions")
    realised_pnl: float
    unrealised_pnl: float
    open_positions: int
    updated_at: datetime


WIRE = WireFormat(PlacedOrderV2, ExecutionReportV2, OpenPositionV2, AccountBalanceV2)

# A broker event as v2's model of its subject, and as JSON: the bodies v2's REST endpoints answer
# for the same object (an order, an execution, a position, the account); v2's streams send them.
event_model = WIRE.model
event_payload = WIRE.payload
