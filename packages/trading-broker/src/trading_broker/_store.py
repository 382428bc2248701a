"""Where orders live. The service talks to the :class:`OrderStore` protocol only, so a durable
store is one more implementation, chosen by the module, with no change to the service."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Protocol

from ._models import Order, OrderStatus


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first result of a ``POST /orders`` made with an ``Idempotency-Key``."""

    account: str
    key: str
    fingerprint: str
    """A digest of the request, to tell a retry from a different request reusing the key."""
    order: Order
    """The order as it was answered the first time."""


class OrderStore(Protocol):
    """Storage of orders and idempotency records. Each method is one atomic step."""

    async def open(self) -> None:
        """Acquire resources (connections, files); called once at start-up."""

    async def close(self) -> None:
        """Release what :meth:`open` acquired; called once at shutdown."""

    async def add(self, order: Order, idempotency: IdempotencyRecord | None = None) -> None:
        """Store a new order, and with it the idempotency record that answers its retries."""

    async def save(self, order: Order) -> None:
        """Store the new state of an order already added."""

    async def get(self, order_id: str) -> Order | None:
        """The order with this id, whatever its account; ``None`` when there is none."""

    async def orders(self, account: str, status: OrderStatus | None = None) -> list[Order]:
        """The account's orders, oldest first, optionally only those with ``status``."""

    async def idempotency(self, account: str, key: str) -> IdempotencyRecord | None:
        """The record stored for ``key`` by ``account``; keys of other accounts are not seen."""

    async def count(self) -> int:
        """How many orders are stored, over all accounts."""


class MemoryOrderStore:
    """Keeps orders in this process's memory: fast, and gone at exit.

    Orders are copied in and out, so a caller that changes an order it holds changes nothing
    stored until it calls :meth:`save`, as with a database.
    """

    def __init__(self) -> None:
        self._orders: dict[str, Order] = {}
        self._by_account: dict[str, list[str]] = {}
        self._idempotency: dict[tuple[str, str], IdempotencyRecord] = {}

    async def open(self) -> None:
        """Nothing to acquire: memory is ready."""

    async def close(self) -> None:
        """Nothing to release; the data stays until the store is dropped."""

    async def add(self, order: Order, idempotency: IdempotencyRecord | None = None) -> None:
        if order.id in self._orders:
            raise ValueError(f"order {order.id} is already stored")
        self._orders[order.id] = copy.deepcopy(order)
        self._by_account.setdefault(order.account, []).append(order.id)
        if idempotency is not None:
            self._idempotency[(idempotency.account, idempotency.key)] = copy.deepcopy(idempotency)

    async def save(self, order: Order) -> None:
        if order.id not in self._orders:
            raise KeyError(f"order {order.id} is not stored")
        self._orders[order.id] = copy.deepcopy(order)

    async def get(self, order_id: str) -> Order | None:
        order = self._orders.get(order_id)
        return copy.deepcopy(order) if order is not None else None

    async def orders(self, account: str, status: OrderStatus | None = None) -> list[Order]:
        orders = (self._orders[i] for i in self._by_account.get(account, ()))
        return [copy.deepcopy(o) for o in orders if status is None or o.status is status]

    async def idempotency(self, account: str, key: str) -> IdempotencyRecord | None:
        record = self._idempotency.get((account, key))
        return copy.deepcopy(record) if record is not None else None

    async def count(self) -> int:
        return len(self._orders)
