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
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, false, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from . import _migrate
from ._auth import StoredKey
from ._database import WRITE_OPTION, create_engine, describe, normalize_url, prepare
from ._models import Account, Execution, Order, OrderStatus, Position
from ._rows import from_row, to_json, to_row
from ._tables import accounts, api_keys, executions, idempotency_keys, metadata, orders, positions


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
            "response": to_json(record.order),
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

    def _insert_ignore(self, table: Any, values: Mapping[str, Any], keys: list[str]) -> Any:
        # Both databases spell "insert unless the key exists" ON CONFLICT DO NOTHING; SQLAlchemy
        # offers it per dialect only.
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        return insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)


class BrokerStore:
    """The broker's database: opened (and migrated) once, then read and written in transactions."""

    def __init__(self, url: str | URL) -> None:
        self.url = url if isinstance(url, URL) else normalize_url(url)
        self._engine: AsyncEngine | None = None
        self._write_lock: asyncio.Lock | None = None

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

    async def close(self) -> None:
        """Close every connection."""
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.dispose()

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("the broker store is not open: call open() first (the module's lifespan does)")
        return self._engine

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Transaction]:
        """A transaction that changes state: committed when the block ends, rolled back on error."""
        guard: AbstractAsyncContextManager[Any] = self._write_lock if self._write_lock is not None else nullcontext()
        async with guard, self.engine.connect() as connection:
            connection = await connection.execution_options(**{WRITE_OPTION: True})
            async with connection.begin():
                yield Transaction(connection)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Transaction]:
        """A read-only transaction: one consistent view of the data, no locks taken."""
        async with self.engine.connect() as connection:
            if self.backend == "postgresql":
                # One snapshot for the whole transaction, so orders and their executions agree.
                connection = await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                yield Transaction(connection)

    async def reset(self) -> None:
        """Delete every row (the schema stays): for tests and benchmarks."""
        async with self.write() as tx:
            for table in reversed(metadata.sorted_tables):
                await tx._connection.execute(delete(table))
