"""The broker's business logic, shared by every API version served in a process."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from ._auth import ApiKeyring
from ._errors import IdempotencyKeyReused, InvalidOrder, OrderNotFound, OrderNotModifiable, Violation
from ._instruments import BUILTIN_INSTRUMENTS, Instrument, plain
from ._matching import evaluate
from ._models import Execution, Order, OrderChanges, OrderRequest, OrderStatus, StatusChange
from ._prices import PriceSource, SimulatedPrices
from ._rules import Strictness, order_violations
from ._store import IdempotencyRecord, MemoryOrderStore, OrderStore

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _fingerprint(request: OrderRequest) -> str:
    canonical = json.dumps(asdict(request), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Placement:
    """The answer to a placement: the order, and whether it replays an earlier request's answer."""

    order: Order
    replayed: bool = False


class BrokerService:
    """Places, modifies and cancels orders of accounts, and fills them against a price source.

    Every method takes the account it acts for: an account never reaches another's orders.
    """

    def __init__(
        self,
        *,
        store: OrderStore | None = None,
        prices: PriceSource | None = None,
        instruments: Mapping[str, Instrument] = BUILTIN_INSTRUMENTS,
        api_keys: Iterable[tuple[str, str]] = (),
        clock: Clock | None = None,
    ) -> None:
        self.instruments = dict(instruments)
        self.store: OrderStore = store if store is not None else MemoryOrderStore()
        self.prices: PriceSource = prices if prices is not None else SimulatedPrices(self.instruments)
        self._keyring = ApiKeyring(api_keys)
        self._clock = clock if clock is not None else _utc_now
        # Serialises each read-then-write: two retries with one Idempotency-Key place one order,
        # and a cancel racing a modification cannot revive an order the other made final.
        self._writing = asyncio.Lock()

    async def open(self) -> None:
        """Open the store; the module's lifespan calls it once."""
        await self.store.open()

    async def close(self) -> None:
        """Close the store."""
        await self.store.close()

    def authenticate(self, token: str) -> str | None:
        """The account a bearer token acts for, or ``None`` for a token no key matches."""
        return self._keyring.account_for(token)

    def violations(self, request: OrderRequest, strictness: Strictness) -> list[Violation]:
        """Every rule ``request`` breaks under ``strictness``."""
        return order_violations(request, self.instruments, strictness)

    async def place(
        self,
        account: str,
        request: OrderRequest,
        *,
        strictness: Strictness = Strictness.STRICT,
        idempotency_key: str | None = None,
    ) -> Placement:
        """Place an order for ``account`` and fill it at once if the last price allows.

        ``STRICT``: an order that breaks a rule raises :class:`InvalidOrder` and is not stored.
        ``BASIC``: it is stored as rejected, with the broken rules as the reason, as a broker would.
        With ``idempotency_key``, a repeat of the same request gets the first answer back.
        """
        violations = self.violations(request, strictness)
        if violations and strictness is Strictness.STRICT:
            raise InvalidOrder(violations)
        async with self._writing:
            record = None
            if idempotency_key is not None:
                record = await self.store.idempotency(account, idempotency_key)
                if record is not None:
                    if record.fingerprint != _fingerprint(request):
                        raise IdempotencyKeyReused(idempotency_key)
                    return Placement(record.order, replayed=True)
            now = self._clock()
            order = Order(
                id=str(uuid.uuid4()),
                account=account,
                symbol=request.symbol,
                side=request.side,
                order_type=request.order_type,
                quantity=request.quantity,
                limit_price=request.limit_price,
                stop_price=request.stop_price,
                created_at=now,
                updated_at=now,
            )
            order.status_history.append(StatusChange(OrderStatus.WORKING, now, "placed"))
            if violations:
                order.set_status(OrderStatus.REJECTED, now, "; ".join(v.message for v in violations))
            else:
                self._match(order, now)
            if idempotency_key is not None:
                record = IdempotencyRecord(account, idempotency_key, _fingerprint(request), copy.deepcopy(order))
            await self.store.add(order, record)
            return Placement(order)

    async def get(self, account: str, order_id: str) -> Order:
        """The account's order with this id; :class:`OrderNotFound` otherwise."""
        order = await self.store.get(order_id)
        if order is None or order.account != account:
            raise OrderNotFound(order_id)
        return order

    async def orders(self, account: str, status: OrderStatus | None = None) -> list[Order]:
        """The account's orders, oldest first, optionally only those with ``status``."""
        return await self.store.orders(account, status)

    async def modify(
        self,
        account: str,
        order_id: str,
        changes: OrderChanges,
        *,
        strictness: Strictness = Strictness.STRICT,
    ) -> Order:
        """Change the quantity or prices of a working order, then fill it if the last price allows.

        Raises :class:`OrderNotModifiable` for an order in a final state and :class:`InvalidOrder`
        when the modified order would break a rule (under either strictness: a modification is
        refused, never turned into a rejected order).
        """
        async with self._writing:
            order = await self.get(account, order_id)
            if order.status.is_final:
                raise OrderNotModifiable(order_id, order.status, "modified")
            return await self._modify(order, changes, strictness)

    async def _modify(self, order: Order, changes: OrderChanges, strictness: Strictness) -> Order:
        modified = OrderRequest(
            symbol=order.symbol,
            side=order.side,
            order_type=order.order_type,
            quantity=changes.quantity if changes.quantity is not None else order.quantity,
            limit_price=changes.limit_price if changes.limit_price is not None else order.limit_price,
            stop_price=changes.stop_price if changes.stop_price is not None else order.stop_price,
        )
        violations = self.violations(modified, strictness)
        if violations:
            raise InvalidOrder(violations)
        now = self._clock()
        order.quantity = modified.quantity
        order.limit_price = modified.limit_price
        order.stop_price = modified.stop_price
        order.set_status(OrderStatus.WORKING, now, "modified")
        self._match(order, now)
        await self.store.save(order)
        return order

    async def cancel(self, account: str, order_id: str) -> Order:
        """Cancel a working order; :class:`OrderNotModifiable` for an order in a final state."""
        async with self._writing:
            order = await self.get(account, order_id)
            if order.status.is_final:
                raise OrderNotModifiable(order_id, order.status, "canceled")
            order.set_status(OrderStatus.CANCELED, self._clock(), "canceled by the client")
            await self.store.save(order)
            return order

    async def health(self) -> dict[str, object]:
        """Facts for the module's health report."""
        return {"orders": await self.store.count(), "instruments": len(self.instruments)}

    def _match(self, order: Order, now: datetime) -> None:
        """Trigger and fill ``order`` if the last price says so."""
        last = self.prices.last_price(order.symbol, now)
        if last is None:
            order.set_status(OrderStatus.REJECTED, now, f"no price for {order.symbol}")
            return
        decision = evaluate(order, last)
        if decision.triggers_stop:
            order.stop_triggered = True
            order.set_status(OrderStatus.WORKING, now, f"stop {plain(order.stop_price)} reached at {plain(last)}")
        if decision.fill_price is None:
            return
        remaining = order.quantity - order.filled_quantity
        order.executions.append(
            Execution(
                id=str(uuid.uuid4()),
                order_id=order.id,
                symbol=order.symbol,
                side=order.side,
                quantity=remaining,
                price=decision.fill_price,
                time=now,
            )
        )
        order.set_status(OrderStatus.FILLED, now, f"filled at {plain(decision.fill_price)}")
