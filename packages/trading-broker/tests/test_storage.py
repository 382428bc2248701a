"""The storage layer on SQLite and on PostgreSQL: migrations, durability settings, round trips,
version checks, idempotency keys, rollback, restart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from trading_broker import BrokerStore, Execution, IdempotencyRecord, Order, OrderStatus, OrderType, Side, StatusChange
from trading_broker._database import create_engine
from trading_broker._migrate import SchemaTooNew, current, head, upgrade
from trading_broker._store import DuplicateIdempotencyKey, StaleWrite
from trading_broker._tables import VERSION_TABLE, metadata

pytestmark = pytest.mark.anyio
T0 = datetime(2025, 1, 6, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
async def store(database_url):
    opened = BrokerStore(database_url)
    await opened.open()
    await opened.reset()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has used yet, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    with request.getfixturevalue("fresh_postgres")() as url:
        yield url


def new_order(order_id: str = "o-1", *, account: str = "acc", filled: bool = True) -> Order:
    order = Order(
        id=order_id,
        account=account,
        symbol="BTCUSD",
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        quantity=0.0003,
        limit_price=65000.01,
        stop_price=None,
        created_at=T0,
        updated_at=T0,
        status_history=[StatusChange(OrderStatus.WORKING, T0, "placed")],
    )
    if filled:
        later = T0 + timedelta(seconds=1)
        order.executions.append(
            Execution("e-1", order_id, account, "BTCUSD", Side.SELL, 0.0003, 65000.5, later, realised_pnl=-1.25)
        )
        order.set_status(OrderStatus.FILLED, later, "filled at 65000.5")
    return order


def _schema_differences(connection):
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE, "compare_type": True})
    return compare_metadata(context, metadata)


async def test_migrations_build_exactly_the_declared_schema(empty_database):
    engine = create_engine(empty_database)
    try:
        assert await current(engine) is None
        await upgrade(engine)
        assert await current(engine) == head()
        async with engine.connect() as connection:
            assert await connection.run_sync(_schema_differences) == []
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables == {t.name for t in metadata.sorted_tables} | {VERSION_TABLE}
    finally:
        await engine.dispose()


async def test_workers_starting_at_once_migrate_once(empty_database):
    stores = [BrokerStore(empty_database) for _ in range(4)]
    try:
        await asyncio.gather(*(store.open() for store in stores))
        async with stores[0].engine.connect() as connection:
            versions = (await connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))).all()
        assert [v[0] for v in versions] == [head()]
        # And they work side by side at once.
        await asyncio.gather(*(_insert(store, f"o-{i}") for i, store in enumerate(stores)))
        async with stores[3].read() as tx:
            assert await tx.count_orders() == 4
    finally:
        for store in stores:
            await store.close()


async def _insert(store: BrokerStore, order_id: str) -> None:
    async with store.write() as tx:
        await tx.insert_order(new_order(order_id, filled=False))


async def test_a_sqlite_file_in_a_missing_folder_is_a_clear_error(tmp_path):
    store = BrokerStore(f"sqlite:///{tmp_path / 'nope' / 'broker.db'}")
    with pytest.raises(FileNotFoundError, match="does not exist: create it, or change database_url"):
        await store.open()


async def test_a_database_from_a_newer_release_is_refused_clearly(store, database_url):
    async with store.engine.begin() as connection:
        await connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    newer = BrokerStore(database_url)
    try:
        with pytest.raises(SchemaTooNew, match="revision '9999', which this trading-broker release does not know"):
            await newer.open()
    finally:
        await newer.close()
        async with store.engine.begin() as connection:
            await connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = :head"), {"head": head()})


async def test_durability_is_on(store):
    async with store.engine.connect() as connection:
        if store.backend == "sqlite":
            assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await connection.exec_driver_sql("PRAGMA synchronous")).scalar() == 2  # FULL
        else:
            assert (await connection.exec_driver_sql("SHOW synchronous_commit")).scalar() == "on"


async def test_an_order_round_trips_with_its_executions_and_history(store):
    order = new_order()
    async with store.write() as tx:
        await tx.insert_order(order)
    async with store.read() as tx:
        found = await tx.order("o-1")
        assert await tx.order("o-1", account="other") is None
        listed = await tx.orders("acc")
    assert found == order
    assert listed == [order]
    assert found.created_at.tzinfo is not None
    assert found.executions[0].time == T0 + timedelta(seconds=1)
    assert found.executions[0].quantity == 0.0003


async def test_a_write_from_a_stale_read_is_refused(store):
    async with store.write() as tx:
        await tx.insert_order(new_order(filled=False))
    async with store.read() as tx:
        first = await tx.order("o-1")
        second = await tx.order("o-1")
    assert first is not None
    assert second is not None
    first.set_status(OrderStatus.CANCELED, T0, "first")
    async with store.write() as tx:
        await tx.update_order(first)
    second.set_status(OrderStatus.FILLED, T0, "second")
    with pytest.raises(StaleWrite):
        async with store.write() as tx:
            await tx.update_order(second)
    async with store.read() as tx:
        stored = await tx.order("o-1")
    assert stored is not None
    assert (stored.status, stored.version) == (OrderStatus.CANCELED, 1)


async def test_an_error_rolls_the_whole_transaction_back(store):
    class Failure(Exception):
        pass

    async def fail_midway() -> None:
        async with store.write() as tx:
            await tx.insert_order(new_order())
            await tx.lock_account("acc", initial_balance=5.0, now=T0)
            raise Failure

    with pytest.raises(Failure):
        await fail_midway()
    async with store.read() as tx:
        assert await tx.orders(None) == []
        assert await tx.account("acc") is None
        assert await tx.executions("acc") == []


async def test_an_idempotency_key_is_stored_once(store):
    async with store.write() as tx:
        await tx.insert_order(new_order("o-1"))
        await tx.insert_order(new_order("o-2", filled=False))
        await tx.insert_idempotency(IdempotencyRecord("acc", "k", "f" * 64, new_order("o-1")), T0)
    with pytest.raises(DuplicateIdempotencyKey):
        async with store.write() as tx:
            await tx.insert_idempotency(IdempotencyRecord("acc", "k", "f" * 64, new_order("o-2", filled=False)), T0)
    async with store.read() as tx:
        record = await tx.idempotency("acc", "k")
        assert await tx.idempotency("other", "k") is None
    assert record is not None
    assert record.order == new_order("o-1")


async def test_accounts_and_positions_are_created_once_and_versioned(store):
    async with store.write() as tx:
        account = await tx.lock_account("acc", initial_balance=1000.0, now=T0)
        again = await tx.lock_account("acc", initial_balance=5.0, now=T0)
        assert account == again
        saved = await tx.save_account(replace(account, balance=900.0))
    assert saved.version == 1
    with pytest.raises(StaleWrite):
        async with store.write() as tx:
            await tx.save_account(replace(account, balance=1.0))
    async with store.read() as tx:
        stored = await tx.account("acc")
    assert stored is not None
    assert (stored.balance, stored.version) == (900.0, 1)


async def test_state_survives_closing_and_reopening(store, database_url):
    async with store.write() as tx:
        await tx.insert_order(new_order())
    await store.close()
    reopened = BrokerStore(database_url)
    await reopened.open()
    try:
        async with reopened.read() as tx:
            assert [o.id for o in await tx.orders("acc")] == ["o-1"]
    finally:
        await reopened.close()
        await store.open()


async def test_a_committed_write_is_seen_by_another_connection_at_once(store, database_url):
    other = create_engine(database_url)
    try:
        async with store.write() as tx:
            await tx.insert_order(new_order())
        async with other.connect() as connection:
            count = (await connection.execute(text("SELECT count(*) FROM broker_orders"))).scalar()
        assert count == 1
    finally:
        await other.dispose()


async def test_the_store_must_be_opened_first(database_url):
    closed = BrokerStore(database_url)
    with pytest.raises(RuntimeError, match="call open"):
        async with closed.read():
            pass
    assert "BrokerStore(" in repr(closed)
