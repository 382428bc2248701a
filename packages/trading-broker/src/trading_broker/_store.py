"""Durable storage of the broker's state in SQLite or PostgreSQL, one implementation for both.

Every change happens in a :meth:`BrokerStore.write` transaction that is committed before the
service answers, so an acknowledged order is on disk. Concurrent writers, in one process or in
several worker processes sharing a database, are kept apart by locks:

- PostgreSQL: rows are read ``FOR UPDATE`` before they are changed (an order, then its account,
  then the account's position), so two workers never both fill one order or both move one
  position from the same starting point;
- SQLite: a write transaction takes the database's write lock at ``BEGIN IMMEDIATE``, and in one
  process writers queue on an asyncio lock instead of polling the file lock.

Each updated row also carries a version that the ``UPDATE`` checks, so a write based on a stale
read is refused rather than lost even if a lock were missing.

A database that cannot serve (refusing connections, gone, its tables dropped) makes a transaction
raise :class:`DatabaseUnavailable`, whose message is fit for any client; the driver's error goes
to the log. Tables found missing are re-created by running the migrations again, in the background.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, bindparam, delete, false, func, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from . import _migrate, _outbox
from ._auth import StoredKey
from ._buying_power import Working
from ._database import WRITE_OPTION, create_engine, create_sync_sqlite_engine, describe, normalize_url, prepare
from ._errors import DatabaseUnavailable
from ._events import BrokerEvent
from ._models import Account, Execution, Order, OrderStatus, Position, Side
from ._rows import from_row, to_row
from ._tables import (
    VERSION_TABLE,
    accounts,
    api_keys,
    executions,
    idempotency_keys,
    metadata,
    orders,
    outbox_sequences,
    positions,
)

log = logging.getLogger("trading_broker")
T = TypeVar("T")

# SQLSTATE classes of errors that are the server's state, not the request's: connection
# exceptions, insufficient resources, operator intervention (shutdown), an unknown database,
# and transaction rollbacks (serialisation failures, deadlocks), which a retry may pass.
_UNAVAILABLE_STATES = ("08", "53", "57", "3D", "40")
_UNDEFINED_TABLE = "42P01"
# Seconds between two attempts at re-creating missing tables.
_REPAIR_PAUSE = 2.0
UNAVAILABLE = "the broker's database is not available at the moment; nothing was changed, retry in a moment"
SCHEMA_MISSING = (
    "the broker's database has lost its tables; the broker is re-creating them (as `trading-broker db upgrade` "
    "does); nothing was changed, retry in a moment"
)
SCHEMA_BROKEN = (
    "the broker's database lacks some of its tables and the broker cannot re-create them; the operator must "
    "repair the database (the server log says how)"
)


def _sqlstate(exc: BaseException) -> str | None:
    for candidate in (getattr(exc, "orig", None), exc, exc.__cause__):
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(state, str):
            return state
    return None


def classify(exc: BaseException) -> str | None:
    """``"schema"`` when ``exc`` says a table of the broker is missing, ``"unavailable"`` when it says
    the database cannot serve now (down, unreachable, shutting down, busy), ``None`` otherwise: an
    error of the request or of the code, which stays what it is."""
    if isinstance(exc, DatabaseUnavailable):
        return None
    state = _sqlstate(exc)
    message = str(getattr(exc, "orig", None) or exc)
    if state == _UNDEFINED_TABLE or "no such table" in message:
        return "schema"
    if isinstance(exc, OSError | PoolTimeout):
        return "unavailable"  # refused, reset, unreachable, timed out, or a pool with no connection to give
    if state is not None and state[:2] in _UNAVAILABLE_STATES:
        return "unavailable"
    if isinstance(exc, OperationalError | InterfaceError):
        return "unavailable"
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "unavailable"
    return None


def storable(*texts: str | None) -> bool:
    """Whether each text can reach the database as it is: PostgreSQL's text takes no NUL character,
    and neither database takes a lone surrogate, which a JSON string may hold. A lookup of a text
    that cannot be stored finds nothing, without asking the database."""
    for text in texts:
        if text is None:
            continue
        if "\x00" in text:
            return False
        try:
            text.encode()
        except UnicodeEncodeError:
            return False
    return True


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first result of a ``POST /orders`` made with an ``Idempotency-Key``."""

    account: str
    key: str
    fingerprint: str
    """A digest of the request, to tell a retry from a different request reusing the key."""
    order: Order
    """The order as it was answered the first time."""


class StaleWrite(Exception):
    """A row changed since it was read: the write was refused, nothing was stored."""


class DuplicateIdempotencyKey(Exception):
    """Another transaction stored this idempotency key first; retry to replay its answer."""


class Transaction:
    """Reads and writes inside one database transaction (see :meth:`BrokerStore.write`)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._dialect = connection.dialect.name

    # -- orders

    async def order(
        self, order_id: str, *, account: str | None = None, lock: bool = False, skip_locked: bool = False
    ) -> Order | None:
        """The order with this id (of ``account`` when given). ``lock`` holds its row until the end
        of the transaction; ``skip_locked`` answers ``None`` for a row another transaction holds."""
        if not storable(order_id):
            return None
        query = select(orders).where(orders.c.id == order_id)
        if account is not None:
            query = query.where(orders.c.account == account)
        if lock or skip_locked:
            query = query.with_for_update(skip_locked=skip_locked)
        row = (await self._connection.execute(query)).mappings().first()
        if row is None:
            return None
        found = await self._connection.execute(
            select(executions).where(executions.c.order_id == order_id).order_by(executions.c.seq)
        )
        return from_row(Order, row, executions=[from_row(Execution, e) for e in found.mappings()])

    async def orders(self, account: str, status: OrderStatus | None = None) -> list[Order]:
        """The account's orders, oldest first, optionally of one ``status``."""
        conditions: list[ColumnElement[bool]] = [orders.c.account == account]
        if status is not None:
            conditions.append(orders.c.status == status.value)
        return await self._orders_where(conditions)

    async def working_orders(
        self, *, symbols: Collection[str] | None = None, updated_since: datetime | None = None
    ) -> list[Order]:
        """Working orders of every account, oldest first: all of them, or (given either filter)
        those in ``symbols`` and those changed since ``updated_since``."""
        conditions: list[ColumnElement[bool]] = [orders.c.status == OrderStatus.WORKING.value]
        if symbols is not None or updated_since is not None:
            either: list[ColumnElement[bool]] = []
            if symbols:
                either.append(orders.c.symbol.in_(sorted(symbols)))
            if updated_since is not None:
                either.append(orders.c.updated_at >= updated_since)
            conditions.append(or_(*either) if either else false())
        return await self._orders_where(conditions)

    async def working_exposure(self, account: str, *, exclude: str | None = None) -> list[Working]:
        """The account's working orders (but ``exclude``) added up by symbol and side. A working
        order has no fill yet (fills are whole), so its quantity is what it may still add."""
        price = func.coalesce(orders.c.limit_price, orders.c.stop_price)
        query = (
            select(orders.c.symbol, orders.c.side, func.sum(orders.c.quantity), func.sum(orders.c.quantity * price))
            .where(orders.c.account == account, orders.c.status == OrderStatus.WORKING.value)
            .group_by(orders.c.symbol, orders.c.side)
            .order_by(orders.c.symbol, orders.c.side)
        )
        if exclude is not None:
            query = query.where(orders.c.id != exclude)
        rows = (await self._connection.execute(query)).all()
        return [Working(symbol, Side(side), float(q or 0), float(n or 0)) for symbol, side, q, n in rows]

    async def working_symbols(self) -> set[str]:
        """The symbols that have working orders, in any account."""
        query = select(orders.c.symbol).where(orders.c.status == OrderStatus.WORKING.value).distinct()
        return set((await self._connection.execute(query)).scalars())

    async def _orders_where(self, conditions: list[ColumnElement[bool]]) -> list[Order]:
        query = select(orders).where(*conditions).order_by(orders.c.seq)
        rows = (await self._connection.execute(query)).mappings().all()
        if not rows:
            return []
        ids = select(orders.c.id).where(*conditions)
        wanted = select(executions).where(executions.c.order_id.in_(ids)).order_by(executions.c.seq)
        by_order: dict[str, list[Execution]] = {}
        for row in (await self._connection.execute(wanted)).mappings():
            by_order.setdefault(row["order_id"], []).append(from_row(Execution, row))
        return [from_row(Order, row, executions=by_order.get(row["id"], [])) for row in rows]

    async def insert_order(self, order: Order) -> None:
        await self._connection.execute(orders.insert().values(**to_row(order, orders)))
        if order.executions:
            await self._connection.execute(executions.insert(), [to_row(e, executions) for e in order.executions])

    async def update_order(self, order: Order, new_executions: Iterable[Execution] = ()) -> Order:
        """Store ``order``'s new state; :class:`StaleWrite` when the stored version is not ``order.version``.
        Returns the order with its new version."""
        values = to_row(order, orders)
        values["version"] = order.version + 1
        result = await self._connection.execute(
            update(orders).where(orders.c.id == order.id, orders.c.version == order.version).values(**values)
        )
        if result.rowcount != 1:
            raise StaleWrite(f"order {order.id} changed since it was read")
        added = list(new_executions)
        if added:
            await self._connection.execute(executions.insert(), [to_row(e, executions) for e in added])
        order.version += 1
        return order

    async def count_orders(self) -> int:
        return int((await self._connection.execute(select(func.count()).select_from(orders))).scalar_one())

    # -- executions

    async def executions(
        self, account: str, *, order_id: str | None = None, symbol: str | None = None
    ) -> list[Execution]:
        """The account's executions, oldest first, optionally of one order or one symbol."""
        if not storable(order_id, symbol):
            return []
        query = select(executions).where(executions.c.account == account).order_by(executions.c.seq)
        if order_id is not None:
            query = query.where(executions.c.order_id == order_id)
        if symbol is not None:
            query = query.where(executions.c.symbol == symbol)
        return [from_row(Execution, r) for r in (await self._connection.execute(query)).mappings()]

    # -- accounts

    async def account(self, account_id: str, *, lock: bool = False) -> Account | None:
        query = select(accounts).where(accounts.c.id == account_id)
        if lock:
            query = query.with_for_update()
        row = (await self._connection.execute(query)).mappings().first()
        return from_row(Account, row) if row is not None else None

    async def lock_account(self, account_id: str, *, initial_balance: float, now: datetime) -> Account:
        """The account's row, created with ``initial_balance`` if new, locked until the end of the
        transaction: every fill of an account goes through here first, so fills of one account
        (and the positions they move) are serialised across processes."""
        row = Account(account_id, initial_balance, 0.0, now, now)
        await self._connection.execute(self._insert_ignore(accounts, to_row(row, accounts), ["id"]))
        found = await self.account(account_id, lock=True)
        assert found is not None, "the row was inserted or already there"
        return found

    async def save_account(self, account: Account) -> Account:
        values = to_row(account, accounts)
        values["version"] = account.version + 1
        result = await self._connection.execute(
            update(accounts).where(accounts.c.id == account.id, accounts.c.version == account.version).values(**values)
        )
        if result.rowcount != 1:
            raise StaleWrite(f"account {account.id} changed since it was read")
        return replace(account, version=account.version + 1)

    # -- positions

    async def position(self, account: str, symbol: str) -> Position | None:
        """The account's position in ``symbol`` (flat ones included); lock the account first."""
        query = select(positions).where(positions.c.account == account, positions.c.symbol == symbol)
        row = (await self._connection.execute(query)).mappings().first()
        return from_row(Position, row) if row is not None else None

    async def positions(self, account: str | None, *, open_only: bool = True) -> list[Position]:
        """Positions of ``account`` (``None``: every account) by symbol; flat ones only if asked."""
        query = select(positions).order_by(positions.c.account, positions.c.symbol)
        if account is not None:
            query = query.where(positions.c.account == account)
        if open_only:
            query = query.where(positions.c.quantity != 0)
        return [from_row(Position, r) for r in (await self._connection.execute(query)).mappings()]

    async def save_position(self, position: Position, *, new: bool) -> Position:
        values = to_row(position, positions)
        if new:
            values["version"] = 0
            await self._connection.execute(positions.insert().values(**values))
            return replace(position, version=0)
        values["version"] = position.version + 1
        result = await self._connection.execute(
            update(positions)
            .where(
                positions.c.account == position.account,
                positions.c.symbol == position.symbol,
                positions.c.version == position.version,
            )
            .values(**values)
        )
        if result.rowcount != 1:
            raise StaleWrite(f"position {position.account}/{position.symbol} changed since it was read")
        return replace(position, version=position.version + 1)

    # -- idempotency keys

    async def idempotency(self, account: str, key: str) -> IdempotencyRecord | None:
        if not storable(key):
            return None
        query = select(idempotency_keys).where(idempotency_keys.c.account == account, idempotency_keys.c.key == key)
        row = (await self._connection.execute(query)).mappings().first()
        if row is None:
            return None
        return IdempotencyRecord(account, key, row["fingerprint"], from_row(Order, row["response"]))

    async def insert_idempotency(self, record: IdempotencyRecord, now: datetime) -> None:
        """Store the first answer for a key; :class:`DuplicateIdempotencyKey` when another
        transaction stored the key first (the caller's transaction is then spoilt: retry it)."""
        values = {
            "account": record.account,
            "key": record.key,
            "fingerprint": record.fingerprint,
            "order_id": record.order.id,
            "response": record.order,
            "created_at": now,
        }
        try:
            await self._connection.execute(idempotency_keys.insert().values(**values))
        except IntegrityError as exc:
            raise DuplicateIdempotencyKey(record.key) from exc

    # -- API keys

    async def insert_api_key(self, key: StoredKey) -> None:
        await self._connection.execute(api_keys.insert().values(**to_row(key, api_keys)))

    async def api_key(self, key_id: str) -> StoredKey | None:
        row = (await self._connection.execute(select(api_keys).where(api_keys.c.id == key_id))).mappings().first()
        return from_row(StoredKey, row) if row is not None else None

    async def api_keys(self, account: str | None = None) -> list[StoredKey]:
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        if account is not None:
            query = query.where(api_keys.c.account == account)
        return [from_row(StoredKey, r) for r in (await self._connection.execute(query)).mappings()]

    async def revoke_api_key(self, key_id: str, at: datetime) -> StoredKey | None:
        """Mark the key revoked (once; a second revocation keeps the first time)."""
        await self._connection.execute(
            update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=at)
        )
        return await self.api_key(key_id)

    # --

    async def append_events(self, events: Sequence[BrokerEvent]) -> list[BrokerEvent]:
        """Write ``events`` to the outbox in this transaction, numbered (see ``_outbox.append``)."""
        if not events:
            return []
        return await self._connection.run_sync(lambda sync: _outbox.append(sync, events))

    def _insert_ignore(self, table: Any, values: Mapping[str, Any], keys: list[str]) -> Any:
        # Both databases spell "insert unless the key exists" ON CONFLICT DO NOTHING; SQLAlchemy
        # offers it per dialect only.
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        return insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)


def _expanding(name: str) -> Any:
    return bindparam(name, expanding=True)


# The batch's statements, built once: SQLAlchemy then finds each compiled in its cache without
# building and keying a new statement per batch, which cost more than running it.
_LOCK_ACCOUNTS = select(accounts).where(accounts.c.id.in_(_expanding("ids"))).order_by(accounts.c.id).with_for_update()
_INSERT_ACCOUNTS = {
    "postgresql": postgresql.insert(accounts).on_conflict_do_nothing(index_elements=["id"]),
    "sqlite": sqlite.insert(accounts).on_conflict_do_nothing(index_elements=["id"]),
}
_POSITIONS_OF = select(positions).where(positions.c.account.in_(_expanding("ids")))
_WORKING_OF = (
    select(
        orders.c.account,
        orders.c.symbol,
        orders.c.side,
        func.sum(orders.c.quantity),
        func.sum(orders.c.quantity * func.coalesce(orders.c.limit_price, orders.c.stop_price)),
    )
    .where(orders.c.account.in_(_expanding("ids")), orders.c.status == OrderStatus.WORKING.value)
    .group_by(orders.c.account, orders.c.symbol, orders.c.side)
)
_IDEMPOTENCY_OF = select(idempotency_keys).where(
    tuple_(idempotency_keys.c.account, idempotency_keys.c.key).in_(_expanding("pairs"))
)
_INSERT_ORDERS = orders.insert()
_INSERT_EXECUTIONS = executions.insert()
_INSERT_IDEMPOTENCY = idempotency_keys.insert()
_INSERT_POSITION = positions.insert()
# The new values go in under the columns' names; the row is found by the b_* parameters.
_UPDATE_POSITION = update(positions).where(
    positions.c.account == bindparam("b_account"),
    positions.c.symbol == bindparam("b_symbol"),
    positions.c.version == bindparam("b_version"),
)
_UPDATE_ACCOUNT = update(accounts).where(
    accounts.c.id == bindparam("b_id"), accounts.c.version == bindparam("b_version")
)


class BatchTransaction:
    """The reads and writes of a batch of placements (group commit), each one statement for the
    whole batch, on a synchronous connection: run in the store's SQLite writer thread, or through
    ``run_sync`` on PostgreSQL (see :meth:`BrokerStore.write_batch`)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._dialect = connection.dialect.name

    def lock_accounts(
        self, account_ids: Collection[str], *, initial_balance: float, now: datetime
    ) -> dict[str, Account]:
        """The rows of these accounts, created with ``initial_balance`` where new, locked until the
        end of the transaction, in the order of their ids (so that two batches locking the same
        accounts in other processes cannot deadlock): :meth:`Transaction.lock_account` for many at once."""
        ids = sorted(account_ids)
        if not ids:
            return {}
        execute = self._connection.execute
        found = {row["id"]: from_row(Account, row) for row in execute(_LOCK_ACCOUNTS, {"ids": ids}).mappings()}
        if len(found) < len(ids):  # new accounts: created, then all locked again in the order of their ids
            rows = [to_row(Account(i, initial_balance, 0.0, now, now), accounts) for i in ids if i not in found]
            execute(_INSERT_ACCOUNTS[self._dialect], rows)
            found = {row["id"]: from_row(Account, row) for row in execute(_LOCK_ACCOUNTS, {"ids": ids}).mappings()}
        assert len(found) == len(ids), "the rows were inserted or already there"
        return found

    def positions_of(self, account_ids: Collection[str]) -> dict[tuple[str, str], Position]:
        """Every position (flat ones included) of these accounts, by (account, symbol); lock the
        accounts first."""
        if not account_ids:
            return {}
        rows = self._connection.execute(_POSITIONS_OF, {"ids": sorted(account_ids)}).mappings()
        return {(row["account"], row["symbol"]): from_row(Position, row) for row in rows}

    def working_exposures(self, account_ids: Collection[str]) -> dict[tuple[str, str, Side], list[float]]:
        """:meth:`Transaction.working_exposure` of many accounts: ``[quantity, notional]`` by
        (account, symbol, side)."""
        if not account_ids:
            return {}
        rows = self._connection.execute(_WORKING_OF, {"ids": sorted(account_ids)}).all()
        return {(a, symbol, Side(side)): [float(q or 0), float(n or 0)] for a, symbol, side, q, n in rows}

    def idempotency_many(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], IdempotencyRecord]:
        """:meth:`Transaction.idempotency` of many (account, key) pairs at once; those not stored
        are left out."""
        wanted = sorted((account, key) for account, key in keys if storable(key))
        if not wanted:
            return {}
        return {
            (row["account"], row["key"]): IdempotencyRecord(
                row["account"], row["key"], row["fingerprint"], from_row(Order, row["response"])
            )
            for row in self._connection.execute(_IDEMPOTENCY_OF, {"pairs": wanted}).mappings()
        }

    def insert_placed(self, new_orders: Sequence[Order], records: Sequence[tuple[IdempotencyRecord, datetime]]) -> None:
        """Store new orders with their executions, and their idempotency records, each table in
        one statement; :class:`DuplicateIdempotencyKey` when another transaction stored a key first."""
        if new_orders:
            self._connection.execute(_INSERT_ORDERS, [to_row(o, orders) for o in new_orders])
            fills = [to_row(e, executions) for o in new_orders for e in o.executions]
            if fills:
                self._connection.execute(_INSERT_EXECUTIONS, fills)
        if records:
            values = [
                {
                    "account": record.account,
                    "key": record.key,
                    "fingerprint": record.fingerprint,
                    "order_id": record.order.id,
                    "response": record.order,
                    "created_at": at,
                }
                for record, at in records
            ]
            try:
                self._connection.execute(_INSERT_IDEMPOTENCY, values)
            except IntegrityError as exc:
                raise DuplicateIdempotencyKey(", ".join(r.key for r, _ in records)) from exc

    def save_position(self, position: Position, *, new: bool) -> None:
        """:meth:`Transaction.save_position`; :class:`StaleWrite` when the stored version moved."""
        values = to_row(position, positions)
        if new:
            values["version"] = 0
            self._connection.execute(_INSERT_POSITION, values)
            return
        values["version"] = position.version + 1
        where = {"b_account": position.account, "b_symbol": position.symbol, "b_version": position.version}
        if self._connection.execute(_UPDATE_POSITION, {**values, **where}).rowcount != 1:
            raise StaleWrite(f"position {position.account}/{position.symbol} changed since it was read")

    def save_account(self, account: Account) -> None:
        """:meth:`Transaction.save_account`; :class:`StaleWrite` when the stored version moved."""
        values = to_row(account, accounts)
        values["version"] = account.version + 1
        where = {"b_id": account.id, "b_version": account.version}
        if self._connection.execute(_UPDATE_ACCOUNT, {**values, **where}).rowcount != 1:
            raise StaleWrite(f"account {account.id} changed since it was read")

    def append_events(self, events: Sequence[BrokerEvent]) -> list[BrokerEvent]:
        """:meth:`Transaction.append_events`."""
        return _outbox.append(self._connection, events)


class BatchSteps:
    """A write transaction run step by step: each :meth:`run` hands a :class:`BatchTransaction`
    to a function, which does its statements at once. On SQLite a step is one trip to the store's
    writer thread, however many statements it runs (the async driver would cross threads several
    times a statement); on PostgreSQL the steps run through ``run_sync`` on the event loop."""

    def __init__(
        self,
        *,
        connection: AsyncConnection | None = None,
        sync: Connection | None = None,
        executor: ThreadPoolExecutor | None = None,
    ) -> None:
        self._connection = connection
        self._sync = sync
        self._executor = executor

        self.committed = False

    async def run(self, step: Callable[[BatchTransaction], T], *, last: bool = False) -> T:
        """``step``'s result; ``last``: the transaction's last step, after which (on SQLite, in
        the same trip to the writer thread) it is committed."""
        if self._connection is not None:
            return await self._connection.run_sync(lambda sync: step(BatchTransaction(sync)))
        assert self._sync is not None
        assert self._executor is not None
        sync = self._sync

        def work() -> T:
            result = step(BatchTransaction(sync))
            if last:
                sync.commit()
                self.committed = True
            return result

        return await asyncio.get_running_loop().run_in_executor(self._executor, work)


class BrokerStore:
    """The broker's database: opened (and migrated) once, then read and written in transactions."""

    def __init__(self, url: str | URL) -> None:
        self.url = url if isinstance(url, URL) else normalize_url(url)
        self._engine: AsyncEngine | None = None
        self._write_lock: asyncio.Lock | None = None
        # SQLite's batch writes: a synchronous engine used by one thread of its own.
        self._sync_engine: Engine | None = None
        self._writer_thread: ThreadPoolExecutor | None = None
        self._repair: asyncio.Task[None] | None = None
        self._repaired_at = 0.0
        self._schema_broken = False

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.url.get_backend_name()

    def __repr__(self) -> str:
        return f"BrokerStore({describe(self.url)!r})"

    async def open(self) -> None:
        """Connect, and bring the schema to this release's revision."""
        if self._engine is not None:
            return
        await prepare(self.url)
        engine = create_engine(self.url)
        try:
            await _migrate.upgrade(engine)
        except BaseException:
            await engine.dispose()
            raise
        self._engine = engine
        self._write_lock = asyncio.Lock() if self.backend == "sqlite" else None

    async def check(self) -> None:
        """Connect once and close again, without migrating; raises what connecting raises."""
        await prepare(self.url)
        engine = create_engine(self.url)
        try:
            async with engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
        finally:
            await engine.dispose()

    async def close(self) -> None:
        """Close every connection."""
        repair, self._repair = self._repair, None
        if repair is not None:
            repair.cancel()
            await asyncio.gather(repair, return_exceptions=True)
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.dispose()
        sync_engine, self._sync_engine = self._sync_engine, None
        thread, self._writer_thread = self._writer_thread, None
        if thread is not None:
            if sync_engine is not None:
                await asyncio.get_running_loop().run_in_executor(thread, sync_engine.dispose)
            thread.shutdown(wait=False)

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("the broker store is not open: call open() first (the module's lifespan does)")
        return self._engine

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Transaction]:
        """A transaction that changes state: committed when the block ends, rolled back on error."""
        guard: AbstractAsyncContextManager[Any] = self._write_lock if self._write_lock is not None else nullcontext()
        with self._unavailable_as_such():
            async with guard, self.engine.connect() as connection:
                connection = await connection.execution_options(**{WRITE_OPTION: True})
                async with connection.begin():
                    yield Transaction(connection)

    @asynccontextmanager
    async def write_batch(self) -> AsyncIterator[BatchSteps]:
        """A transaction that changes state, run in :class:`BatchSteps`: committed when the block
        ends, rolled back on error. Writers queue as for :meth:`write`."""
        with self._unavailable_as_such():
            if self.backend != "sqlite":
                async with self.engine.connect() as connection:
                    connection = await connection.execution_options(**{WRITE_OPTION: True})
                    async with connection.begin():
                        yield BatchSteps(connection=connection)
                return
            assert self._write_lock is not None
            async with self._write_lock:
                thread = self._sqlite_writer()
                loop = asyncio.get_running_loop()
                sync = await loop.run_in_executor(thread, self._sqlite_begin)
                steps = BatchSteps(sync=sync, executor=thread)
                try:
                    yield steps
                except BaseException:
                    # Shielded: a cancelled caller must not leave the write lock of the file taken.
                    await asyncio.shield(loop.run_in_executor(thread, self._sqlite_end, sync, False))
                    raise
                if steps.committed:
                    sync.close()  # back to the pool: nothing left to say to the database
                else:
                    await loop.run_in_executor(thread, self._sqlite_end, sync, True)

    def _sqlite_writer(self) -> ThreadPoolExecutor:
        if self._writer_thread is None:
            self._sync_engine = create_sync_sqlite_engine(self.url)
            self._writer_thread = ThreadPoolExecutor(1, thread_name_prefix="trading-broker-sqlite-writer")
        return self._writer_thread

    def _sqlite_begin(self) -> Connection:
        assert self._sync_engine is not None
        connection = self._sync_engine.connect().execution_options(**{WRITE_OPTION: True})
        try:
            connection.begin()
        except BaseException:
            connection.close()
            raise
        return connection

    @staticmethod
    def _sqlite_end(connection: Connection, commit: bool) -> None:
        if connection.closed:
            return
        try:
            if commit:
                connection.commit()
            else:
                connection.rollback()
        finally:
            connection.close()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Transaction]:
        """A read-only transaction: one consistent view of the data, no locks taken."""
        with self._unavailable_as_such():
            async with self.engine.connect() as connection:
                if self.backend == "postgresql":
                    # One snapshot for the whole transaction, so orders and their executions agree.
                    connection = await connection.execution_options(isolation_level="REPEATABLE READ")
                async with connection.begin():
                    yield Transaction(connection)

    @contextmanager
    def _unavailable_as_such(self) -> Iterator[None]:
        """Turn the database's "I cannot serve now" into :class:`DatabaseUnavailable`, with a message
        fit for any client (the driver's error, which may name the database, goes to the log), and
        start re-creating the tables when they are gone."""
        try:
            yield
        except Exception as exc:
            kind = classify(exc)
            if kind is None:
                raise
            log.warning("the broker's database cannot serve: %s: %s", type(exc).__name__, exc)
            if kind == "schema":
                self._start_repair()
                if self._schema_broken:
                    raise DatabaseUnavailable(SCHEMA_BROKEN, retry_after=60, schema_missing=True) from exc
                raise DatabaseUnavailable(SCHEMA_MISSING, schema_missing=True) from exc
            raise DatabaseUnavailable(UNAVAILABLE) from exc

    def _start_repair(self) -> None:
        # One repair at a time, and after a failed one a pause, so a flood of requests does not
        # become a flood of migrations.
        if self._repair is not None and not self._repair.done():
            return
        loop = asyncio.get_running_loop()
        if self._repair is not None and loop.time() - self._repaired_at < _REPAIR_PAUSE:
            return
        self._repaired_at = loop.time()
        self._repair = loop.create_task(self._repair_schema(), name="trading-broker schema")

    async def _repair_schema(self) -> None:
        """Run the migrations again, as at start-up: a database dropped and created again empty gets
        its tables back. Tables dropped behind a version table that still says they are there are
        beyond the migrations: the log says what to run."""
        try:
            await _migrate.upgrade(self.engine)
            missing = await _migrate.missing_tables(self.engine)
        except Exception:
            log.exception("re-creating the broker's tables failed; the next request that finds them missing retries")
            return
        if missing:
            self._schema_broken = True
            log.error(
                "the broker's tables %s are missing although %s says the schema is current: restore them from a "
                "backup, or (losing the broker's data) drop every broker_* table including %s and run "
                "`trading-broker db upgrade`, then restart the server",
                ", ".join(missing),
                VERSION_TABLE,
                VERSION_TABLE,
            )
            return
        self._schema_broken = False
        log.warning("the broker's tables were missing from %s and have been created again, empty", describe(self.url))

    async def reset(self) -> None:
        """Delete every row (the schema stays) but the outbox's sequence counters, so that event
        numbers never start again (a relay or a stream client may hold one): for tests and benchmarks."""
        async with self.write() as tx:
            for table in reversed(metadata.sorted_tables):
                if table is not outbox_sequences:
                    await tx._connection.execute(delete(table))
