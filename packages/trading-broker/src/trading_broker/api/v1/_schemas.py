"""Broker API v1 wire format: what v1 clients send and receive."""

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
)

Symbol = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=32)]
Price = Annotated[float, Field(gt=0)]


class PreOrder(BaseModel):
    """An order to place. Only ``symbol`` and ``quantity`` are required."""

    model_config = ConfigDict(allow_inf_nan=False)

    symbol: Symbol
    quantity: float = Field(gt=0)
    order_type: OrderType = OrderType.MARKET
    side: Side = Side.BUY
    limit_price: Price | None = Field(default=None, description="Required for LIMIT and STOP_LIMIT orders")
    stop_price: Price | None = Field(default=None, description="Required for STOP and STOP_LIMIT orders")

    def to_request(self) -> OrderRequest:
        return OrderRequest(
            symbol=self.symbol,
            quantity=self.quantity,
            side=self.side,
            order_type=self.order_type,
            limit_price=self.limit_price,
            stop_price=self.stop_price,
        )


class OrderModification(BaseModel):
    """New values for a working order; fields left out keep their value."""

    model_config = ConfigDict(allow_inf_nan=False)

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


class PlacedOrder(BaseModel):
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

    @classmethod
    def from_order(cls, order: Order) -> PlacedOrder:
        return cls(
            id=order.id,
            symbol=order.symbol,
            side=order.side,
            order_type=order.order_type,
            quantity=order.quantity,
            limit_price=order.limit_price,
            stop_price=order.stop_price,
            status=order.status,
            reason=order.reason,
        )


class ExecutionReport(BaseModel):
    """One fill of an order."""

    id: str
    order_id: str
    symbol: str
    side: Side
    quantity: float
    price: float
    time: datetime

    @classmethod
    def from_execution(cls, execution: Execution) -> ExecutionReport:
        return cls(
            id=execution.id,
            order_id=execution.order_id,
            symbol=execution.symbol,
            side=execution.side,
            quantity=execution.quantity,
            price=execution.price,
            time=execution.time,
        )


class OpenPosition(BaseModel):
    """The net position in one symbol: ``side`` BUY is long, SELL short; ``quantity`` is the size."""

    symbol: str
    side: Side
    quantity: float
    average_price: float
    unrealised_pnl: float = Field(description="What closing the position at the last price would realise")

    @classmethod
    def from_position(cls, position: Position) -> OpenPosition:
        return cls(
            symbol=position.symbol,
            side=position.side,
            quantity=position.size,
            average_price=position.average_price,
            unrealised_pnl=position.unrealised_pnl,
        )


class AccountBalance(BaseModel):
    """The account's money: equity is the balance plus the unrealised P&L of the open positions."""

    account: str
    balance: float
    equity: float

    @classmethod
    def from_summary(cls, summary: AccountSummary) -> AccountBalance:
        return cls(account=summary.account, balance=summary.balance, equity=summary.equity)


def event_model(event: BrokerEvent) -> PlacedOrder | ExecutionReport | OpenPosition | AccountBalance:
    """A broker event as broker API v1's model of its subject: the model its REST endpoints answer
    for the same object (an order, an execution, a position, the account)."""
    subject = event.subject
    if isinstance(subject, Order):
        return PlacedOrder.from_order(subject)
    if isinstance(subject, Execution):
        return ExecutionReport.from_execution(subject)
    if isinstance(subject, Position):
        return OpenPosition.from_position(subject)
    return AccountBalance.from_summary(subject)


def event_payload(event: BrokerEvent) -> dict[str, Any]:
    """A broker event in broker API v1's wire format: the body its REST endpoints answer for the
    same object (an order, an execution, a position, the account)."""
    return event_model(event).model_dump(mode="json")
