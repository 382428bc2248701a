"""The broker's business logic, shared by every API version served in a process."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta

from . import _buying_power, _keys, _outbox
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
from ._group_commit import GroupCommit
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
    Side,
    StatusChange,
)
from ._outbox import OutboxRelay
from ._positions import apply_fill
from ._prices import PriceSource, SimulatedPrices
from ._rules import Strictness, order_violations, refuses
from ._store import (
    BatchTransaction,
    BrokerStore,
    DuplicateIdempotencyKey,
    IdempotencyRecord,
    StaleWrite,
    Transaction,
)

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
    # The request's fields are flat (no nested dataclass): the shallow dict is what asdict() gave,
    # at a fraction of its cost, so digests stored by earlier releases still match.
    canonical = json.dumps({f.name: getattr(request, f.name) for f in fields(request)}, sort_keys=True, default=str)
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


@dataclass(frozen=True)
class _Placing:
    """A placement waiting for its transaction: the request, checked against the rules."""

    account: str
    request: OrderRequest
    violations: list[Violation]
    idempotency_key: str | None
    fingerprint: str


@dataclass(frozen=True)
class _Placed:
    """A committed placement, with the fill to publish."""

    placement: Placement
    fill: Fill | None


class _PriceCache:
    """The last prices at one moment, each asked of the price source once (its failure too)."""

    def __init__(self, source: PriceSource, at: datetime) -> None:
        self._source = source
        self._at = at
        self._known: dict[str, float | Exception | None] = {}

    def last(self, symbol: str) -> float | None:
        if symbol not in self._known:
            try:
                self._known[symbol] = self._source.last_price(symbol, self._at)
            except Exception as exc:
                self._known[symbol] = exc
        found = self._known[symbol]
        if isinstance(found, Exception):
            raise found
        return found


@dataclass
class _BatchState:
    """What a batch of placements has read, changed as each of its orders is placed."""

    accounts: dict[str, Account]
    """The locked accounts, as the orders placed so far left them (with the version stored)."""
    positions: dict[tuple[str, str], Position]
    """Their positions by (account, symbol), likewise."""
    working: dict[tuple[str, str, Side], list[float]]
    """Their working orders' ``[quantity, notional]`` by (account, symbol, side)."""
    records: dict[tuple[str, str], IdempotencyRecord]
    """The idempotency records of the batch's keys: stored ones and the batch's own."""
    stored_positions: set[tuple[str, str]] = field(init=False)
    orders: list[Order] = field(default_factory=list)
    new_records: list[tuple[IdempotencyRecord, datetime]] = field(default_factory=list)
    events: list[BrokerEvent] = field(default_factory=list)
    """The events of the batch's orders, in order, for the outbox."""
    sequenced: list[BrokerEvent] = field(default_factory=list)
    """The same once written, with their sequence numbers."""
    moved_positions: set[tuple[str, str]] = field(default_factory=set)
    moved_accounts: set[str] = field(default_factory=set)
    held: dict[str, dict[str, Position]] = field(init=False)
    """:attr:`positions` by account, then symbol (the same objects)."""
    exposure: dict[str, dict[tuple[str, Side], list[float]]] = field(init=False)
    """:attr:`working` by account, then (symbol, side) (the same lists)."""

    def __post_init__(self) -> None:
        self.stored_positions = set(self.positions)
        self.held = {}
        for (account, symbol), position in self.positions.items():
            self.held.setdefault(account, {})[symbol] = position
        self.exposure = {}
        for (account, symbol, side), amounts in self.working.items():
            self.exposure.setdefault(account, {})[(symbol, side)] = amounts

    def move(self, position: Position) -> None:
        """Record ``position`` as the batch leaves it."""
        key = (position.account, position.symbol)
        self.positions[key] = position
        self.held.setdefault(position.account, {})[position.symbol] = position
        self.moved_positions.add(key)

    def add_working(self, order: Order) -> None:
        """Count ``order``, which keeps working, among its account's working orders."""
        key = (order.account, order.symbol, order.side)
        amounts = self.working.get(key)
        if amounts is None:
            amounts = self.working[key] = self.exposure.setdefault(order.account, {})[key[1:]] = [0.0, 0.0]
        price = order.limit_price if order.limit_price is not None else order.stop_price
        amounts[0] += order.quantity
        if price is not None:  # as SUM() leaves out a NULL product
            amounts[1] += order.quantity * price


def _write_batch(tx: BatchTransaction, state: _BatchState) -> None:
    """Store what a batch of placements did: its orders (with their executions and idempotency
    records), then the positions and accounts they moved, in a fixed order."""
    tx.insert_placed(state.orders, state.new_records)
    for key in sorted(state.moved_positions):
        tx.save_position(state.positions[key], new=key not in state.stored_positions)
    for account in sorted(state.moved_accounts):
        tx.save_account(state.accounts[account])
    state.sequenced = tx.append_events(state.events)


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
        group_commit: bool = True,
        outbox_poll_interval: float = 5.0,
        outbox_retention: float = 86_400.0,
    ) -> None:
        """``leverage``: an account's buying power as a multiple of its equity (see
        ``_buying_power``); ``account_leverage`` overrides it for some accounts. ``group_commit``:
        concurrent placements share one transaction (and one commit, one fsync); off, each order
        has a transaction of its own. Either way an order is committed before it is answered."""
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
        self._group: GroupCommit[_Placing, _Placed] | None = GroupCommit(self._place_batch) if group_commit else None
        self.relay = OutboxRelay(
            self.store,
            self.events,
            poll_interval=outbox_poll_interval,
            retention=outbox_retention,
            clock=self._clock,
            on_delivered=self._delivered,
        )
        """Hands :attr:`events` every committed event of any process sharing the database."""

    async def open(self) -> None:
        """Open (and migrate) the database and start relaying its events; the module's lifespan
        calls it once."""
        await self.store.open()
        await self.relay.start()

    async def close(self) -> None:
        """Close the database connections, once the placements under way are written."""
        if self._group is not None:
            await self._group.drain()
        await self.relay.stop()
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
        # The digest tells a retry from another request reusing a key: only a keyed request needs one.
        fingerprint = _fingerprint(request) if idempotency_key is not None else ""
        job = _Placing(account, request, violations, idempotency_key, fingerprint)
        placed = await (self._group.submit(job) if self._group is not None else self._place_alone(job))
        return placed.placement

    async def _place_alone(self, job: _Placing) -> _Placed:
        """Place one order in a transaction of its own (``group_commit = false``, and the fallback
        of a batch that failed as a whole)."""
        account, request, violations, idempotency_key = job.account, job.request, job.violations, job.idempotency_key
        for attempt in range(_PLACEMENT_ATTEMPTS):
            try:
                async with self.store.write() as tx:
                    if idempotency_key is not None:
                        record = await tx.idempotency(account, idempotency_key)
                        if record is not None:
                            if record.fingerprint != job.fingerprint:
                                raise IdempotencyKeyReused(idempotency_key)
                            return _Placed(Placement(record.order, replayed=True), None)
                    if not violations:
                        await self._check_buying_power(tx, account, request)
                    order, fill = await self._new_order(tx, account, request, violations)
                    await tx.insert_order(order)
                    if idempotency_key is not None:
                        record = IdempotencyRecord(account, idempotency_key, job.fingerprint, order)
                        await tx.insert_idempotency(record, order.created_at)
                    action = "rejected" if order.status is OrderStatus.REJECTED else "placed"
                    events = await tx.append_events(await self._events_in(tx, order, action, fill))
            except DuplicateIdempotencyKey:
                if attempt + 1 == _PLACEMENT_ATTEMPTS:
                    raise
                continue
            except StaleWrite as exc:
                raise ConcurrentModification(f"the {request.symbol} position of account {account!r}") from exc
            self.relay.deliver(events)
            return _Placed(Placement(order), fill)
        raise AssertionError("unreachable: the loop returns or raises")

    async def _place_batch(self, jobs: Sequence[_Placing]) -> list[_Placed | Exception]:
        """Place a batch of orders in one transaction (see :meth:`_place_together`). When the batch
        fails as a whole (another process stored one of its idempotency keys first, a row changed
        under it, a statement failed), nothing of it was stored, and each order is placed again in
        a transaction of its own, so that one order's failure never fails the others."""
        try:
            return await self._place_together(jobs)
        except DatabaseUnavailable:
            raise  # no order could be stored now; each caller gets the 503
        except (DuplicateIdempotencyKey, StaleWrite) as exc:
            log.info("a batch of %d placements met a concurrent write (%s); placing them one by one", len(jobs), exc)
        except Exception:
            log.exception("a batch of %d placements failed; placing them one by one", len(jobs))
        results: list[_Placed | Exception] = []
        for job in jobs:
            try:
                results.append(await self._place_alone(job))
            except Exception as exc:  # this order's own failure, its caller's answer
                results.append(exc)
        return results

    async def _place_together(self, jobs: Sequence[_Placing]) -> list[_Placed | Exception]:
        """Place ``jobs`` in order, in one transaction, with one statement per table for the batch:
        the accounts they need are locked (in the order of their ids) and read with their positions,
        working orders and idempotency keys once; each order is then checked and matched in memory
        against the state the orders before it left (so fills of one account stay serialised and
        see each other's positions); then the new rows are written and the transaction committed.

        An order that is refused (buying power, a reused idempotency key, its price source failing)
        gets its exception as its result and changes nothing; the others go on. Returns after the
        commit."""
        results: list[_Placed | Exception] = []
        # The orders of a batch are placed at one moment (they are committed together): one clock
        # reading, and one price per symbol.
        at = self._clock()
        prices = _PriceCache(self.prices, at)
        plans: list[tuple[datetime, float | None] | Exception] = []
        for job in jobs:
            try:
                last = None if job.violations else prices.last(job.request.symbol)
            except Exception as exc:  # the price source's failure fails this order alone
                plans.append(exc)
                continue
            plans.append((at, last))
        needing = {
            job.account
            for job, plan in zip(jobs, plans, strict=True)
            if not isinstance(plan, Exception)
            and not job.violations
            and (plan[1] is not None or _buying_power.reference_price(job.request, None) is not None)
        }
        keys = {(job.account, job.idempotency_key) for job in jobs if job.idempotency_key is not None}
        async with self.store.write_batch() as steps:
            state = await steps.run(
                lambda tx: _BatchState(
                    accounts=tx.lock_accounts(needing, initial_balance=self.initial_balance, now=at),
                    positions=tx.positions_of(needing),
                    working=tx.working_exposures(needing),
                    records=tx.idempotency_many(keys),
                )
            )
            for job, plan in zip(jobs, plans, strict=True):
                if isinstance(plan, Exception):
                    results.append(plan)
                    continue
                try:
                    results.append(self._place_in_batch(state, prices, job, *plan))
                except Exception as exc:  # raised before the order touched the batch's state
                    if not isinstance(exc, InvalidOrder | IdempotencyKeyReused):
                        log.exception("placing an order of account %r failed", job.account)
                    results.append(exc)
            await steps.run(lambda tx: _write_batch(tx, state), last=True)
        self.relay.deliver(state.sequenced)
        return results

    def _place_in_batch(
        self, state: _BatchState, prices: _PriceCache, job: _Placing, at: datetime, last: float | None
    ) -> _Placed:
        """One order of a batch, checked and matched against ``state``, which it then updates:
        everything that may raise comes before the first change to ``state``."""
        key = (job.account, job.idempotency_key) if job.idempotency_key is not None else None
        if key is not None:
            record = state.records.get(key)
            if record is not None:
                if record.fingerprint != job.fingerprint:
                    raise IdempotencyKeyReused(record.key)
                return _Placed(Placement(record.order.snapshot(), replayed=True), None)
        account = state.accounts.get(job.account)
        held = state.held.get(job.account, {})
        if not job.violations and account is not None:
            open_positions = [replace(held[s], last_price=prices.last(s)) for s in sorted(held) if held[s].is_open]
            working = [
                _buying_power.Working(symbol, side, q, n)
                for (symbol, side), (q, n) in sorted(state.exposure.get(job.account, {}).items())
            ]
            found = self._buying_power_violation(job.account, job.request, last, account, open_positions, working)
            if found is not None:
                raise InvalidOrder([found])
        order = self._order_for(job.account, job.request, at)
        filled: tuple[Execution, Position, float] | None = None
        if job.violations:
            order.set_status(OrderStatus.REJECTED, at, "; ".join(v.message for v in job.violations))
        else:
            fill_price = self._trigger(order, last, at)
            if fill_price is not None:
                assert account is not None, "an order with a price has its account locked"
                filled = self._fill(order, fill_price, account, held.get(order.symbol), at)
        # From here on nothing raises: the order's changes go into the batch's state.
        fill: Fill | None = None
        if filled is not None:
            assert account is not None
            execution, moved, realised = filled
            position_key = (order.account, order.symbol)
            state.move(moved)
            if realised:
                account = state.accounts[order.account] = self._realise(account, realised, at)
                state.moved_accounts.add(order.account)
            stored_version = moved.version + 1 if position_key in state.stored_positions else 0
            fill = Fill(execution, replace(moved, last_price=last, version=stored_version), account)
        summary = None
        if fill is not None:
            try:
                open_now = [p for p in state.held.get(order.account, {}).values() if p.is_open]
                valued = [replace(p, last_price=prices.last(p.symbol)) for p in open_now]
                summary = self._summary(order.account, fill.account, valued)
            except Exception:  # the change stands; only its equity event is missing
                log.exception("the equity of account %r after order %s cannot be computed", order.account, order.id)
        action = "rejected" if order.status is OrderStatus.REJECTED else "placed"
        state.events.extend(self._events(order, action, fill, summary))
        if order.status is OrderStatus.WORKING:
            state.add_working(order)
        state.orders.append(order)
        if key is not None:
            assert job.idempotency_key is not None
            record = IdempotencyRecord(job.account, job.idempotency_key, job.fingerprint, order)
            state.records[key] = record
            state.new_records.append((record, order.created_at))
        return _Placed(Placement(order), fill)

    def _order_for(self, account: str, request: OrderRequest, now: datetime) -> Order:
        """A new working order for ``request``, not yet matched nor stored."""
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
        return order

    async def _new_order(
        self, tx: Transaction, account: str, request: OrderRequest, violations: list[Violation]
    ) -> tuple[Order, Fill | None]:
        now = self._clock()
        order = self._order_for(account, request, now)
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
                events = await tx.append_events(await self._events_in(tx, order, "modified", fill))
        except StaleWrite as exc:
            raise ConcurrentModification(f"order {order_id!r}") from exc
        self.relay.deliver(events)
        return order

    async def cancel(self, account: str, order_id: str) -> Order:
        """Cancel a working order; :class:`OrderNotModifiable` for an order in a final state."""
        try:
            async with self.store.write() as tx:
                order = await self._working(tx, account, order_id, "canceled")
                order.set_status(OrderStatus.CANCELED, self._clock(), "canceled by the client")
                await tx.update_order(order)
                events = await tx.append_events(self._events(order, "canceled", None, None))
        except StaleWrite as exc:
            raise ConcurrentModification(f"order {order_id!r}") from exc
        self.relay.deliver(events)
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
        if _buying_power.reference_price(request, last) is None:
            return  # no price: the order is rejected when it is matched
        # The account's row, locked: placements and fills of one account are checked one at a time.
        stored = await tx.lock_account(account, initial_balance=self.initial_balance, now=now)
        held = self._valued(await tx.positions(account), now)
        working = await tx.working_exposure(account, exclude=modifying)
        found = self._buying_power_violation(account, request, last, stored, held, working, before=before)
        if found is not None:
            raise InvalidOrder([found])

    def _buying_power_violation(
        self,
        account: str,
        request: OrderRequest,
        last: float | None,
        stored: Account,
        valued: list[Position],
        working: list[_buying_power.Working],
        *,
        before: OrderRequest | None = None,
    ) -> Violation | None:
        """The ``buying_power`` violation of ``request`` given the account's row, its open
        positions (by symbol, valued at the last prices) and its working orders; ``None`` when it fits."""
        price = _buying_power.reference_price(request, last)
        if price is None:
            return None
        equity = self._summary(account, stored, valued).equity
        power = _buying_power.buying_power(
            leverage=self.leverage_of(account), equity=equity, positions=valued, working=working
        )
        position = next((p.quantity for p in valued if p.symbol == request.symbol), 0.0)
        same_side = sum(w.quantity for w in working if (w.symbol, w.side) == (request.symbol, request.side))
        previous = 0.0
        if before is not None:
            before_price = _buying_power.reference_price(before, last)
            if before_price is not None:
                previous = _buying_power.needed(before, before_price, held=position, same_side=same_side)
        return _buying_power.violation(
            account, request, price, power, held=position, same_side=same_side, before=previous
        )

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
                # _match leaves it working (triggered), filled, or rejected (it could not be filled).
                action = "filled" if fill else "rejected" if order.status.is_final else "triggered"
                events = await tx.append_events(await self._events_in(tx, order, action, fill))
        except StaleWrite:
            return None
        self.relay.deliver(events)
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
                events = await tx.append_events(self._events(order, "rejected", None, None))
        except DatabaseUnavailable:
            raise
        except Exception:
            log.exception("rejecting working order %s after its check failed failed too; it is checked again", order_id)
            return False
        log.error("working order %s was rejected: its check failed (%s: %s)", order_id, type(error).__name__, error)
        self.relay.deliver(events)
        return True

    async def _match(self, tx: Transaction, order: Order, now: datetime) -> Fill | None:
        """Trigger and fill ``order`` if the last price says so, moving its account's position
        and balance in ``tx``. The caller stores the order."""
        last = self.prices.last_price(order.symbol, now)
        fill_price = self._trigger(order, last, now)
        if fill_price is None:
            return None
        # Lock order: the order (held by the caller), then the account, then its position.
        account = await tx.lock_account(order.account, initial_balance=self.initial_balance, now=now)
        held = await tx.position(order.account, order.symbol)
        filled = self._fill(order, fill_price, account, held, now)
        if filled is None:
            return None
        execution, moved, realised = filled
        moved = await tx.save_position(moved, new=held is None)
        if realised:  # a fill that only opens or adds to a position leaves the balance as it is
            account = await tx.save_account(self._realise(account, realised, now))
        return Fill(execution, replace(moved, last_price=last), account)

    @staticmethod
    def _trigger(order: Order, last: float | None, now: datetime) -> float | None:
        """Apply ``last`` to ``order``: reject it without a price, trigger its stop if reached; the
        price its rest fills at now, or ``None`` when it does not fill."""
        if last is None:
            order.set_status(OrderStatus.REJECTED, now, f"no price for {order.symbol}")
            return None
        decision = evaluate(order, last)
        if decision.triggers_stop:
            order.stop_triggered = True
            order.set_status(OrderStatus.WORKING, now, f"stop {plain(order.stop_price)} reached at {plain(last)}")
        return decision.fill_price

    def _fill(
        self, order: Order, fill_price: float, account: Account, held: Position | None, now: datetime
    ) -> tuple[Execution, Position, float] | None:
        """Fill the rest of ``order`` at ``fill_price``: its execution (added to the order, which
        becomes filled), the position it moves ``held`` to, and the P&L it realises. ``None`` when
        the order had to be rejected instead (the reason is on the order). Nothing is stored."""
        quantity = order.quantity - order.filled_quantity
        try:
            moved, realised = apply_fill(
                held,
                account=order.account,
                symbol=order.symbol,
                side=order.side,
                quantity=quantity,
                price=fill_price,
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
            price=fill_price,
            time=now,
            realised_pnl=realised,
        )
        order.executions.append(execution)
        order.set_status(OrderStatus.FILLED, now, f"filled at {plain(fill_price)}")
        return execution, moved, realised

    @staticmethod
    def _realise(account: Account, realised: float, now: datetime) -> Account:
        return replace(
            account, balance=account.balance + realised, realised_pnl=account.realised_pnl + realised, updated_at=now
        )

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
        if not self.events.subscribers:
            return  # nobody listens: no event to build
        self.events.publish(BrokerEvent(kind=kind, account=subject.account, subject=subject, time=at, action=action))

    def _events(
        self, order: Order, action: str, fill: Fill | None, summary: AccountSummary | None
    ) -> list[BrokerEvent]:
        """What a change did, as events for the outbox: the order, and for a fill its execution,
        the position it moved and (``summary``) the account's new equity."""
        at = order.updated_at
        account = order.account
        events = [BrokerEvent("order", account, order.snapshot(), at, action)]
        if fill is not None:
            events.append(BrokerEvent("execution", account, fill.execution, at, "filled"))
            events.append(BrokerEvent("position", account, fill.position, at, "filled"))
            if summary is not None:
                events.append(BrokerEvent("equity", account, summary, at, "filled"))
        return events

    async def _events_in(self, tx: Transaction, order: Order, action: str, fill: Fill | None) -> list[BrokerEvent]:
        """:meth:`_events`, the account's equity after a fill read in ``tx`` (which wrote it)."""
        summary = None
        if fill is not None:
            held = await tx.positions(order.account)
            try:
                summary = self._summary(order.account, fill.account, self._valued(held, order.updated_at))
            except Exception:  # the price source's failure: the change stands, its equity event is left out
                log.exception("the equity of account %r after order %s cannot be computed", order.account, order.id)
        return self._events(order, action, fill, summary)

    async def stored_events(
        self, account: str, after: int, *, kinds: Iterable[EventKind] | None = None
    ) -> list[BrokerEvent]:
        """The account's events after sequence number ``after`` still in the outbox, oldest first,
        a page of them (ask again after the last one for more; an empty list is the end)."""
        return await _outbox.read(self.store, account, after, kinds=None if kinds is None else set(kinds))

    def _delivered(self, event: BrokerEvent) -> None:
        # The equity a subscriber heard: publish_equity sends it again only once it moves.
        if isinstance(event.subject, AccountSummary):
            listened = self.events.listened_accounts("equity")
            if listened is None or event.account in listened:
                self._published_equity[event.account] = event.subject.equity

    async def health(self) -> dict[str, object]:
        """Facts for the module's health report; raises when the database cannot be read."""
        async with self.store.read() as tx:
            count = await tx.count_orders()
        report: dict[str, object] = {
            "orders": count,
            "instruments": len(self.instruments),
            "database": self.store.backend,
        }
        if self.store.backend == "postgresql":
            # Whether other replicas' events reach this one's streams at once (else at the next catch-up).
            report["outbox_listening"] = self.relay.listening
        if self._group is not None:
            stats = self._group.stats
            report["group_commit"] = {"batches": stats.batches, "orders": stats.jobs, "largest_batch": stats.largest}
        return report
