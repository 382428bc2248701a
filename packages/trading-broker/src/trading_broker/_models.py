"""The broker's domain objects, independent of any API version's wire format."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from ._instruments import exact


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"
    STOP_LIMIT = "STOP_LIMIT"

    @property
    def needs_limit_price(self) -> bool:
        return self in (OrderType.LIMIT, OrderType.STOP_LIMIT)

    @property
    def needs_stop_price(self) -> bool:
        return self in (OrderType.STOP, OrderType.STOP_LIMIT)


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderStatus(StrEnum):
    WORKING = "working"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"

    @property
    def is_final(self) -> bool:
        """A final status never changes again: the order can be neither modified nor canceled."""
        return self is not OrderStatus.WORKING


@dataclass(frozen=True)
class OrderRequest:
    """What a client asks for when placing an order."""

    symbol: str
    quantity: float
    side: Side = Side.BUY
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None


@dataclass(frozen=True)
class OrderChanges:
    """A modification of a working order; ``None`` leaves a field as it is."""

    quantity: float | None = None
    limit_price: float | None = None
    stop_price: float | None = None


@dataclass(frozen=True)
class Execution:
    """One fill of an order."""

    id: str
    order_id: str
    account: str
    symbol: str
    side: Side
    quantity: float
    price: float
    time: datetime
    realised_pnl: float = 0.0
    """The profit or loss this fill realised by reducing or closing a position."""


@dataclass(frozen=True)
class StatusChange:
    """One entry of an order's status history."""

    status: OrderStatus
    time: datetime
    reason: str | None = None


@dataclass
class Order:
    """An order of one account, with its fills and the history of its status."""

    id: str
    account: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: float
    limit_price: float | None
    stop_price: float | None
    created_at: datetime
    updated_at: datetime
    status: OrderStatus = OrderStatus.WORKING
    reason: str | None = None
    stop_triggered: bool = False
    executions: list[Execution] = field(default_factory=list)
    status_history: list[StatusChange] = field(default_factory=list)
    version: int = 0
    """Bumped by every stored change; a write that expects another version is refused."""

    @property
    def filled_quantity(self) -> float:
        return sum(e.quantity for e in self.executions)

    @property
    def average_fill_price(self) -> float | None:
        filled = self.filled_quantity
        if not filled:
            return None
        return sum(e.price * e.quantity for e in self.executions) / filled

    def snapshot(self) -> Order:
        """A copy that later changes of this order do not touch. Its lists are copied; what they hold
        (executions, status changes) is immutable, so it is shared: as exact as ``copy.deepcopy``
        and a small fraction of its cost, on the path of every order placed."""
        return replace(self, executions=list(self.executions), status_history=list(self.status_history))

    def set_status(self, status: OrderStatus, at: datetime, reason: str | None = None) -> None:
        """Move to ``status``; a final status is never left (the service checks before calling)."""
        if self.status.is_final:
            raise RuntimeError(f"order {self.id} is {self.status} and cannot become {status}")
        self.status = status
        self.reason = reason
        self.updated_at = at
        self.status_history.append(StatusChange(status, at, reason))


@dataclass(frozen=True)
class Position:
    """The net position of an account in one symbol: positive ``quantity`` is long, negative short.

    ``last_price`` is filled in when the position is valued; a flat position (quantity 0) is closed.
    """

    account: str
    symbol: str
    quantity: float
    average_price: float
    realised_pnl: float
    """Profit or loss realised in this symbol since the account first traded it."""
    updated_at: datetime
    last_price: float | None = None
    version: int = 0

    @property
    def side(self) -> Side:
        return Side.BUY if self.quantity >= 0 else Side.SELL

    @property
    def size(self) -> float:
        """The quantity held, whatever the side."""
        return abs(self.quantity)

    @property
    def is_open(self) -> bool:
        return self.quantity != 0

    @property
    def unrealised_pnl(self) -> float:
        """What closing the position at ``last_price`` would realise; 0 when it is not valued."""
        if self.last_price is None or not self.quantity:
            return 0.0
        # In decimals, so a position priced at its average shows 0 and not a float's residue.
        return float(exact(self.quantity) * (exact(self.last_price) - exact(self.average_price)))


@dataclass(frozen=True)
class Account:
    """An account's money: ``balance`` is the initial balance plus every realised profit and loss."""

    id: str
    balance: float
    realised_pnl: float
    created_at: datetime
    updated_at: datetime
    version: int = 0


@dataclass(frozen=True)
class AccountSummary:
    """An account valued at the last prices: equity = balance + unrealised P&L of its open positions."""

    account: str
    balance: float
    realised_pnl: float
    unrealised_pnl: float
    equity: float
    open_positions: int
    updated_at: datetime
