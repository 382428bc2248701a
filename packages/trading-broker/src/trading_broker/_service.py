"""The broker's business logic, shared by every API version served in a process."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta

from . import _buying_power, _keys
from ._auth import ApiKeyring, StoredKey
from ._database import DEFAULT_DATABASE_URL
from ._errors import (
    ConcurrentModification,
    DatabaseUnavailable,
    IdempotencyKeyReused,
    InvalidOrder,
    OrderNotFound,
    OrderNotModifiable,
    Violation,
)
from ._events import BrokerEvent, EventHub, EventKind
from ._instruments import BUILTIN_INSTRUMENTS, Instrument, plain
from ._matching import evaluate
from ._models import (
    Account,
    AccountSummary,
    Execution,
    Order,
    OrderChanges,
    OrderRequest,
    OrderStatus,
    Position,
    StatusChange,
)
from ._positions import apply_fill
from ._prices import PriceSource, SimulatedPrices
from ._rules import Strictness, order_violations, refuses
from ._store import BrokerStore, DuplicateIdempotencyKey, IdempotencyRecord, StaleWrite, Transaction

Clock = Callable[[], datetime]
log = logging.getLogger("trading_broker")
DEFAULT_LEVERAGE = 4.0
# A placement whose idempotency key another transaction stored first is retried, to replay that
# transaction's answer; more than one retry would mean the key was stored and then vanished.
_PLACEMENT_ATTEMPTS = 2
# How far apart the clocks of worker processes may be: orders another worker changed this long
# before this worker's last check are still re-checked.
_CLOCK_SLACK = timedelta(seconds=5)


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


@dataclass(frozen=True)
class Fill:
    """What one fill changed besides the order."""

    execution: Execution
    position: Position
    account: Account


class BrokerService:
    """Places, modifies and cancels orders of accounts, fills them against a price source, and
    keeps each account's positions, executions and balance in a database.

    Every method takes the account it acts for: an account never reaches another's data. Each
    change is committed before the method returns, then published on :attr:`events`.
    """

    def __init__(
        self,
        *,
        database_url: str = DEFAULT_DATABASE_URL,
        store: BrokerStore | None = None,
        prices: PriceSource | None = None,
        instruments: Mapping[str, Instrument] = BUILTIN_INSTRUMENTS,
        api_keys: Iterable[tuple[str, str]] = (),
        clock: Clock | None = None,
        initial_balance: float = 100_000.0,
        leverage: float = DEFAULT_LEVERAGE,
        account_leverage: Mapping[str, float] | None = None,
    ) -> None:
        """``leverage``: an account's buying power as a multiple of its equity (see
        ``_buying_power``); ``account_leverage`` overrides it for some accounts."""
        self.instruments = dict(instruments)
        self.store = store if store is not None else BrokerStore(database_url)
        self.prices: PriceSource = prices if prices is not None else SimulatedPrices(self.instruments)
        self.events = EventHub()
        self.initial_balance = initial_balance
        self.leverage = leverage
        self.account_leverage = dict(account_leverage or {})
        self.failed_checks: dict[str, str] = {}
        """The working orders the last check could not handle, by id, with the reason (logged too);
        they keep working and are checked again. Empty after a check that handled every order."""
        self._keyring = ApiKeyring(api_keys)
        self._clock = clock if clock is not None else _utc_now
        self._published_equity: dict[str, float] = {}
        # What the last check of the working orders saw: the time, and each symbol's price.
        self._checked_at: datetime | None = None
        self._checked: dict[str, float] = {}

    async def open(self) -> None:
        """Open (and migrate) the database; the module's lifespan calls it once."""
        await self.store.open()

    async def close(self) -> None:
        """Close the database connections."""
        await self.store.close()

    def now(self) -> datetime:
        """The service's clock."""
        return self._clock()

    # -- API keys

    async def authenticate(self, token: str) -> str | None:
        """The account a bearer token acts for, or ``None`` for a token no live key matches."""
        return await _keys.authenticate(self.store, self._keyring, token)

    async def create_api_key(self, account: str, label: str | None = None) -> tuple[StoredKey, str]:
        """A new key for ``account``, and its token (shown once, stored nowhere)."""
        return await _keys.create_key(self.store, account, now=self._clock(), label=label)

    async def revoke_api_key(self, key_id: str) -> StoredKey:
        """Revoke a key; its token is refused from now on."""
        return await _keys.revoke_key(self.store, key_id, now=self._clock())

    # -- orders

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
        ``BASIC``: it is stored as rejected, with the broken rules as the reason, as a broker would;
        except for the limits (:data:`~trading_broker._rules.LIMIT_RULES`: numbers beyond the
        instrument's maximums, not enough buying power), which raise under either.
        With ``idempotency_key``, a repeat of the same request gets the first answer back.
        """
        violations = self.violations(request, strictness)
        if refuses(violations, strictness):
            raise InvalidOrder(violations)
        fingerprint = _fingerprint(request)
        for attempt in range(_PLACEMENT_ATTEMPTS):
            try:
                async with self.store.write() as tx:
                    if idempotency_key is not None:
                        record = await tx.idempotency(account, idempotency_key)
                        if record is not None:
                            if record.fingerprint != fingerprint:
                                raise IdempotencyKeyReused(idempotency_key)
                            return Placement(record.order, replayed=True)
                    if not violations:
                        await self._check_buying_power(tx, account, request)
                    order, fill = await self._new_order(tx, account, request, violations)
                    await tx.insert_order(order)
                    if idempotency_key is not None:
                        record = IdempotencyRecord(account, idempotency_key, fingerprint, order)
                        await tx.insert_idempotency(record, order.created_at)
            except DuplicateIdempotencyKey:
                if attempt + 1 == _PLACEMENT_ATTEMPTS:
                    raise
                continue
            except StaleWrite as exc:
                raise ConcurrentModification(f"the {request.symbol} position of account {account!r}") from exc
            await self._published(order, "rejected" if order.status is OrderStatus.REJECTED else "placed", fill)
            return Placement(order)
        raise AssertionError("unreachable: the loop returns or raises")

    async def _new_order(
        self, tx: Transaction, account: str, request: OrderRequest, violations: list[Violation]
    ) -> tuple[Order, Fill | None]:
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
            return order, None
        return order, await self._match(tx, order, now)

    async def get(self, account: str, order_id: str) -> Order:
        """The account's order with this id; :class:`OrderNotFound` otherwise."""
        async with self.store.read() as tx:
            order = await tx.order(order_id, account=account)
        if order is None:
            raise OrderNotFound(order_id)
        return order

    async def orders(self, account: str, status: OrderStatus | None = None) -> list[Order]:
        """The account's orders, oldest first, optionally only those with ``status``."""
        async with self.store.read() as tx:
            return await tx.orders(account, status)

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
        try:
            async with self.store.write() as tx:
                order = await self._working(tx, account, order_id, "modified")
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
                before = OrderRequest(
                    symbol=order.symbol,
                    side=order.side,
                    order_type=order.order_type,
                    quantity=order.quantity,
                    limit_price=order.limit_price,
                    stop_price=order.stop_price,
                )
                await self._check_buying_power(tx, account, modified, modifying=order.id, before=before)
                now = self._clock()
                order.quantity = modified.quantity
                order.limit_price = modified.limit_price
                order.stop_price = modified.stop_price
                order.set_status(OrderStatus.WORKING, now, "modified")
                fill = await self._match(tx, order, now)
                await tx.update_order(order, [fill.execution] if fill else [])
        except StaleWrite as exc:
            raise ConcurrentModification(f"order {order_id!r}") from exc
        await self._published(order, "modified", fill)
        return order

    async def cancel(self, account: str, order_id: str) -> Order:
        """Cancel a working order; :class:`OrderNotModifiable` for an order in a final state."""
        try:
            async with self.store.write() as tx:
                order = await self._working(tx, account, order_id, "canceled")
                order.set_status(OrderStatus.CANCELED, self._clock(), "canceled by the client")
                await tx.update_order(order)
        except StaleWrite as exc:
            raise ConcurrentModification(f"order {order_id!r}") from exc
        await self._published(order, "canceled", None)
        return order

    def leverage_of(self, account: str) -> float:
        """The account's leverage: its buying power as a multiple of its equity."""
        return self.account_leverage.get(account, self.leverage)

    async def _check_buying_power(
        self,
        tx: Transaction,
        account: str,
        request: OrderRequest,
        *,
        modifying: str | None = None,
        before: OrderRequest | None = None,
    ) -> None:
        """Raise :class:`InvalidOrder` (rule ``buying_power``) when ``request`` needs more buying
        power than ``account`` has left; ``modifying``: the id of the order ``request`` modifies,
        whose current form ``before`` is left out of what the working orders take."""
        now = self._clock()
        last = self.prices.last_price(request.symbol, now)
        price = _buying_power.reference_price(request, last)
        if price is None:
            return  # no price: the order is rejected when it is matched
        # The account's row, locked: placements and fills of one account are checked one at a time.
        stored = await tx.lock_account(account, initial_balance=self.initial_balance, now=now)
        held = self._valued(await tx.positions(account), now)
        working = await tx.working_exposure(account, exclude=modifying)
        equity = self._summary(account, stored, held).equity
        power = _buying_power.buying_power(
            leverage=self.leverage_of(account), equity=equity, positions=held, working=working
        )
        position = next((p.quantity for p in held if p.symbol == request.symbol), 0.0)
        same_side = sum(w.quantity for w in working if (w.symbol, w.side) == (request.symbol, request.side))
        previous = 0.0
        if before is not None:
            before_price = _buying_power.reference_price(before, last)
            if before_price is not None:
                previous = _buying_power.needed(before, before_price, held=position, same_side=same_side)
        found = _buying_power.violation(
            account, request, price, power, held=position, same_side=same_side, before=previous
        )
        if found is not None:
            raise InvalidOrder([found])

    async def _working(self, tx: Transaction, account: str, order_id: str, action: str) -> Order:
        """The account's order, locked, if it is still working."""
        order = await tx.order(order_id, account=account, lock=True)
        if order is None:
            raise OrderNotFound(order_id)
        if order.status.is_final:
            raise OrderNotModifiable(order_id, order.status, action)
        return order

    # -- fills

    async def check_working_orders(self) -> int:
        """Check the working orders (of every account) against the last prices, and trigger or
        fill those the prices now allow. Returns how many orders changed.

        Only what can have changed is read: orders in a symbol whose price moved since the last
        check, and orders placed or modified since then (each was checked at its own price). Worker
        processes sharing a database may all run this: each order is re-read under a lock (skipped
        when another process holds it) and changed only if it is still working.

        One order never stops the others: an order whose check fails is rejected with the reason
        (and its event published), or, when even that fails, or when the price source fails, left
        working and listed in :attr:`failed_checks`; the error is logged either way. A database
        that cannot serve (:class:`DatabaseUnavailable`) ends the check: no order could go on.
        """
        now = self._clock()
        async with self.store.read() as tx:
            symbols = await tx.working_symbols()
            if self._checked_at is None:
                working = await tx.working_orders()
            else:
                working = None
        failed: dict[str, str] = {}
        prices: dict[str, float | None] = {}
        for symbol in sorted(symbols):
            try:
                prices[symbol] = self.prices.last_price(symbol, now)
            except Exception as exc:  # the price source's failure: its orders wait for the next check
                log.exception("the price source failed for %s; its working orders wait for the next check", symbol)
                failed[symbol] = f"no price for {symbol}: the price source failed ({type(exc).__name__})"
        if working is None:
            assert self._checked_at is not None
            moved = {s for s, price in prices.items() if price is not None and self._checked.get(s) != price}
            async with self.store.read() as tx:
                working = await tx.working_orders(symbols=moved, updated_since=self._checked_at - _CLOCK_SLACK)
        seen = {s: p for s, p in prices.items() if p is not None}
        failed_checks: dict[str, str] = {}
        changed = 0
        for snapshot in working:
            if snapshot.symbol in failed:
                failed_checks[snapshot.id] = failed[snapshot.symbol]
                continue
            last = prices.get(snapshot.symbol)
            if last is None:
                continue  # no price now; the order keeps working until there is one
            try:
                done = await self._check_one(snapshot, last, now)
            except DatabaseUnavailable:
                raise
            except Exception as exc:
                seen.pop(snapshot.symbol, None)
                log.exception("checking working order %s (%s) failed", snapshot.id, snapshot.symbol)
                if await self._reject_unfillable(snapshot.id, now, exc):
                    changed += 1
                else:
                    failed_checks[snapshot.id] = f"the check failed ({type(exc).__name__})"
                continue
            if done is None:
                seen.pop(snapshot.symbol, None)  # another transaction held it; look again next time
            elif done:
                changed += 1
        # Recorded only once every order was handled: after a failure, the next check reads them all again.
        self.failed_checks = failed_checks
        self._checked = seen
        self._checked_at = now
        return changed

    async def _check_one(self, snapshot: Order, last: float, now: datetime) -> bool | None:
        """Trigger or fill one working order at ``last``; whether it changed, ``None`` when another
        transaction holds it or changed it meanwhile."""
        decision = evaluate(snapshot, last)
        if not decision.triggers_stop and decision.fill_price is None:
            return False
        try:
            async with self.store.write() as tx:
                order = await tx.order(snapshot.id, skip_locked=True)
                if order is None:
                    return None
                if order.status is not OrderStatus.WORKING:
                    return False
                fill = await self._match(tx, order, now)
                await tx.update_order(order, [fill.execution] if fill else [])
        except StaleWrite:
            return None
        # _match leaves it working (triggered), filled, or rejected (it could not be filled).
        action = "filled" if fill else "rejected" if order.status.is_final else "triggered"
        await self._published(order, action, fill)
        return True

    async def _reject_unfillable(self, order_id: str, now: datetime, error: Exception) -> bool:
        """Reject a working order whose check failed, so that it fails no further check; whether it
        was rejected. Its ``rejected`` event is published like any other."""
        try:
            async with self.store.write() as tx:
                order = await tx.order(order_id, skip_locked=True)
                if order is None or order.status is not OrderStatus.WORKING:
                    return False
                order.set_status(
                    OrderStatus.REJECTED, now, f"the broker could not check this order ({type(error).__name__})"
                )
                await tx.update_order(order)
        except DatabaseUnavailable:
            raise
        except Exception:
            log.exception("rejecting working order %s after its check failed failed too; it is checked again", order_id)
            return False
        log.error("working order %s was rejected: its check failed (%s: %s)", order_id, type(error).__name__, error)
        await self._published(order, "rejected", None)
        return True

    async def _match(self, tx: Transaction, order: Order, now: datetime) -> Fill | None:
        """Trigger and fill ``order`` if the last price says so, moving its account's position
        and balance in ``tx``. The caller stores the order."""
        last = self.prices.last_price(order.symbol, now)
        if last is None:
            order.set_status(OrderStatus.REJECTED, now, f"no price for {order.symbol}")
            return None
        decision = evaluate(order, last)
        if decision.triggers_stop:
            order.stop_triggered = True
            order.set_status(OrderStatus.WORKING, now, f"stop {plain(order.stop_price)} reached at {plain(last)}")
        if decision.fill_price is None:
            return None
        # Lock order: the order (held by the caller), then the account, then its position.
        account = await tx.lock_account(order.account, initial_balance=self.initial_balance, now=now)
        held = await tx.position(order.account, order.symbol)
        quantity = order.quantity - order.filled_quantity
        try:
            moved, realised = apply_fill(
                held,
                account=order.account,
                symbol=order.symbol,
                side=order.side,
                quantity=quantity,
                price=decision.fill_price,
                at=now,
            )
        except ArithmeticError as exc:
            # Only a position stored by a release without bounds can hold numbers that no fill
            # can be added to (an infinite quantity); the order is refused rather than the broker.
            log.error("order %s cannot be filled: %s position of %r: %r", order.id, order.symbol, order.account, exc)
            order.set_status(
                OrderStatus.REJECTED,
                now,
                f"the broker cannot add this fill to the account's {order.symbol} position ({type(exc).__name__})",
            )
            return None
        execution = Execution(
            id=str(uuid.uuid4()),
            order_id=order.id,
            account=order.account,
            symbol=order.symbol,
            side=order.side,
            quantity=quantity,
            price=decision.fill_price,
            time=now,
            realised_pnl=realised,
        )
        order.executions.append(execution)
        order.set_status(OrderStatus.FILLED, now, f"filled at {plain(decision.fill_price)}")
        moved = await tx.save_position(moved, new=held is None)
        if realised:  # a fill that only opens or adds to a position leaves the balance as it is
            account = await tx.save_account(
                replace(
                    account,
                    balance=account.balance + realised,
                    realised_pnl=account.realised_pnl + realised,
                    updated_at=now,
                )
            )
        return Fill(execution, replace(moved, last_price=last), account)

    # -- positions, executions, account

    async def positions(self, account: str) -> list[Position]:
        """The account's open positions, valued at the last prices, by symbol."""
        async with self.store.read() as tx:
            held = await tx.positions(account)
        return self._valued(held, self._clock())

    async def executions(
        self, account: str, *, order_id: str | None = None, symbol: str | None = None
    ) -> list[Execution]:
        """The account's executions, oldest first, optionally of one order or one symbol."""
        async with self.store.read() as tx:
            return await tx.executions(account, order_id=order_id, symbol=symbol)

    async def account(self, account: str) -> AccountSummary:
        """The account's balance and its equity at the last prices."""
        async with self.store.read() as tx:
            stored = await tx.account(account)
            held = await tx.positions(account)
        return self._summary(account, stored, self._valued(held, self._clock()))

    def _valued(self, held: list[Position], now: datetime) -> list[Position]:
        return [replace(p, last_price=self.prices.last_price(p.symbol, now)) for p in held]

    def _summary(self, account: str, stored: Account | None, held: list[Position]) -> AccountSummary:
        balance = stored.balance if stored is not None else self.initial_balance
        unrealised = sum(p.unrealised_pnl for p in held)
        return AccountSummary(
            account=account,
            balance=balance,
            realised_pnl=stored.realised_pnl if stored is not None else 0.0,
            unrealised_pnl=unrealised,
            equity=balance + unrealised,
            open_positions=len(held),
            updated_at=stored.updated_at if stored is not None else self._clock(),
        )

    async def publish_equity(self) -> int:
        """Publish an ``equity`` event for each account someone listens to whose equity moved
        since the last one published; returns how many were published."""
        listened = self.events.listened_accounts("equity")
        if listened is not None and not listened:
            return 0
        now = self._clock()
        async with self.store.read() as tx:
            held = await tx.positions(None)
            accounts = listened if listened is not None else {p.account for p in held}
            stored = {account: await tx.account(account) for account in sorted(accounts)}
        by_account: dict[str, list[Position]] = {account: [] for account in stored}
        for position in held:
            if position.account in by_account:
                by_account[position.account].append(position)
        published = 0
        for account, positions in by_account.items():
            try:
                summary = self._summary(account, stored[account], self._valued(positions, now))
            except ArithmeticError:
                # One account's unvaluable position (stored by a release without bounds) must not
                # stop the equity of the others.
                log.exception("the equity of account %r cannot be computed", account)
                continue
            if self._published_equity.get(account) != summary.equity:
                self._published_equity[account] = summary.equity
                self._publish("equity", summary, "valued", now)
                published += 1
        return published

    # -- events

    def _publish(
        self, kind: EventKind, subject: Order | Execution | Position | AccountSummary, action: str, at: datetime
    ) -> None:
        self.events.publish(BrokerEvent(kind=kind, account=subject.account, subject=subject, time=at, action=action))

    async def _published(self, order: Order, action: str, fill: Fill | None) -> None:
        """Publish what a committed change did: the order, and for a fill its execution, the
        position it moved and the account's new equity."""
        at = order.updated_at
        self._publish("order", order, action, at)
        if fill is None:
            return
        self._publish("execution", fill.execution, "filled", at)
        self._publish("position", fill.position, "filled", at)
        listened = self.events.listened_accounts("equity")
        if listened is None or order.account in listened:
            # The change is committed: whatever happens now, the caller gets its answer.
            try:
                async with self.store.read() as tx:
                    held = await tx.positions(order.account)
                summary = self._summary(order.account, fill.account, self._valued(held, at))
            except Exception:
                log.exception("the equity of account %r after order %s could not be published", order.account, order.id)
                return
            self._published_equity[order.account] = summary.equity
            self._publish("equity", summary, "filled", at)

    async def health(self) -> dict[str, object]:
        """Facts for the module's health report; raises when the database cannot be read."""
        async with self.store.read() as tx:
            count = await tx.count_orders()
        return {"orders": count, "instruments": len(self.instruments), "database": self.store.backend}
