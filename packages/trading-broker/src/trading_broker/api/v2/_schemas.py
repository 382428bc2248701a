"""Broker API v2 wire format: every field of a v1 order, plus fills, timestamps and history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ..._events import BrokerEvent
from ..._models import (
    AccountSummary,
    Execution,
    Order,
    OrderChanges,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    StatusChange,
)

Symbol = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=32)]
Price = Annotated[float, Field(gt=0)]


class PreOrderV2(BaseModel):
    """An order to place. Unknown fields are refused, so a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    symbol: Symbol = Field(description="A symbol the broker trades")
    quantity: float = Field(gt=0, description="A whole number of the symbol's lots")
    order_type: OrderType = OrderType.MARKET
    side: Side = Side.BUY
    limit_price: Price | None = Field(
        default=None, description="On the symbol's tick; required for LIMIT and STOP_LIMIT, refused otherwise"
    )
    stop_price: Price | None = Field(
        default=None, description="On the symbol's tick; required for STOP and STOP_LIMIT, refused otherwise"
    )

    def to_request(self) -> OrderRequest:
        return OrderRequest(
            symbol=self.symbol,
            quantity=self.quantity,
            side=self.side,
            order_type=self.order_type,
            limit_price=self.limit_price,
            stop_price=self.stop_price,
        )


class OrderModificationV2(BaseModel):
    """New values for a working order; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    quantity: float | None = Field(default=None, gt=0)
    limit_price: Price | None = None
    stop_price: Price | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.quantity is None and self.limit_price is None and self.stop_price is None:
            raise ValueError("give at least one of quantity, limit_price, stop_price")
        return self

    def to_changes(self) -> OrderChanges:
        return OrderChanges(quantity=self.quantity, limit_price=self.limit_price, stop_price=self.stop_price)


class ExecutionV2(BaseModel):
    """One fill."""

    id: str
    quantity: float
    price: float
    time: datetime

    @classmethod
    def from_execution(cls, execution: Execution) -> ExecutionV2:
        return cls(id=execution.id, quantity=execution.quantity, price=execution.price, time=execution.time)


class StatusChangeV2(BaseModel):
    """One entry of an order's status history."""

    status: OrderStatus
    time: datetime
    reason: str | None


class PlacedOrderV2(BaseModel):
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

    @classmethod
    def from_order(cls, order: Order) -> PlacedOrderV2:
        return cls(
            id=order.id,
            account=order.account,
            symbol=order.symbol,
            side=order.side,
            order_type=order.order_type,
            quantity=order.quantity,
            limit_price=order.limit_price,
            stop_price=order.stop_price,
            status=order.status,
            reason=order.reason,
            stop_triggered=order.stop_triggered,
            filled_quantity=order.filled_quantity,
            average_fill_price=order.average_fill_price,
            executions=[ExecutionV2.from_execution(e) for e in order.executions],
            created_at=order.created_at,
            updated_at=order.updated_at,
            status_history=[_status_change(c) for c in order.status_history],
        )


def _status_change(change: StatusChange) -> StatusChangeV2:
    return StatusChangeV2(status=change.status, time=change.time, reason=change.reason)


class ExecutionReportV2(BaseModel):
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

    @classmethod
    def from_execution(cls, execution: Execution) -> ExecutionReportV2:
        return cls(
            id=execution.id,
            order_id=execution.order_id,
            account=execution.account,
            symbol=execution.symbol,
            side=execution.side,
            quantity=execution.quantity,
            price=execution.price,
            time=execution.time,
            realised_pnl=execution.realised_pnl,
        )


class OpenPositionV2(BaseModel):
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

    @classmethod
    def from_position(cls, position: Position) -> OpenPositionV2:
        return cls(
            account=position.account,
            symbol=position.symbol,
            side=position.side,
            quantity=position.size,
            average_price=position.average_price,
            unrealised_pnl=position.unrealised_pnl,
            realised_pnl=position.realised_pnl,
            last_price=position.last_price,
            updated_at=position.updated_at,
        )


class AccountBalanceV2(BaseModel):
    """The account's money: every field of the v1 account, plus its P&L."""

    account: str
    balance: float = Field(description="The initial balance plus every realised profit and loss")
    equity: float = Field(description="The balance plus the unrealised P&L of the open positions")
    realised_pnl: float
    unrealised_pnl: float
    open_positions: int
    updated_at: datetime

    @classmethod
    def from_summary(cls, summary: AccountSummary) -> AccountBalanceV2:
        return cls(
            account=summary.account,
            balance=summary.balance,
            equity=summary.equity,
            realised_pnl=summary.realised_pnl,
            unrealised_pnl=summary.unrealised_pnl,
            open_positions=summary.open_positions,
            updated_at=summary.updated_at,
        )


def event_model(event: BrokerEvent) -> PlacedOrderV2 | ExecutionReportV2 | OpenPositionV2 | AccountBalanceV2:
    """A broker event as broker API v2's model of its subject: the model its REST endpoints answer
    for the same object (an order, an execution, a position, the account)."""
    subject = event.subject
    if isinstance(subject, Order):
        return PlacedOrderV2.from_order(subject)
    if isinstance(subject, Execution):
        return ExecutionReportV2.from_execution(subject)
    if isinstance(subject, Position):
        return OpenPositionV2.from_position(subject)
    return AccountBalanceV2.from_summary(subject)


def event_payload(event: BrokerEvent) -> dict[str, Any]:
    """A broker event in broker API v2's wire format: the body its REST endpoints answer for the
    same object (an order, an execution, a position, the account)."""
    return event_model(event).model_dump(mode="json")
